// Issue 10, test 4: the real dbt-materialize blue/green deployment run by a deploy role that is
// not a superuser and holds only what the docs list (USAGE and CREATE on the database,
// CREATECLUSTER, ownership of the production schemas and clusters). dbt-materialize then runs
// its permission checks and copies production's grants to green for real. A missing privilege
// fails with Materialize's error. The tests run in order and share one emulator.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import { startEmulator, type Emulator, type Login } from '../../dev/emulator/index.js'
import { withPgClient } from '../../dev/pg.js'
import { copyFixtureProject, type DbtProject, type DbtResult } from './support/dbt.js'

const DEPLOYER: Login = { user: 'deployer', password: 'deployer-password' }
const DEPLOY = ['--vars', 'deploy: True']

jest.setTimeout(900_000) // a bound for hung tests only: dbt takes minutes on a loaded machine

let emulator: Emulator
let project: DbtProject

/** Runs Materialize SQL through the emulator, one statement per message, as `login`. */
async function sql(login: Login, ...statements: string[]): Promise<Array<Record<string, unknown>>> {
  return withPgClient(emulator.url(undefined, login), async (client) => {
    let rows: Array<Record<string, unknown>> = []
    for (const statement of statements)
      rows = (await client.query<Record<string, unknown>>(statement)).rows
    return rows
  })
}

const asSuperuser = (...statements: string[]) => sql(emulator, ...statements)

async function refusal(
  login: Login,
  statement: string
): Promise<{ code?: string; message: string }> {
  try {
    await sql(login, statement)
  } catch (error) {
    const { code, message } = error as { code?: string; message: string }
    return { code, message }
  }
  throw new Error(`${statement} was accepted`)
}

function expectSuccess(result: DbtResult): void {
  if (result.code !== 0) throw new Error(`dbt failed (${result.code}):\n${result.output}`)
}

async function privileges(relation: 'mz_schemas' | 'mz_clusters', name: string): Promise<string[]> {
  const [row] = await asSuperuser(
    `SELECT privileges FROM mz_catalog.${relation} WHERE name = '${name}'`
  )
  return row!.privileges as string[]
}

async function defaultPrivileges(schema: string): Promise<Array<Record<string, unknown>>> {
  return asSuperuser(`
    SELECT object_owner, object_type, grantee, privilege_type
    FROM mz_internal.mz_show_default_privileges
    WHERE database = current_database() AND schema = '${schema}'
    ORDER BY 1, 2, 3, 4`)
}

/** Each production and green object with its id and cluster. */
async function placement(): Promise<Record<string, { id: string; cluster: string | null }>> {
  const rows = await emulator.control.query<{ key: string; id: string; cluster: string | null }>(`
    SELECT s.name || '.' || o.name AS key, o.id, c.name AS cluster
    FROM mz_catalog.mz_objects o
    JOIN mz_catalog.mz_schemas s ON s.id = o.schema_id
    LEFT JOIN mz_catalog.mz_clusters c ON c.id = o.cluster_id
    WHERE o.id LIKE 'u%' AND s.name IN ('prod', 'prod_dbt_deploy')`)
  return Object.fromEntries(rows.map((r) => [r.key, { id: r.id, cluster: r.cluster }]))
}

async function greenExists(): Promise<boolean> {
  const rows = await asSuperuser(`
    SELECT name FROM mz_catalog.mz_schemas WHERE name = 'prod_dbt_deploy'
    UNION ALL SELECT name FROM mz_catalog.mz_clusters WHERE name = 'analytics_dbt_deploy'`)
  return rows.length > 0
}

beforeAll(async () => {
  emulator = await startEmulator()
  project = copyFixtureProject(emulator, { login: DEPLOYER })
  await asSuperuser(
    `CREATE ROLE deployer WITH LOGIN PASSWORD '${DEPLOYER.password}'`,
    'CREATE ROLE reader',
    // The privileges the Materialize docs list for a blue/green deploy role.
    'GRANT USAGE, CREATE ON DATABASE materialize TO deployer',
    'GRANT CREATECLUSTER ON SYSTEM TO deployer',
    'CREATE SCHEMA prod',
    'ALTER SCHEMA prod OWNER TO deployer',
    `CREATE CLUSTER analytics (SIZE = '25cc')`,
    'ALTER CLUSTER analytics OWNER TO deployer',
    // Production's grants, which deploy_init must copy to green.
    'GRANT USAGE ON SCHEMA prod TO reader',
    'GRANT USAGE ON CLUSTER analytics TO reader',
    'ALTER DEFAULT PRIVILEGES FOR ROLE deployer IN SCHEMA prod GRANT SELECT ON TABLES TO reader'
  )
})

afterAll(async () => {
  project?.remove()
  await emulator?.stop()
})

describe('a blue/green deployment as a non-superuser deploy role', () => {
  it('the deploy role is no superuser and holds CREATECLUSTER', async () => {
    const [row] = await sql(
      DEPLOYER,
      `SELECT mz_is_superuser() AS superuser, has_system_privilege('CREATECLUSTER') AS createcluster`
    )
    expect(row).toEqual({ superuser: false, createcluster: true })
  })

  it('builds production as the deploy role', async () => {
    expectSuccess(await project.run(['seed']))
    expectSuccess(await project.run(['run']))
    expect(Object.keys(await placement())).toContain('prod.order_totals')
  })

  it("deploy_init passes the permission checks and copies production's grants to green", async () => {
    expectSuccess(await project.run(['run-operation', 'deploy_init']))
    const [owners] = await asSuperuser(`
      SELECT (SELECT r.name FROM mz_schemas s JOIN mz_roles r ON r.id = s.owner_id
              WHERE s.name = 'prod_dbt_deploy') AS schema_owner,
             (SELECT r.name FROM mz_clusters c JOIN mz_roles r ON r.id = c.owner_id
              WHERE c.name = 'analytics_dbt_deploy') AS cluster_owner`)
    expect(owners).toEqual({ schema_owner: 'deployer', cluster_owner: 'deployer' })
    const prodSchema = await privileges('mz_schemas', 'prod')
    expect(prodSchema).toHaveLength(2) // the owner's, and reader's USAGE
    expect(await privileges('mz_schemas', 'prod_dbt_deploy')).toEqual(prodSchema)
    const prodCluster = await privileges('mz_clusters', 'analytics')
    expect(prodCluster).toHaveLength(2)
    expect(await privileges('mz_clusters', 'analytics_dbt_deploy')).toEqual(prodCluster)
    expect(await defaultPrivileges('prod_dbt_deploy')).toEqual([
      {
        object_owner: 'deployer',
        object_type: 'table',
        grantee: 'reader',
        privilege_type: 'SELECT'
      }
    ])
    expect(await defaultPrivileges('prod_dbt_deploy')).toEqual(await defaultPrivileges('prod'))
  })

  it('builds green, promotes it and cleans up as the deploy role', async () => {
    expectSuccess(await project.run(['run', ...DEPLOY]))
    const before = await placement()
    expectSuccess(await project.run(['run-operation', 'deploy_promote']))
    expect((await placement())['prod.order_totals']!.id).toBe(
      before['prod_dbt_deploy.order_totals']!.id
    )
    // The copied default privilege reached the objects green built.
    const [readable] = await emulator.control.query(
      `SELECT has_table_privilege('reader', 'prod.order_totals', 'SELECT') AS ok`
    )
    expect(readable).toEqual({ ok: true })
    expectSuccess(await project.run(['run-operation', 'deploy_cleanup']))
    expect(await greenExists()).toBe(false)
  })

  it('without CREATECLUSTER, deploy_init stops before creating anything', async () => {
    await asSuperuser('REVOKE CREATECLUSTER ON SYSTEM FROM deployer')
    try {
      const init = await project.run(['run-operation', 'deploy_init'])
      expect(init.code).not.toBe(0)
      expect(init.output).toMatch(/needs CREATECLUSTER/)
      expect(await greenExists()).toBe(false)
      expect(
        await refusal(DEPLOYER, `CREATE CLUSTER analytics_dbt_deploy (SIZE = '25cc')`)
      ).toEqual({
        code: '42501',
        message: 'permission denied for SYSTEM'
      })
    } finally {
      await asSuperuser('GRANT CREATECLUSTER ON SYSTEM TO deployer')
    }
  })

  it('without ownership of the production schema, the swap fails as in Materialize and production stays', async () => {
    await asSuperuser('ALTER SCHEMA prod OWNER TO materialize')
    try {
      // dbt-materialize's ownership check never fires (MaterializeInc/materialize#38069): the
      // deploy gets as far as the swap.
      expectSuccess(await project.run(['run-operation', 'deploy_init']))
      expectSuccess(await project.run(['run', ...DEPLOY]))
      const before = await placement()
      const promote = await project.run(['run-operation', 'deploy_promote'])
      expect(promote.code).not.toBe(0)
      expect(promote.output).toMatch(/must be owner of SCHEMA materialize\.prod\b/)
      expect(await placement()).toEqual(before)
    } finally {
      await asSuperuser('ALTER SCHEMA prod OWNER TO deployer')
    }
    expectSuccess(await project.run(['run-operation', 'deploy_cleanup']))
    expect(await greenExists()).toBe(false)
  })

  it("refuses a role without privileges in Materialize's words, and reports what it holds", async () => {
    const intruder: Login = { user: 'intruder', password: 'intruder-password' }
    await asSuperuser(
      `CREATE ROLE intruder WITH LOGIN PASSWORD '${intruder.password}'`,
      'GRANT reader TO intruder'
    )
    const refusals = {
      schema: await refusal(intruder, 'CREATE SCHEMA elsewhere'),
      view: await refusal(intruder, 'CREATE VIEW prod.v AS SELECT 1 AS x'),
      swap: await refusal(intruder, 'ALTER CLUSTER analytics SWAP WITH quickstart'),
      drop: await refusal(intruder, 'DROP SCHEMA prod CASCADE'),
      system: await refusal(intruder, 'GRANT CREATECLUSTER ON SYSTEM TO intruder')
    }
    expect(refusals).toEqual({
      schema: { code: '42501', message: 'permission denied for DATABASE "materialize"' },
      view: { code: '42501', message: 'permission denied for SCHEMA "materialize.prod"' },
      swap: { code: '42501', message: 'must be owner of CLUSTER analytics, CLUSTER quickstart' },
      drop: { code: '42501', message: 'must be owner of SCHEMA materialize.prod' },
      system: { code: '42501', message: 'permission denied to GRANT/REVOKE SYSTEM PRIVILEGES' }
    })
    const [held] = await sql(
      intruder,
      `SELECT mz_is_superuser() AS superuser,
              has_cluster_privilege('analytics', 'USAGE') AS analytics_usage,
              has_cluster_privilege('analytics', 'CREATE') AS analytics_create,
              (SELECT array_agg(privilege_type ORDER BY privilege_type)
                 FROM mz_internal.mz_show_my_database_privileges) AS database_privileges`
    )
    // USAGE on analytics comes through membership in reader; PUBLIC has USAGE on the database.
    expect(held).toEqual({
      superuser: false,
      analytics_usage: true,
      analytics_create: false,
      database_privileges: ['USAGE']
    })
    const members = await asSuperuser(`
      SELECT r.name AS role, m.name AS member FROM mz_role_members rm
      JOIN mz_roles r ON r.id = rm.role_id JOIN mz_roles m ON m.id = rm.member`)
    expect(members).toEqual([{ role: 'reader', member: 'intruder' }])
  })

  it("has no SET ROLE, as Materialize: a profile's role cannot switch the session", async () => {
    // PostgreSQL would switch to reader here; Materialize (and so dbt-materialize's `set role`
    // for a profile's `role:`) fails, and the session keeps its login.
    expect(await refusal(DEPLOYER, 'set role reader')).toEqual({
      code: '42601',
      message: 'Expected equals sign or TO, found identifier "reader"'
    })
    expect(await refusal(DEPLOYER, 'SET SESSION ROLE = reader')).toEqual({
      code: '42704',
      message: 'unrecognized configuration parameter "role"'
    })
    expect(await sql(DEPLOYER, 'SELECT current_role AS role')).toEqual([{ role: 'deployer' }])
  })
})

// Blue/green as a deploy role that is not a superuser (issue 10, test 4): with the privileges
// the Materialize docs list (USAGE and CREATE on the database, CREATECLUSTER, ownership of the
// production schema and cluster), `phase: all` deploys; without ownership of the production
// cluster, the swap fails with Materialize's error and production stays as it was.
// Emulator-only: the roles and grants are set up by the emulator's superuser.
import { expect, it, jest } from '@jest/globals'
import { describeEmulatorOnly } from './support/backends.js'
import {
  GREEN_CLUSTER,
  GREEN_SCHEMA,
  PROD_CLUSTER,
  PROD_SCHEMA,
  errorText,
  expectOutputs,
  greenLeftovers,
  production,
  releaseModel,
  sql,
  useBlueGreenSuite
} from './support/bluegreen.js'
import { CANARY_PASSWORD } from './support/paths.js'
import { expectExit } from './support/slim.js'

jest.setTimeout(900_000) // a bound for hung tests only: runs take minutes on a loaded machine

const DEPLOYER = 'deployer'
// The canary, so every run also proves the action masks the deploy role's password.
const DEPLOYER_PASSWORD = CANARY_PASSWORD
const SEED_SCHEMA = 'prod_raw'

/** The fixture profile's user and (masked) password, as the deploy role. */
const AS_DEPLOYER = { MZ_USER: DEPLOYER, DBT_ENV_SECRET_MZ_PASSWORD: DEPLOYER_PASSWORD }

describeEmulatorOnly(
  "the deploy role, its password and grants are made through the emulator's superuser"
)('blue/green as a non-superuser deploy role', () => {
  const suite = useBlueGreenSuite('bg-roles')

  async function asSuperuser(...statements: string[]): Promise<void> {
    for (const statement of statements) await sql(suite.emulator, statement)
  }

  it('deploys with the documented privileges, and no superuser', async () => {
    await asSuperuser(
      `CREATE ROLE ${DEPLOYER} WITH LOGIN PASSWORD '${DEPLOYER_PASSWORD}'`,
      `GRANT USAGE, CREATE ON DATABASE materialize TO ${DEPLOYER}`,
      `GRANT CREATECLUSTER ON SYSTEM TO ${DEPLOYER}`,
      `ALTER SCHEMA ${PROD_SCHEMA} OWNER TO ${DEPLOYER}`,
      `ALTER CLUSTER ${PROD_CLUSTER} OWNER TO ${DEPLOYER}`,
      // Green reads the seed, which the superuser loaded: reading needs USAGE on its schema
      // and SELECT (the emulator refuses otherwise, as Materialize does).
      `GRANT USAGE ON SCHEMA ${SEED_SCHEMA} TO ${DEPLOYER}`,
      `GRANT SELECT ON ${SEED_SCHEMA}.raw_orders TO ${DEPLOYER}`
    )
    const before = await production(suite.emulator)
    suite.ws.commit('Release v2', releaseModel('v2'))

    const result = await suite.run({}, { env: AS_DEPLOYER })
    expectExit(result, 0)
    expectOutputs(result, { status: 'promoted', deployed: 'true', promoted: 'true' })
    const after = await production(suite.emulator)
    expect(after.release).toBe('v2')
    expect(after.clusters[PROD_CLUSTER]).not.toBe(before.clusters[PROD_CLUSTER])
    expect(await greenLeftovers(suite.emulator)).toEqual([])
    // Green was the deploy role's own: production now belongs to it.
    const [owner] = await sql<{ name: string }>(
      suite.emulator,
      `SELECT r.name FROM mz_catalog.mz_schemas s JOIN mz_catalog.mz_roles r ON r.id = s.owner_id
        WHERE s.name = '${PROD_SCHEMA}'`
    )
    expect(owner).toEqual({ name: DEPLOYER })
  })

  it('without ownership of the production cluster, fails at the swap and leaves production as it was', async () => {
    await asSuperuser(`ALTER CLUSTER ${PROD_CLUSTER} OWNER TO materialize`)
    const before = await production(suite.emulator)
    suite.ws.commit('Release v3', releaseModel('v3'))

    const result = await suite.run({}, { env: AS_DEPLOYER })
    expectExit(result, 1)
    expect(result.outputs.promoted).not.toBe('true')
    expect(`${errorText(result)}\n${result.stdout}`).toMatch(
      new RegExp(`must be owner of CLUSTER ${PROD_CLUSTER}\\b`)
    )
    expect(await production(suite.emulator)).toEqual(before)
    expect(before.release).toBe('v2')
    // Whatever green is left, it is only green: the swap changed nothing.
    for (const leftover of await greenLeftovers(suite.emulator))
      expect([`schema ${GREEN_SCHEMA}`, `cluster ${GREEN_CLUSTER}`]).toContain(leftover)
  })
})

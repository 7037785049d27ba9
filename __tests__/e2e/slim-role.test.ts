// Issue 11, test 5: the profile's `role` is used for the action's own queries, as dbt uses it.
// The login holds the owning role without inheriting its rights (NOINHERIT), so only a session
// that switched to the role (`set role`, as dbt-postgres does) can drop what dbt built as it.
// On Materialize, which has no SET ROLE, the field is refused before anything is touched.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fixturesDir } from './support/paths.js'
import { postgres } from './support/warehouse.js'
import { pullRequestEvent, runAction, type ActionRun } from './support/runner.js'
import { createBucket } from './support/s3.js'
import { annotationsOf, expectCanaryHidden, expectExit, slimInputs } from './support/slim.js'
import { createWorkspace, type Workspace } from './support/workspace.js'

jest.setTimeout(900_000) // a bound for hung tests only: runs take minutes on a loaded machine

const PR = 173
const OWNER = 'e2e_pr_owner'
const LOGIN = 'e2e_ci_login'
// A password with the characters that break URLs and shells; masked as a DBT_ENV_SECRET_*.
const LOGIN_PASSWORD = 'ci/login+pw%23#@:x'

const ROLE_TARGETS = `
    pg_role:
      type: postgres
      host: "{{ env_var('E2E_PG_HOST') }}"
      port: "{{ env_var('E2E_PG_PORT') | as_number }}"
      user: ${LOGIN}
      password: "{{ env_var('DBT_ENV_SECRET_LOGIN_PASSWORD') }}"
      role: ${OWNER}
      dbname: postgres
      schema: "{{ env_var('DBT_PR_ENVIRONMENT', 'analytics_role') }}"
      threads: 2
    mz_role:
      type: materialize
      host: localhost
      port: 6875
      user: ${LOGIN}
      pass: "{{ env_var('DBT_ENV_SECRET_LOGIN_PASSWORD') }}"
      role: ${OWNER}
      database: materialize
      schema: "{{ env_var('DBT_PR_ENVIRONMENT', 'analytics') }}"
      cluster: "{{ env_var('DBT_PR_ENVIRONMENT', 'quickstart') }}"
      threads: 2
`

describe("the profile's role", () => {
  let ws: Workspace
  let bucket: string

  const run = async (
    action: 'opened' | 'closed',
    extra: Record<string, string>
  ): Promise<ActionRun> => {
    const result = await runAction({
      workspace: ws.dir,
      event: pullRequestEvent({ number: PR, action, headSha: ws.sha() }),
      inputs: slimInputs(bucket, extra),
      env: { DBT_ENV_SECRET_LOGIN_PASSWORD: LOGIN_PASSWORD }
    })
    expectCanaryHidden(result)
    const shown = result.stdout.split('\n').filter((l) => !l.startsWith('::add-mask::'))
    expect(shown.filter((l) => l.includes(LOGIN_PASSWORD))).toEqual([])
    return result
  }

  const owners = () =>
    postgres.query<{ owner: string }>(
      `select pg_get_userbyid(nspowner) as owner from pg_namespace where nspname = 'pr_${PR}'`
    )

  beforeAll(async () => {
    await postgres.execute(`drop schema if exists pr_${PR} cascade`)
    await postgres.execute(`
      do $$ begin
        if not exists (select from pg_roles where rolname = '${OWNER}') then
          create role ${OWNER} nologin;
        end if;
        if not exists (select from pg_roles where rolname = '${LOGIN}') then
          create role ${LOGIN} login noinherit;
        end if;
      end $$`)
    await postgres.execute(`alter role ${LOGIN} password '${LOGIN_PASSWORD}'`)
    await postgres.execute(`grant ${OWNER} to ${LOGIN}`)
    await postgres.execute(`grant create on database postgres to ${OWNER}`)
    const profiles = readFileSync(path.join(fixturesDir, 'jaffle', 'profiles.yml'), 'utf8')
    ws = createWorkspace({ files: { 'profiles.yml': `${profiles.trimEnd()}\n${ROLE_TARGETS}` } })
    bucket = await createBucket('role')
  })

  afterAll(async () => {
    ws?.cleanup()
    await postgres.execute(`drop schema if exists pr_${PR} cascade`)
  })

  it('on PostgreSQL, dbt builds as the role and teardown drops as the role', async () => {
    const build = await run('opened', { target: 'pg_role' })
    expectExit(build, 0)
    expect(await owners()).toEqual([{ owner: OWNER }])

    // Without `set role`, the NOINHERIT login is no owner: "must be owner of schema".
    const teardown = await run('closed', { target: 'pg_role', phase: 'teardown' })
    expectExit(teardown, 0)
    expect(teardown.outputs.status).toBe('torn-down')
    expect(await owners()).toEqual([])
  })

  it('on Materialize, a role is refused before connecting, naming the field', async () => {
    const teardown = await run('closed', { target: 'mz_role', phase: 'teardown' })
    expectExit(teardown, 1)
    const refusal = annotationsOf(teardown, 'error')
    expect(refusal).toMatch(
      /Profile field "role" of target "mz_role" is set, but Materialize has no SET ROLE/
    )
    // Nothing listens on the target's port: the refusal came before any connection.
    expect(refusal).not.toMatch(/Could not connect|ECONNREFUSED/)
  })
})

// Secrets with every character that once broke masking (# / + % @ : = & ?, a space, non-ASCII)
// as the real passwords of the roles dbt and the action connect with: slim PR, push and
// teardown on PostgreSQL, and blue/green `phase: all` on the Materialize emulator, all succeed
// with each secret masked a handful of times and found nowhere. Also: dbt cannot read the
// action's inputs or the runner's tokens, and dbt's errors reach `::error` without colour codes.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { startGitHubStub, type GitHubStub, type StubComment } from '../../dev/github-stub.js'
import {
  expectOutputs,
  releaseModel,
  scriptHydration,
  useBlueGreenSuite
} from './support/bluegreen.js'
import { describeEmulatorOnly } from './support/backends.js'
import { fixturesDir } from './support/paths.js'
import { postgres, quoteIdent } from './support/warehouse.js'
import { pullRequestEvent, pushEvent, runAction, type ActionRun } from './support/runner.js'
import { createBucket, getObject } from './support/s3.js'
import { TOKEN, annotationsOf, expectExit, slimInputs } from './support/slim.js'
import { createWorkspace, type Workspace } from './support/workspace.js'

jest.setTimeout(900_000) // a bound for hung tests only: runs take minutes on a loaded machine

/**
 * Each secret ends with a tag no encoding changes, so every mask registered for it, in any
 * form but base64, can be counted (an encoding of an encoding too).
 */
interface Secret {
  value: string
  tag: string
}
const secret = (body: string, tag: string): Secret => ({ value: `${body}${tag}`, tag })

/** The PostgreSQL role's password, read by the profile from a plain env var (not DBT_ENV_SECRET_*). */
const PG_PASSWORD = secret('Pg#1/2+3%41@h:5=6&7?8 é-', 'pgSecretTag')
/** The emulator's password, read by the blue/green fixture from DBT_ENV_SECRET_MZ_PASSWORD. */
const MZ_PASSWORD = secret('Mz#1/2+3%25@h:5=6&7?8 ü-', 'mzSecretTag')
/** A DBT_ENV_SECRET_* value that dbt has but no profile field uses. */
const API_TOKEN = secret('Tok #/+%@:=&?ß-', 'apiSecretTag')

const STG_ORDERS_V2 = `select id as order_id, user_id as customer_id, order_date, status, 'v2' as revision
from {{ ref('raw_orders') }}
`

const ROLE = 'secrets_e2e'
const PROD_SCHEMA = 'secrets_prod'
const PR = 601
const FAILING_PR = 602

/** What dbt must not see, as the runner sets it, and what it must see (the control). */
const RUNNER_SECRETS = {
  ACTIONS_RUNTIME_TOKEN: 'runtime-token-e2e',
  ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'oidc-request-token-e2e',
  ACTIONS_ID_TOKEN_REQUEST_URL: 'https://oidc.invalid/token',
  GITHUB_TOKEN: 'ghs_exportedByTheWorkflow000000000000'
}
const CONTROL = { E2E_PROBE_CONTROL: 'visible-to-dbt' }
const MATERIALIZE_URL = 'postgres://probe:url-password-e2e@127.0.0.1:9/materialize'
const PROBED = [
  'INPUT_GITHUB-TOKEN',
  'INPUT_MATERIALIZE-URL',
  ...Object.keys(RUNNER_SECRETS),
  ...Object.keys(CONTROL)
]

/** The fixture profile's `pg` target, on the secrets role, with a field the action cannot render. */
const SLIM_PROFILE = `jaffle:
  target: pg
  outputs:
    pg:
      type: postgres
      host: "{{ env_var('E2E_PG_HOST') }}"
      port: "{{ env_var('E2E_PG_PORT') | as_number }}"
      user: "{{ env_var('SECRETS_E2E_USER') }}"
      password: "{{ env_var('SECRETS_E2E_PASSWORD') }}"
      dbname: postgres
      schema: "{{ env_var('DBT_PR_ENVIRONMENT', '') or env_var('E2E_PROD_SCHEMA') }}"
      threads: "{{ env_var('DBT_THREADS', 2) | as_number }}"
      connect_timeout: "{{ (5 * 2) | as_number }}"
`

/** An on-run-start hook printing what dbt's env_var() sees of each probed variable. */
const PROBE_MACRO = `{% macro probe_env() %}
  {%- if execute -%}
    {%- for name in ${JSON.stringify(PROBED)} -%}
      {{- log('env-probe ' ~ name ~ '=' ~ env_var(name, '<unset>'), info=True) -}}
    {%- endfor -%}
  {%- endif -%}
  select 1
{% endmacro %}
`

function probedProject(): Record<string, string> {
  const project = readFileSync(path.join(fixturesDir, 'jaffle', 'dbt_project.yml'), 'utf8')
  return {
    'profiles.yml': SLIM_PROFILE,
    'macros/probe_env.sql': PROBE_MACRO,
    'dbt_project.yml': `${project}\non-run-start:\n  - "{{ probe_env() }}"\n`
  }
}

/** What the probe printed: name → value, from the last run of the hook. */
function probe(run: ActionRun): Record<string, string> {
  const seen: Record<string, string> = {}
  for (const match of run.stdout.matchAll(/env-probe ([^=\s]+)=(.*)$/gm))
    seen[match[1]!] = match[2]!
  return seen
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.join(entry.parentPath, entry.name))
}

/** Masks of `secret` in any form: its tag survives URL and JSON escaping; base64 is decoded. */
function masksOf(run: ActionRun, { value, tag }: Secret): string[] {
  return run.masks.filter(
    (mask) => mask.includes(tag) || Buffer.from(mask, 'base64').toString('utf8') === value
  )
}

interface Places {
  comments?: StubComment[]
  /** Directories whose files must not hold the secret: the workspace, the runner's dirs. */
  dirs: string[]
}

/**
 * Each secret is masked, raw and URL-encoded, at most a handful of times, and neither form is
 * anywhere else: the step log (but its `::add-mask::` lines), stderr, the job summary,
 * outputs, saved state, PR comments and the files left in the workspace and runner dirs.
 */
function expectHidden(run: ActionRun, secrets: Secret[], places: Places): void {
  const files = places.dirs.flatMap(filesUnder)
  for (const item of secrets) {
    const forms = [item.value, encodeURIComponent(item.value)]
    expect(run.masks).toEqual(expect.arrayContaining(forms))
    expect(masksOf(run, item).length).toBeLessThanOrEqual(6)
    for (const form of forms) {
      const leaks = run.stdout
        .split('\n')
        .filter((line) => line.includes(form) && !line.startsWith('::add-mask::'))
      expect(leaks).toEqual([])
      expect(run.stderr).not.toContain(form)
      expect(run.summary).not.toContain(form)
      expect(Object.values(run.outputs).join('\n')).not.toContain(form)
      expect(Object.values(run.state).join('\n')).not.toContain(form)
      for (const comment of places.comments ?? []) expect(comment.body).not.toContain(form)
      const holding = files.filter((file) => readFileSync(file).includes(form))
      expect(holding).toEqual([])
    }
  }
}

describe('slim mode with secrets full of special characters (PostgreSQL)', () => {
  const env = {
    SECRETS_E2E_USER: ROLE,
    SECRETS_E2E_PASSWORD: PG_PASSWORD.value,
    DBT_ENV_SECRET_API_TOKEN: API_TOKEN.value,
    E2E_PROD_SCHEMA: PROD_SCHEMA,
    ...RUNNER_SECRETS,
    ...CONTROL
  }
  const SECRETS = [PG_PASSWORD, API_TOKEN]
  let stub: GitHubStub
  let main: Workspace
  let prBranch: Workspace
  let bucket: string
  let prBuild: ActionRun

  const run = (options: Parameters<typeof runAction>[0]): Promise<ActionRun> =>
    runAction({ apiUrl: stub.url, ...options, env: { ...env, ...options.env } })
  const places = (run: ActionRun, workspace: Workspace, comments: StubComment[] = []) => ({
    comments,
    dirs: [workspace.dir, run.files.dir]
  })

  beforeAll(async () => {
    const password = PG_PASSWORD.value.replace(/'/g, "''")
    await postgres.execute(`create role ${quoteIdent(ROLE)} login password '${password}'`)
    await postgres.execute(`grant create on database postgres to ${quoteIdent(ROLE)}`)
    stub = await startGitHubStub()
    main = createWorkspace({ files: probedProject() })
    bucket = await createBucket('secrets')
  })

  afterAll(async () => {
    await stub?.stop()
    for (const workspace of [main, prBranch]) workspace?.cleanup()
  })

  it('a push builds and publishes the manifest; the secrets are masked and found nowhere', async () => {
    const result = await run({
      workspace: main.dir,
      event: pushEvent({ sha: main.sha() }),
      inputs: slimInputs(bucket)
    })

    expectExit(result, 0)
    expect(result.outputs.status).toBe('success')
    expect(result.outputs['manifest-uploaded']).toBe('true')
    expect(await postgres.relationsIn(PROD_SCHEMA)).toContain('customers')
    const manifest = await getObject(bucket, 'prod/manifest.json')
    for (const { value } of SECRETS) expect(manifest?.body).not.toContain(value)
    expectHidden(result, SECRETS, places(result, main))
  })

  it('a PR builds in its environment and comments; the secrets are masked and found nowhere', async () => {
    prBranch = main.clone()
    prBranch.commit('Add a revision column to stg_orders', {
      'models/staging/stg_orders.sql': STG_ORDERS_V2
    })
    prBuild = await run({
      workspace: prBranch.dir,
      event: pullRequestEvent({
        number: PR,
        action: 'opened',
        headSha: prBranch.sha(),
        baseSha: main.sha()
      }),
      inputs: slimInputs(bucket, { defer: 'true', 'materialize-url': MATERIALIZE_URL })
    })

    expectExit(prBuild, 0)
    expect(prBuild.outputs.status).toBe('success')
    expect(await postgres.columnsOf(`pr_${PR}`, 'stg_orders')).toContain('revision')
    const comments = stub.comments().filter((c) => c.issueNumber === PR)
    expect(comments).toHaveLength(1)
    expectHidden(prBuild, SECRETS, places(prBuild, prBranch, comments))
  })

  it("dbt reads the user's variables but not the action's inputs or the runner's tokens", () => {
    expect(probe(prBuild)).toEqual({
      'INPUT_GITHUB-TOKEN': '<unset>',
      'INPUT_MATERIALIZE-URL': '<unset>',
      ACTIONS_RUNTIME_TOKEN: '<unset>',
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: '<unset>',
      ACTIONS_ID_TOKEN_REQUEST_URL: '<unset>',
      GITHUB_TOKEN: '<unset>',
      E2E_PROBE_CONTROL: CONTROL.E2E_PROBE_CONTROL
    })
    // The action itself had them: dbt did not get them.
    expect(prBuild.env['INPUT_GITHUB-TOKEN']).toBe(TOKEN)
    expect(prBuild.env['INPUT_MATERIALIZE-URL']).toBe(MATERIALIZE_URL)
    const log = prBuild.stdout.split('\n').filter((line) => !line.startsWith('::add-mask::'))
    for (const value of [TOKEN, MATERIALIZE_URL, ...Object.values(RUNNER_SECRETS)])
      expect(log.filter((line) => line.includes(value))).toEqual([])
  })

  it('names the profile field it cannot render in a warning, never its value', () => {
    const warnings = annotationsOf(prBuild, 'warning')
    expect(warnings).toMatch(/"connect_timeout"/)
    expect(warnings).not.toMatch(/5 \* 2|threads/)
  })

  it('teardown connects with the password and drops the PR environment; the secrets are found nowhere', async () => {
    const result = await run({
      workspace: prBranch.dir,
      event: pullRequestEvent({
        number: PR,
        action: 'closed',
        headSha: prBranch.sha(),
        baseSha: main.sha()
      }),
      inputs: slimInputs(bucket, { phase: 'teardown' })
    })

    expectExit(result, 0)
    expect(result.outputs.status).toBe('torn-down')
    expect(await postgres.schemasStartingWith(`pr_${PR}`)).toEqual([])
    expectHidden(result, SECRETS, places(result, prBranch, stub.comments()))
  })

  it("dbt's error reaches ::error and the summary without ANSI colour codes", async () => {
    const broken = main.clone()
    try {
      broken.commit('A model referring to a missing model', {
        'models/marts/broken.sql': "select * from {{ ref('no_such_model') }}\n"
      })
      const result = await run({
        workspace: broken.dir,
        event: pullRequestEvent({
          number: FAILING_PR,
          action: 'opened',
          headSha: broken.sha(),
          baseSha: main.sha()
        }),
        inputs: slimInputs(bucket)
      })

      expectExit(result, 1)
      const errors = annotationsOf(result, 'error')
      expect(errors).toMatch(/dbt said:[\s\S]*no_such_model/)
      expect(errors).not.toContain('\u001b')
      expect(result.summary).not.toContain('\u001b')
      expect(result.stdout).not.toContain('\u001b')
    } finally {
      broken.cleanup()
    }
  })
})

describeEmulatorOnly('the test chooses the Materialize password, full of special characters')(
  'blue/green with a password full of special characters (Materialize emulator)',
  () => {
    const suite = useBlueGreenSuite('bg-secrets', { password: MZ_PASSWORD.value })

    it('phase all deploys and promotes; the secrets are masked and found nowhere', async () => {
      const profile = readFileSync(path.join(suite.ws.dir, 'profiles.yml'), 'utf8').replace(
        /threads: 2/g,
        `threads: "{{ env_var('DBT_THREADS', 2) | as_number }}"\n      connect_timeout: "{{ (5 * 2) | as_number }}"`
      )
      suite.ws.commit('Release v2, and a profile field the action cannot render', {
        ...releaseModel('v2'),
        'profiles.yml': profile
      })
      await scriptHydration(suite.warehouse, 1)

      const result = await suite.run({}, { env: { DBT_ENV_SECRET_API_TOKEN: API_TOKEN.value } })

      expectExit(result, 0)
      expectOutputs(result, { status: 'promoted', deployed: 'true', promoted: 'true' })
      expect(annotationsOf(result, 'warning')).toMatch(/"connect_timeout"/)
      expectHidden(result, [MZ_PASSWORD, API_TOKEN], { dirs: [suite.ws.dir, result.files.dir] })
    })
  }
)

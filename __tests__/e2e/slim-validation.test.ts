// Settings checked before anything is touched, where they used to slip through: a PR that
// changes no dbt file while a production manifest exists, so that dbt would be skipped. Then a
// production manifest written by a newer dbt, checked against the installed dbt before dbt runs,
// and vars with a date, which must reach dbt as the text the user wrote.
import { afterAll, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals'
import { chmodSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { freePort } from '../../dev/net.js'
import { startGitHubStub, type GitHubStub } from '../../dev/github-stub.js'
import { dbtBinary } from './support/paths.js'
import {
  pullRequestEvent,
  runAction,
  type ActionOptions,
  type ActionRun
} from './support/runner.js'
import { startFaultProxy, type FaultProxy } from './support/s3-faults.js'
import { createBucket, getObject, putObject, s3Endpoint } from './support/s3.js'
import {
  ALL_MODELS,
  ALL_RELATIONS,
  annotationsOf,
  calendarWith,
  dbtRanIn,
  expectCanaryHidden,
  expectExit,
  modelsIn,
  parsedManifest,
  selectedIds,
  slimInputs
} from './support/slim.js'
import { postgres } from './support/warehouse.js'
import { createWorkspace, type Workspace } from './support/workspace.js'

jest.setTimeout(900_000) // a bound for hung tests only: runs take minutes on a loaded machine

const PROD_ENV = { E2E_PROD_SCHEMA: 'analytics_validation' }
const SELECTORS_YML = `selectors:
  - name: nightly
    definition: "tag:nightly"
`
const AS_OF_SQL = `select '{{ var("as_of") }}' as as_of,
       {{ 'true' if var('as_of') is string else 'false' }} as as_of_is_string
`

let stub: GitHubStub
let proxy: FaultProxy
let base: Workspace
/** The manifest `dbt parse` of the base commit wrote, as the installed dbt writes it. */
let manifestText: string
/** A bucket holding that manifest as production state, built from the base commit. */
let seeded: string
const workspaces: Workspace[] = []

/** A branch off the base commit with some files changed. */
function branch(files: Record<string, string | null>): Workspace {
  const workspace = base.clone()
  workspaces.push(workspace)
  workspace.commit('Change for this test', files)
  return workspace
}

/** A pull request on `workspace`'s HEAD, whose base is the commit production was built from. */
function pr(
  workspace: Workspace,
  number: number,
  action: 'synchronize' | 'closed' = 'synchronize'
) {
  return pullRequestEvent({ number, action, headSha: workspace.sha(), baseSha: base.sha() })
}

async function run(options: ActionOptions): Promise<ActionRun> {
  const result = await runAction({
    apiUrl: stub.url,
    ...options,
    env: { ...PROD_ENV, ...options.env }
  })
  expectCanaryHidden(result, stub.comments())
  return result
}

/** A dbt-path the way many workflows have one: a shell script that execs the real dbt. */
function addWrapper(workspace: Workspace): string {
  const wrapper = path.join(workspace.dir, 'tools', 'dbt')
  writeFileSync(wrapper, `#!/bin/sh\nexec "${dbtBinary}" "$@"\n`)
  chmodSync(wrapper, 0o755)
  return 'tools/dbt'
}

beforeAll(async () => {
  stub = await startGitHubStub()
  proxy = await startFaultProxy(s3Endpoint())
  base = createWorkspace({ files: { 'selectors.yml': SELECTORS_YML, 'tools/.gitkeep': '' } })
  manifestText = parsedManifest(base, PROD_ENV)
  seeded = await createBucket('validation')
  await putObject(seeded, 'prod/manifest.json', manifestText, { 'git-sha': base.sha() })
})

beforeEach(() => proxy.passThrough())

afterAll(async () => {
  await stub?.stop()
  await proxy?.stop()
  for (const workspace of [base, ...workspaces]) workspace?.cleanup()
})

describe('settings are checked before S3 or the warehouse, even when dbt would be skipped', () => {
  let docsOnly: Workspace

  beforeAll(() => {
    docsOnly = branch({ 'README.md': '# jaffle\n\nDocs only.\n' })
  })

  it('(control) the docs-only PR with valid settings skips dbt', async () => {
    const result = await run({
      workspace: docsOnly.dir,
      event: pr(docsOnly, 310),
      inputs: slimInputs(seeded, { 's3-endpoint': proxy.url, 'github-token': '' })
    })
    expectExit(result, 0)
    expect(result.outputs.status).toBe('skipped-unchanged')
    expect(result.outputs['state-available']).toBe('true')
  })

  const CASES: Array<{ input: string; with: Record<string, string>; says: RegExp[] }> = [
    { input: 'target', with: { target: 'nope' }, says: [/"nope"/, /"pg", "mz"/] },
    {
      input: 'dbt-path',
      with: { 'dbt-path': 'bin/dbt' },
      // Relative to the workspace, and shown resolved.
      says: [/resolves to "[^"]*\/bin\/dbt"/, /not an executable file/]
    },
    {
      input: 'selector',
      with: { selector: 'nightly_typo' },
      says: [/"nightly_typo"/, /"nightly"/]
    },
    { input: 'favor-state', with: { 'favor-state': 'true' }, says: [/"defer: true"/] }
  ]

  it.each(CASES.map((c) => [c.input, c] as const))(
    'a bad "%s" fails with the input named, no S3 request and no dbt',
    async (_name, bad) => {
      const s3Before = proxy.requests.length
      const githubBefore = stub.requests.length
      const result = await run({
        workspace: docsOnly.dir,
        event: pr(docsOnly, 311),
        inputs: slimInputs(seeded, { 's3-endpoint': proxy.url, ...bad.with })
      })
      expectExit(result, 1)
      expect(result.outputs.status).toBe('failed')
      const message = annotationsOf(result, 'error')
      expect(message).toContain(`Input "${bad.input}"`)
      for (const pattern of bad.says) expect(message).toMatch(pattern)
      if (bad.input === 'dbt-path') expect(message).toContain(path.join(docsOnly.dir, 'bin/dbt'))
      expect(proxy.requests.slice(s3Before)).toEqual([])
      expect(stub.requests.length).toBe(githubBefore)
      expect(dbtRanIn(docsOnly.dir)).toBe(false)
      expect(await postgres.relationsIn('pr_311')).toEqual([])
    }
  )

  it('teardown checks the target before connecting to the warehouse', async () => {
    const unreachable = String(await freePort())
    const result = await run({
      workspace: docsOnly.dir,
      event: pr(docsOnly, 311, 'closed'),
      inputs: slimInputs(seeded, { phase: 'teardown', target: 'nope' }),
      env: { E2E_PG_PORT: unreachable }
    })
    expectExit(result, 1)
    const message = annotationsOf(result, 'error')
    expect(message).toContain('Input "target" is "nope"')
    expect(message).not.toMatch(/ECONNREFUSED/)
  })
})

describe('a production manifest written by a newer dbt', () => {
  /** The installed dbt's manifest, claiming the next schema version and a newer dbt. */
  let newer: { bucket: string; schema: number; dbtVersion: string }
  /** What the installed dbt wrote: its dbt-core version and manifest schema version. */
  let installed: { dbtVersion: string; schema: number }

  beforeAll(async () => {
    const manifest = JSON.parse(manifestText) as {
      metadata: { dbt_schema_version: string; dbt_version: string }
    }
    const { dbt_schema_version: schemaUrl, dbt_version: dbtVersion } = manifest.metadata
    const schema = Number(/\/v(\d+)\.json$/.exec(schemaUrl)?.[1])
    installed = { dbtVersion, schema }
    const [major, minor] = dbtVersion.split('.').map(Number)
    newer = {
      bucket: await createBucket('newer'),
      schema: schema + 1,
      dbtVersion: `${major}.${minor! + 1}.0`
    }
    manifest.metadata.dbt_schema_version = schemaUrl.replace(/v\d+\.json$/, `v${newer.schema}.json`)
    manifest.metadata.dbt_version = newer.dbtVersion
    await putObject(newer.bucket, 'prod/manifest.json', JSON.stringify(manifest), {
      'git-sha': base.sha()
    })
  })

  const calendarChange = () => ({ 'models/marts/calendar.sql': calendarWith(7, 'Sunday') })

  it.each([
    ['dbt on PATH (asked through its own Python)', 312, false],
    ['a wrapper script as dbt-path (asked with dbt --version)', 313, true]
  ])(
    'on-state-error: fail, %s: a clear error naming the versions, no warehouse touched',
    async (_name, number, wrapped) => {
      const workspace = branch(calendarChange())
      const dbtPath: Record<string, string> = wrapped ? { 'dbt-path': addWrapper(workspace) } : {}
      const result = await run({
        workspace: workspace.dir,
        event: pr(workspace, number),
        inputs: slimInputs(newer.bucket, { ...dbtPath, 'github-token': '' })
      })
      expectExit(result, 1)
      const message = annotationsOf(result, 'error')
      expect(message).toContain(
        `schema version v${newer.schema} (written by dbt ${newer.dbtVersion})`
      )
      expect(message).toContain(`installed dbt-core ${installed.dbtVersion} cannot read`)
      expect(message).toContain(`to v${installed.schema}`)
      expect(message).toContain('on-state-error: full-build')
      expect(dbtRanIn(workspace.dir)).toBe(false)
      expect(await postgres.relationsIn(`pr_${number}`)).toEqual([])
      expect(JSON.parse((await getObject(newer.bucket, 'prod/manifest.json'))!.body)).toMatchObject(
        {
          metadata: { dbt_version: newer.dbtVersion }
        }
      )
    }
  )

  it('on-state-error: full-build builds everything, with a warning naming the versions', async () => {
    const workspace = branch(calendarChange())
    const result = await run({
      workspace: workspace.dir,
      event: pr(workspace, 314),
      inputs: slimInputs(newer.bucket, { 'on-state-error': 'full-build', 'github-token': '' })
    })
    expectExit(result, 0)
    expect(result.outputs.status).toBe('success')
    expect(result.outputs['state-available']).toBe('false')
    const warning = annotationsOf(result, 'warning')
    expect(warning).toMatch(/builds everything/)
    expect(warning).toContain(`v${newer.schema}`)
    expect(warning).toContain(installed.dbtVersion)
    expect(modelsIn(selectedIds(result))).toEqual(ALL_MODELS)
    expect(await postgres.relationsIn('pr_314')).toEqual(ALL_RELATIONS)
  })

  it('a docs-only PR skips dbt without asking which manifests it reads', async () => {
    const workspace = branch({ 'README.md': '# jaffle\n\nDocs only.\n' })
    const result = await run({
      workspace: workspace.dir,
      event: pr(workspace, 315),
      inputs: slimInputs(newer.bucket, { 'github-token': '' })
    })
    expectExit(result, 0)
    expect(result.outputs.status).toBe('skipped-unchanged')
    expect(result.stdout).not.toMatch(/reads manifest versions/)
    expect(dbtRanIn(workspace.dir)).toBe(false)
  })
})

describe('vars', () => {
  it('a date reaches dbt as the string 2024-01-01', async () => {
    const workspace = branch({ 'models/marts/as_of.sql': AS_OF_SQL })
    const result = await run({
      workspace: workspace.dir,
      event: pr(workspace, 315),
      inputs: slimInputs(seeded, {
        select: 'as_of',
        vars: '{as_of: 2024-01-01}',
        'github-token': ''
      })
    })
    expectExit(result, 0)
    expect(modelsIn(selectedIds(result))).toEqual(['as_of'])
    expect(await postgres.query('select as_of, as_of_is_string from pr_315.as_of')).toEqual([
      { as_of: '2024-01-01', as_of_is_string: true }
    ])
  })
})

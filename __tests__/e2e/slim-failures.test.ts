// What goes wrong in real life: dbt missing or failing, S3 down, slow, denying or garbled,
// the GitHub token missing or refused, and a canary secret that must never leak.
import { afterAll, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { freePort } from '../../dev/net.js'
import { startGitHubStub, type GitHubStub } from '../../dev/github-stub.js'
import { CANARY_PASSWORD } from './support/paths.js'
import { postgres } from './support/warehouse.js'
import {
  pullRequestEvent,
  pushEvent,
  runAction,
  type ActionOptions,
  type ActionRun,
  type GitHubEvent
} from './support/runner.js'
import { forKey, startFaultProxy, type FaultProxy } from './support/s3-faults.js'
import { createBucket, getObject, listKeys, putObject, s3Endpoint } from './support/s3.js'
import {
  ALL_MODELS,
  ALL_RELATIONS,
  annotationsOf,
  calendarWith,
  dbtRanIn,
  errors,
  expectCanaryHidden,
  expectExit,
  modelsIn,
  parsedManifest,
  selectedIds,
  slimInputs
} from './support/slim.js'
import { createWorkspace, type Workspace } from './support/workspace.js'

// A bound for hung tests only: a dbt build is slow on a loaded machine.
jest.setTimeout(600_000)

const PROD_ENV = { E2E_PROD_SCHEMA: 'analytics_failures' }

const BROKEN_SQL = `select not_a_real_function_xyz(1) as id\n`
const FAILING_TEST_SQL = `-- fails: the calendar is never empty\nselect * from {{ ref('calendar') }}\n`
const CALENDAR_V2 = calendarWith(7, 'Sunday')

let stub: GitHubStub
let proxy: FaultProxy
let base: Workspace
/** A bucket whose manifest was parsed from `base`'s commit. */
let seeded: string
const workspaces: Workspace[] = []

/** Production state without a build: `dbt parse` of the base commit, uploaded like the action does. */
async function seedManifest(workspace: Workspace): Promise<string> {
  const bucket = await createBucket('seeded')
  await putObject(bucket, 'prod/manifest.json', parsedManifest(workspace, PROD_ENV), {
    'git-sha': workspace.sha()
  })
  return bucket
}

/** A branch off the base commit with some files changed. */
function branch(files: Record<string, string | null> = {}): Workspace {
  const workspace = base.clone()
  workspaces.push(workspace)
  if (Object.keys(files).length > 0) workspace.commit('Change for this test', files)
  return workspace
}

function docsOnlyBranch(): Workspace {
  return branch({ 'README.md': '# jaffle\n\nDocs only.\n' })
}

function push(workspace: Workspace): GitHubEvent {
  return pushEvent({ sha: workspace.sha(), before: base.sha() })
}

function pr(workspace: Workspace, number: number): GitHubEvent {
  return pullRequestEvent({
    number,
    action: 'synchronize',
    headSha: workspace.sha(),
    baseSha: base.sha()
  })
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

/** Exit 1 with a matching `::error`; a `status` output, when set, says `failed`. */
function expectFailed(result: ActionRun, pattern: RegExp): void {
  expectExit(result, 1)
  expect(result.outputs.status ?? 'failed').toBe('failed')
  expect(errors(result).length).toBeGreaterThan(0)
  expect(annotationsOf(result, 'error')).toMatch(pattern)
}

/** A failed dbt step: `status=failed` is part of the contract, and nothing was published. */
async function expectDbtFailed(result: ActionRun, pattern: RegExp, bucket: string): Promise<void> {
  expectFailed(result, pattern)
  expect(result.outputs.status).toBe('failed')
  expect(result.outputs['manifest-uploaded'] ?? 'false').toBe('false')
  expect(await listKeys(bucket)).toEqual([])
}

beforeAll(async () => {
  stub = await startGitHubStub()
  proxy = await startFaultProxy(s3Endpoint())
  base = createWorkspace()
  seeded = await seedManifest(base)
})

beforeEach(() => proxy.passThrough())

afterAll(async () => {
  await stub?.stop()
  await proxy?.stop()
  for (const workspace of [base, ...workspaces]) workspace?.cleanup()
})

describe('dbt failures', () => {
  it('dbt not installed: a clear error, nothing uploaded', async () => {
    const bucket = await createBucket('nodbt')
    const workspace = branch()
    const result = await run({
      workspace: workspace.dir,
      event: push(workspace),
      inputs: slimInputs(bucket, { 'dbt-path': '/nonexistent/dbt' })
    })
    await expectDbtFailed(result, /\/nonexistent\/dbt/, bucket)
    expect(annotationsOf(result, 'error')).toMatch(/not found|install|no such file|ENOENT/i)
  })

  it('dbt exit 1 (invalid SQL, failing test): annotations on the files, nothing uploaded', async () => {
    const bucket = await createBucket('exit1')
    const workspace = branch({
      'models/marts/broken.sql': BROKEN_SQL,
      'tests/assert_calendar_is_empty.sql': FAILING_TEST_SQL
    })
    const result = await run({
      workspace: workspace.dir,
      event: push(workspace),
      inputs: slimInputs(bucket, { select: 'broken calendar+' })
    })
    await expectDbtFailed(result, /broken|calendar/, bucket)
    const files = errors(result).map((a) => a.file)
    expect(files).toContain('models/marts/broken.sql')
    expect(files).toContain('tests/assert_calendar_is_empty.sql')
    expect(result.summary).toContain('model.jaffle.broken')
    expect(result.summary).toMatch(/not_a_real_function_xyz|error/i)
  })

  it('25 failing models: at most 10 error annotations, models first, the last naming the rest', async () => {
    const bucket = await createBucket('many-failures')
    const broken = Object.fromEntries(
      Array.from({ length: 25 }, (_, i) => [`models/broken/broken_${i}.sql`, BROKEN_SQL])
    )
    const workspace = branch(broken)
    const result = await run({
      workspace: workspace.dir,
      event: push(workspace),
      inputs: slimInputs(bucket, { select: 'path:models/broken' })
    })
    await expectDbtFailed(result, /25 node\(s\) failed/, bucket)
    const shown = errors(result)
    // GitHub shows 10 per step: 8 failures, the line naming the rest, the step's own failure.
    expect(shown.length).toBeLessThanOrEqual(10)
    expect(
      shown.slice(0, 8).every((a) => /^models\/broken\/broken_\d+\.sql$/.test(a.file ?? ''))
    ).toBe(true)
    expect(shown[8]?.message).toMatch(/^17 more failed node\(s\) are not annotated .*job summary/)
    expect(result.summary).toContain('### Failures (25)')
  })

  it('dbt exit 2 (a flag dbt does not know): a clear error, nothing uploaded', async () => {
    const bucket = await createBucket('exit2')
    const workspace = branch()
    const result = await run({
      workspace: workspace.dir,
      event: push(workspace),
      inputs: slimInputs(bucket, { 'dbt-args': '--not-a-dbt-flag' })
    })
    await expectDbtFailed(result, /could not complete the build \(exit 2\)/, bucket)
    expect(annotationsOf(result, 'error')).toContain('--not-a-dbt-flag')
  })

  it("a run_results.json left by an earlier job never passes for this build's", async () => {
    const bucket = await createBucket('stale')
    const workspace = branch()
    const stale = {
      metadata: { invocation_id: 'an-earlier-job' },
      results: [
        {
          unique_id: 'model.jaffle.stale_model',
          status: 'error',
          execution_time: 1,
          message: 'old'
        }
      ]
    }
    mkdirSync(path.join(workspace.dir, 'target'), { recursive: true })
    writeFileSync(path.join(workspace.dir, 'target/run_results.json'), JSON.stringify(stale))
    const result = await run({
      workspace: workspace.dir,
      event: push(workspace),
      inputs: slimInputs(bucket, { 'dbt-args': '--not-a-dbt-flag' })
    })
    await expectDbtFailed(result, /could not complete the build \(exit 2\)/, bucket)
    expect(result.outputs['selected-count']).toBe('0')
    expect(`${result.stdout}${result.summary}`).not.toContain('stale_model')
    expect(existsSync(path.join(workspace.dir, 'target/run_results.json'))).toBe(false)
  })

  it('a profiles-dir without profiles.yml: a clear error, nothing uploaded', async () => {
    const bucket = await createBucket('noprofile')
    const workspace = branch({ 'ci-profiles/.gitkeep': '' })
    const result = await run({
      workspace: workspace.dir,
      event: push(workspace),
      inputs: slimInputs(bucket, { 'profiles-dir': 'ci-profiles' })
    })
    await expectDbtFailed(result, /dbt|profile/i, bucket)
    expect(`${result.stdout}\n${result.stderr}`).toMatch(/profile/i)
  })
})

describe('S3 faults while reading state', () => {
  it('unreachable endpoint: a clear error before dbt runs', async () => {
    const workspace = docsOnlyBranch()
    const closed = `http://127.0.0.1:${await freePort()}`
    const result = await run({
      workspace: workspace.dir,
      event: push(workspace),
      inputs: slimInputs(seeded, { 's3-endpoint': closed, 's3-max-attempts': '2' })
    })
    expectFailed(result, /ECONNREFUSED|connect|unreachable|reach|network/i)
    expect(dbtRanIn(workspace.dir)).toBe(false)
  })

  it('always 500: bounded retries, then a clear error', async () => {
    const workspace = docsOnlyBranch()
    proxy.failAlways(500)
    const before = proxy.requests.length
    const result = await run({
      workspace: workspace.dir,
      event: push(workspace),
      inputs: slimInputs(seeded, { 's3-endpoint': proxy.url, 's3-max-attempts': '2' })
    })
    expectFailed(result, /500|InternalError|internal error|server error/i)
    const attempts = proxy.requests.length - before
    expect(attempts).toBeGreaterThanOrEqual(1)
    expect(attempts).toBeLessThanOrEqual(2)
    expect(dbtRanIn(workspace.dir)).toBe(false)
  })

  it('500 twice, then fine: retries succeed and the docs-only change is skipped', async () => {
    const workspace = docsOnlyBranch()
    proxy.failTimes(2, 500)
    const before = proxy.requests.length
    const result = await run({
      workspace: workspace.dir,
      event: push(workspace),
      inputs: slimInputs(seeded, { 's3-endpoint': proxy.url, 's3-max-attempts': '3' })
    })
    expectExit(result, 0)
    expect(result.outputs['state-available']).toBe('true')
    expect(result.outputs.status).toBe('skipped-unchanged')
    expect(proxy.requests.length - before).toBeGreaterThanOrEqual(3)
  })

  it('a docs-only push decides the skip from one HEAD request, without downloading the manifest', async () => {
    // The seeded manifest carries only git-sha, as manifests published before dbt-version did.
    const workspace = docsOnlyBranch()
    const before = proxy.requests.length
    const result = await run({
      workspace: workspace.dir,
      event: push(workspace),
      inputs: slimInputs(seeded, { 's3-endpoint': proxy.url })
    })
    expectExit(result, 0)
    expect(result.outputs.status).toBe('skipped-unchanged')
    const manifestRequests = proxy.requests.slice(before).filter(forKey('prod/manifest.json'))
    expect(manifestRequests.map((request) => request.method)).toEqual(['HEAD'])
  })

  it('S3 that never answers, with s3-timeout: 1, gives up with a timeout error', async () => {
    const workspace = docsOnlyBranch()
    const release = proxy.hold()
    const before = proxy.requests.length
    try {
      const result = await run({
        workspace: workspace.dir,
        event: push(workspace),
        inputs: slimInputs(seeded, {
          's3-endpoint': proxy.url,
          's3-timeout': '1',
          's3-max-attempts': '1'
        })
      })
      expectFailed(result, /time(d)?[ -]?out/i)
      // One request, still parked when the action gave up on it.
      expect(proxy.requests.slice(before).map((r) => r.outcome)).toEqual(['aborted'])
      expect(dbtRanIn(workspace.dir)).toBe(false)
    } finally {
      release()
    }
  })

  it('403 AccessDenied: a clear error', async () => {
    const workspace = docsOnlyBranch()
    proxy.deny()
    const result = await run({
      workspace: workspace.dir,
      event: push(workspace),
      inputs: slimInputs(seeded, { 's3-endpoint': proxy.url })
    })
    expectFailed(result, /AccessDenied|access denied|403|forbidden/i)
    expect(dbtRanIn(workspace.dir)).toBe(false)
  })

  it('missing bucket: an error naming the bucket', async () => {
    const workspace = docsOnlyBranch()
    const missing = `e2e-missing-${Date.now()}`
    const result = await run({
      workspace: workspace.dir,
      event: push(workspace),
      inputs: slimInputs(seeded, { 'state-uri': `s3://${missing}/prod` })
    })
    expectFailed(result, new RegExp(missing))
    expect(annotationsOf(result, 'error')).toMatch(
      /NoSuchBucket|does not exist|not exist|not found|missing/i
    )
    expect(dbtRanIn(workspace.dir)).toBe(false)
  })

  it('an unparsable manifest: a clear error by default', async () => {
    const bucket = await createBucket('corrupt')
    await putObject(bucket, 'prod/manifest.json', '{"nodes": {"model.jaffle', {
      'git-sha': base.sha()
    })
    // A model changed, so dbt needs the state (a docs-only push skips from the metadata alone).
    const workspace = branch({ 'models/marts/calendar.sql': CALENDAR_V2 })
    const result = await run({
      workspace: workspace.dir,
      event: push(workspace),
      inputs: slimInputs(bucket)
    })
    expectFailed(result, /manifest/i)
    expect(annotationsOf(result, 'error')).toMatch(/pars|JSON|invalid|corrupt|unexpected/i)
    expect((await getObject(bucket, 'prod/manifest.json'))?.body).toBe('{"nodes": {"model.jaffle')
  })

  it('on-state-error: full-build falls back to a full build with a warning', async () => {
    const workspace = branch({ 'models/marts/calendar.sql': CALENDAR_V2 })
    proxy.failAlways(500)
    const result = await run({
      workspace: workspace.dir,
      event: pr(workspace, 201),
      inputs: slimInputs(seeded, {
        's3-endpoint': proxy.url,
        's3-max-attempts': '1',
        'on-state-error': 'full-build',
        defer: 'true',
        'github-token': ''
      })
    })
    expectExit(result, 0)
    expect(result.outputs.status).toBe('success')
    expect(result.outputs['state-available']).toBe('false')
    expect(annotationsOf(result, 'warning')).toMatch(/full build|full-build/i)
    expect(modelsIn(selectedIds(result))).toEqual(ALL_MODELS)
    expect(await postgres.relationsIn('pr_201')).toEqual(ALL_RELATIONS)
    expect(result.outputs['manifest-uploaded']).toBe('false')
  })
})

describe('S3 faults while publishing', () => {
  it('connection resets on upload: the step fails and no manifest is left behind', async () => {
    const bucket = await createBucket('upload')
    const workspace = branch()
    proxy.reset((r) => r.method === 'PUT' || r.method === 'POST')
    const before = proxy.requests.length
    const result = await run({
      workspace: workspace.dir,
      event: push(workspace),
      inputs: slimInputs(bucket, {
        's3-endpoint': proxy.url,
        's3-max-attempts': '2',
        select: 'calendar'
      })
    })
    expectExit(result, 1)
    expect(result.outputs['manifest-uploaded']).toBe('false')
    expect(modelsIn(selectedIds(result))).toEqual(['calendar'])
    const writes = proxy.requests.slice(before).filter(forKey('prod/manifest.json', 'PUT'))
    expect(writes.length).toBeGreaterThanOrEqual(1)
    expect(writes.length).toBeLessThanOrEqual(2)
    expect(await getObject(bucket, 'prod/manifest.json')).toBeUndefined()
  })
})

describe('PR comment permissions', () => {
  it('no github-token: the comment is skipped with a notice, the step succeeds', async () => {
    const workspace = branch({ 'models/marts/calendar.sql': CALENDAR_V2 })
    const before = stub.requests.length
    const result = await run({
      workspace: workspace.dir,
      event: pr(workspace, 202),
      inputs: slimInputs(seeded, { 'github-token': '' })
    })
    expectExit(result, 0)
    expect(annotationsOf(result, 'notice')).toMatch(/comment/i)
    expect(stub.requests.slice(before)).toEqual([])
    expect(stub.comments().filter((c) => c.issueNumber === 202)).toEqual([])
    expect(await postgres.relationsIn('pr_202')).toEqual(['calendar'])
  })

  it('a token without permission (403): skipped with a notice, the step succeeds', async () => {
    const workspace = branch({ 'models/marts/calendar.sql': CALENDAR_V2 })
    const token = 'ghs_forkPullRequestReadOnlyToken0000'
    stub.denyToken(token)
    const before = stub.requests.length
    const result = await run({
      workspace: workspace.dir,
      event: pr(workspace, 203),
      inputs: slimInputs(seeded, { 'github-token': token })
    })
    expectExit(result, 0)
    expect(annotationsOf(result, 'notice')).toMatch(/comment/i)
    expect(stub.requests.slice(before).length).toBeGreaterThan(0)
    expect(stub.comments().filter((c) => c.issueNumber === 203)).toEqual([])
    expect(await postgres.relationsIn('pr_203')).toEqual(['calendar'])
  })
})

describe('the canary secret', () => {
  it('is masked first and never printed, even with dbt --debug and a failing model', async () => {
    const workspace = branch({
      'models/marts/calendar.sql': CALENDAR_V2,
      'models/marts/broken.sql': BROKEN_SQL
    })
    const result = await run({
      workspace: workspace.dir,
      event: pr(workspace, 204),
      inputs: slimInputs(seeded, { 'dbt-args': '--debug' })
    })
    expectExit(result, 1)
    expect(result.masks).toContain(CANARY_PASSWORD)
    const lines = result.stdout.split('\n')
    const maskLine = lines.indexOf(`::add-mask::${CANARY_PASSWORD}`)
    const dbtLine = lines.findIndex((l) => l.includes('Running with dbt='))
    expect(dbtLine).toBeGreaterThan(maskLine)
    const comments = stub.comments().filter((c) => c.issueNumber === 204)
    expect(comments).toHaveLength(1)
    expectCanaryHidden(result, comments)
  })
})

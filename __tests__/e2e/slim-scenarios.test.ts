// The issue's "done when" scenarios, in order on one workspace and one bucket: a first push to
// main, a PR changing one model, a second push to that PR, a docs-only PR, teardown; then the
// race between an older and a newer production run on their own bucket.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import { startGitHubStub, type GitHubStub } from '../../dev/github-stub.js'
import { columnsOf, execute, query, relationsIn, schemasStartingWith } from './support/pg.js'
import {
  pullRequestEvent,
  pushEvent,
  runAction,
  runPost,
  type ActionRun
} from './support/runner.js'
import { forKey, startFaultProxy } from './support/s3-faults.js'
import { createBucket, getObject, listKeys, s3Endpoint } from './support/s3.js'
import {
  ALL_MODELS,
  ALL_RELATIONS,
  MARKER,
  TOKEN,
  annotationsOf,
  dbtRanIn,
  expectCanaryHidden,
  expectExit,
  modelsIn,
  selectedIds,
  slimInputs
} from './support/slim.js'
import { createWorkspace, type Workspace } from './support/workspace.js'

jest.setTimeout(180_000)

const PR = 101
const DOCS_PR = 102

const STG_ORDERS_V2 = `select
    id as order_id,
    user_id as customer_id,
    order_date,
    status,
    'v2' as revision
from {{ ref('raw_orders') }}
`

const ORDERS_V2 = `select
    order_id,
    customer_id,
    order_date,
    status,
    status = 'completed' as is_completed
from {{ ref('stg_orders') }}
`

describe('slim mode scenarios on PostgreSQL', () => {
  let stub: GitHubStub
  let main: Workspace
  let prBranch: Workspace
  let docsBranch: Workspace
  let bucket: string
  let baseSha: string
  let firstComment: { id: number }
  const runs: ActionRun[] = []

  async function run(options: Parameters<typeof runAction>[0]): Promise<ActionRun> {
    const result = await runAction({ apiUrl: stub.url, ...options })
    runs.push(result)
    return result
  }

  const prComments = (n: number) => stub.comments().filter((c) => c.issueNumber === n)

  beforeAll(async () => {
    stub = await startGitHubStub()
    main = createWorkspace()
    baseSha = main.sha()
    bucket = await createBucket('scenarios')
  })

  afterAll(async () => {
    await stub?.stop()
    for (const workspace of [main, prBranch, docsBranch]) workspace?.cleanup()
  })

  it('(4) a first push to main without a manifest builds everything and publishes it', async () => {
    const result = await run({
      workspace: main.dir,
      event: pushEvent({ sha: baseSha }),
      inputs: slimInputs(bucket)
    })

    expectExit(result, 0)
    expect(result.outputs.status).toBe('success')
    expect(result.outputs['state-available']).toBe('false')
    expect(annotationsOf(result, 'notice')).toMatch(/no production manifest/i)
    const selected = selectedIds(result)
    expect(modelsIn(selected)).toEqual(ALL_MODELS)
    expect(selected).toEqual(
      expect.arrayContaining(['seed.jaffle.raw_customers', 'seed.jaffle.raw_orders'])
    )
    expect(selected.filter((id) => id.startsWith('test.'))).toHaveLength(10)
    expect(result.outputs['selected-count']).toBe(String(selected.length))
    expect(await relationsIn('analytics')).toEqual(ALL_RELATIONS)
    expect(result.outputs['pr-environment'] ?? '').toBe('')

    expect(result.outputs['manifest-uploaded']).toBe('true')
    const manifest = await getObject(bucket, 'prod/manifest.json')
    expect(manifest?.metadata['git-sha']).toBe(baseSha)
    expect(Object.keys(JSON.parse(manifest!.body).nodes)).toContain('model.jaffle.orders')
    const archive = await getObject(bucket, `prod/manifests/${baseSha}.json`)
    expect(archive?.body).toBe(manifest!.body)

    for (const id of selected.filter((i) => i.startsWith('model.')))
      expect(result.summary).toContain(id)
    expect(stub.comments()).toEqual([]) // a push has no pull request to comment on
    expectCanaryHidden(result)
  })

  it('records run_results.json for the build', async () => {
    const result = runs[0]!
    const path = result.outputs['run-results'] ?? ''
    expect(path.startsWith('/')).toBe(true)
    const { readFileSync } = await import('node:fs')
    const results = JSON.parse(readFileSync(path, 'utf8')) as { results: { unique_id: string }[] }
    expect(results.results.map((r) => r.unique_id).sort()).toEqual(selectedIds(result).sort())
  })

  it('(1) a PR changing stg_orders builds it and its children in pr_101, and comments once', async () => {
    prBranch = main.clone()
    const head = prBranch.commit('Add a revision column to stg_orders', {
      'models/staging/stg_orders.sql': STG_ORDERS_V2
    })
    const result = await run({
      workspace: prBranch.dir,
      event: pullRequestEvent({ number: PR, action: 'opened', headSha: head, baseSha }),
      inputs: slimInputs(bucket, { defer: 'true' })
    })

    expectExit(result, 0)
    expect(result.outputs.status).toBe('success')
    expect(result.outputs['state-available']).toBe('true')
    expect(result.outputs['pr-environment']).toBe(`pr_${PR}`)
    const selected = selectedIds(result)
    expect(modelsIn(selected)).toEqual(['customers', 'orders', 'stg_orders'])
    const tests = selected.filter((id) => !id.startsWith('model.'))
    expect(tests.map((id) => id.split('.').slice(0, 3).join('.')).sort()).toEqual([
      'test.jaffle.not_null_customers_customer_id',
      'test.jaffle.not_null_orders_order_id',
      'test.jaffle.not_null_stg_orders_order_id',
      'test.jaffle.unique_customers_customer_id',
      'test.jaffle.unique_orders_order_id',
      'test.jaffle.unique_stg_orders_order_id'
    ])
    expect(result.outputs['selected-count']).toBe('9')

    expect(await relationsIn(`pr_${PR}`)).toEqual(['customers', 'orders', 'stg_orders'])
    expect(await columnsOf(`pr_${PR}`, 'stg_orders')).toContain('revision')
    expect(await columnsOf('analytics', 'stg_orders')).not.toContain('revision')
    // customers joined the deferred production stg_customers: all five customers are there.
    expect(await query(`select * from pr_${PR}.customers`)).toHaveLength(5)

    expect(result.outputs['manifest-uploaded']).toBe('false')
    expect((await getObject(bucket, 'prod/manifest.json'))?.metadata['git-sha']).toBe(baseSha)

    const comments = prComments(PR)
    expect(comments).toHaveLength(1)
    firstComment = comments[0]!
    expect(comments[0]!.body).toContain(MARKER)
    expect(comments[0]!.body).toContain('stg_orders')
    expect(comments[0]!.user.login).toBe('github-actions[bot]')
    const posts = stub.requests.filter((r) => r.method === 'POST')
    expect(posts).toHaveLength(1)
    expect(posts[0]!.authorization).toMatch(new RegExp(`^(token|bearer) ${TOKEN}$`, 'i'))
    expect(result.summary).toContain('model.jaffle.stg_orders')
    expectCanaryHidden(result, comments)
  })

  it('the post step succeeds with the state the main step saved', async () => {
    const main = runs.at(-1)!
    const post = await runPost(main)
    expectExit(post, 0)
    expectCanaryHidden(post)
  })

  it('(2) a second push to the PR edits the same comment instead of adding one', async () => {
    const head = prBranch.commit('Flag completed orders', { 'models/marts/orders.sql': ORDERS_V2 })
    const result = await run({
      workspace: prBranch.dir,
      event: pullRequestEvent({ number: PR, action: 'synchronize', headSha: head, baseSha }),
      inputs: slimInputs(bucket, { defer: 'true' })
    })

    expectExit(result, 0)
    expect(result.outputs.status).toBe('success')
    expect(modelsIn(selectedIds(result))).toEqual(['customers', 'orders', 'stg_orders'])
    expect(await columnsOf(`pr_${PR}`, 'orders')).toContain('is_completed')

    const comments = prComments(PR)
    expect(comments).toHaveLength(1)
    expect(comments[0]!.id).toBe(firstComment.id)
    expect(comments[0]!.body).toContain(MARKER)
    expect(comments[0]!.body).toContain(head.slice(0, 7))
    const patches = stub.requests.filter((r) => r.method === 'PATCH')
    expect(patches.map((r) => r.path)).toEqual([
      `/repos/acme/analytics/issues/comments/${firstComment.id}`
    ])
    expect(stub.requests.filter((r) => r.method === 'POST')).toHaveLength(1)
    expectCanaryHidden(result, comments)
  })

  it('(3) a docs-only PR skips dbt entirely', async () => {
    docsBranch = main.clone()
    const head = docsBranch.commit('Document the project', {
      'README.md': '# jaffle\n\nNow with more documentation.\n'
    })
    const result = await run({
      workspace: docsBranch.dir,
      event: pullRequestEvent({ number: DOCS_PR, action: 'opened', headSha: head, baseSha }),
      inputs: slimInputs(bucket, { defer: 'true' })
    })

    expectExit(result, 0)
    expect(result.outputs.status).toBe('skipped-unchanged')
    expect(result.outputs['state-available']).toBe('true')
    expect(result.outputs['selected-count']).toBe('0')
    expect(JSON.parse(result.outputs.selected ?? 'null')).toEqual([])
    expect(dbtRanIn(docsBranch.dir)).toBe(false)
    expect(await relationsIn(`pr_${DOCS_PR}`)).toEqual([])
    expectCanaryHidden(result, prComments(DOCS_PR))
  })

  it('(3) with skip-unchanged: false, dbt runs and selects nothing', async () => {
    const result = await run({
      workspace: docsBranch.dir,
      event: pullRequestEvent({
        number: DOCS_PR,
        action: 'synchronize',
        headSha: docsBranch.sha(),
        baseSha
      }),
      inputs: slimInputs(bucket, { defer: 'true', 'skip-unchanged': 'false' })
    })

    expectExit(result, 0)
    expect(result.outputs.status).toBe('nothing-selected')
    expect(result.outputs['selected-count']).toBe('0')
    expect(JSON.parse(result.outputs.selected ?? 'null')).toEqual([])
    expect(dbtRanIn(docsBranch.dir)).toBe(true)
    expect(await relationsIn(`pr_${DOCS_PR}`)).toEqual([])
    expect(prComments(DOCS_PR).length).toBeLessThanOrEqual(1)
    expectCanaryHidden(result, prComments(DOCS_PR))
  })

  it('(6) teardown drops the PR environment, and a second teardown is a no-op', async () => {
    // A schema that belongs to the PR, and one that only looks similar (pr_1010).
    await execute(`create schema pr_${PR}_extra; create table pr_${PR}_extra.t (id int)`)
    await execute(`create schema if not exists pr_${PR}0`)
    const closed = pullRequestEvent({
      number: PR,
      action: 'closed',
      headSha: prBranch.sha(),
      baseSha,
      merged: true
    })
    const inputs = slimInputs(bucket, { phase: 'teardown' })

    const first = await run({ workspace: prBranch.dir, event: closed, inputs })
    expectExit(first, 0)
    expect(first.outputs.status).toBe('torn-down')
    expect(await schemasStartingWith(`pr_${PR}`)).toEqual([`pr_${PR}0`])
    expect(await relationsIn('analytics')).toEqual(ALL_RELATIONS)
    expectCanaryHidden(first)

    const second = await run({ workspace: prBranch.dir, event: closed, inputs })
    expectExit(second, 0)
    expect(second.outputs.status).toBe('torn-down')
    expect(await schemasStartingWith(`pr_${PR}`)).toEqual([`pr_${PR}0`])
    expectCanaryHidden(second)
    await execute(`drop schema pr_${PR}0`)
  })

  it('never leaked the canary password into any PR comment', () => {
    expect(stub.comments().length).toBeGreaterThan(0)
    for (const result of runs) expectCanaryHidden(result, stub.comments())
  })
})

const SLOW_SQL = `select 1 as id from (select pg_sleep({{ var('sleep_seconds', 0) }})) s\n`
const CALENDAR_V2 = `select 1 as day_of_week, 'Monday' as day_name
union all
select 2 as day_of_week, 'Tuesday' as day_name
union all
select 3 as day_of_week, 'Wednesday' as day_name
union all
select 4 as day_of_week, 'Thursday' as day_name
`

describe('(5) production manifest races', () => {
  const env = { E2E_PROD_SCHEMA: 'analytics_race' }
  let older: Workspace
  let newer: Workspace
  let bucket: string

  beforeAll(async () => {
    older = createWorkspace({ files: { 'models/marts/slow.sql': SLOW_SQL } })
    bucket = await createBucket('race')
  })

  afterAll(() => {
    older?.cleanup()
    newer?.cleanup()
  })

  async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }

  it('an older run that finishes after a newer one is refused and leaves the newer manifest', async () => {
    const shaX = older.sha()
    const baseline = await runAction({
      workspace: older.dir,
      event: pushEvent({ sha: shaX }),
      inputs: slimInputs(bucket),
      env
    })
    expectExit(baseline, 0)
    expect(baseline.outputs['manifest-uploaded']).toBe('true')
    const etagAtStart = (await getObject(bucket, 'prod/manifest.json'))!.etag

    newer = older.clone()
    const shaY = newer.commit('Add Thursday', { 'models/marts/calendar.sql': CALENDAR_V2 })

    // X goes through a proxy so we see when it has read the ETag; its manifest write is held
    // back until Y has published, which makes the order deterministic on a busy machine.
    const proxy = await startFaultProxy(s3Endpoint())
    const release = proxy.hold(forKey('prod/manifest.json', 'PUT'))
    try {
      const runX = runAction({
        workspace: older.dir,
        event: pushEvent({ sha: shaX }),
        inputs: slimInputs(bucket, {
          's3-endpoint': proxy.url,
          select: 'slow',
          vars: '{sleep_seconds: 8}',
          'upload-manifest': 'true'
        }),
        env
      })
      const readManifest = (r: { method: string; path: string }): boolean =>
        ['GET', 'HEAD'].includes(r.method) && r.path.endsWith('/prod/manifest.json')
      await waitFor(() => proxy.requests.some(readManifest), 30_000)

      const y = await runAction({
        workspace: newer.dir,
        event: pushEvent({ sha: shaY, before: shaX }),
        inputs: slimInputs(bucket),
        env
      })
      const yFinished = Date.now()
      expectExit(y, 0)
      expect(y.outputs['manifest-uploaded']).toBe('true')
      expect(modelsIn(selectedIds(y))).toEqual(['calendar'])
      expect((await getObject(bucket, 'prod/manifest.json'))?.metadata['git-sha']).toBe(shaY)

      release()
      const x = await runX
      expect(Date.now()).toBeGreaterThan(yFinished)
      expect(x.durationMs).toBeGreaterThanOrEqual(8_000) // X really built the slow model
      expectExit(x, 1)
      expect(x.outputs.status).toBe('failed')
      expect(x.outputs['manifest-uploaded']).toBe('false')
      expect(annotationsOf(x, 'error')).toMatch(/newer/i)
      const put = proxy.requests.find(
        (r) => r.method === 'PUT' && r.path.endsWith('/prod/manifest.json')
      )
      expect(put?.headers['if-match']?.replace(/"/g, '')).toBe(etagAtStart.replace(/"/g, ''))
      const manifest = await getObject(bucket, 'prod/manifest.json')
      expect(manifest?.metadata['git-sha']).toBe(shaY)
      expect(await listKeys(bucket, 'prod/manifests/')).toContain(`prod/manifests/${shaY}.json`)
      expectCanaryHidden(x)
      expectCanaryHidden(y)
    } finally {
      release()
      await proxy.stop()
    }
  })
})

// The issue's "done when" scenarios, in order on one workspace and one bucket: a first push to
// main, a PR changing one model, a second push to that PR, a docs-only PR, teardown; then the
// race between an older and a newer production run on their own bucket. Each runs twice: with
// dbt-postgres on PostgreSQL and with dbt-materialize on the Materialize emulator (or a real
// Materialize, see support/backends.ts), each with its own buckets, schemas and PR numbers.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import { readFileSync } from 'node:fs'
import { startGitHubStub, type GitHubStub } from '../../dev/github-stub.js'
import { itUnlessRealMaterialize, slimBackends } from './support/backends.js'
import { CANARY_PASSWORD } from './support/paths.js'
import { duringRun } from './support/processes.js'
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
  calendarWith,
  dbtRanIn,
  expectCanaryHidden,
  expectExit,
  modelsIn,
  selectedIds,
  slimInputs
} from './support/slim.js'
import { createWorkspace, type Workspace } from './support/workspace.js'

jest.setTimeout(900_000) // a bound for hung tests only: runs take minutes on a loaded machine

interface ManifestJson {
  metadata: { adapter_type: string; dbt_version: string }
  nodes: Record<string, unknown>
}

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

describe.each(slimBackends())('slim mode scenarios on %s', (_label, backend) => {
  const { warehouse, target } = backend
  const PR = 101 + backend.prOffset
  const DOCS_PR = 102 + backend.prOffset
  const prodSchema = backend.prodSchema('analytics')
  /** Every run publishes to and defers to this backend's own production schema. */
  const env = { E2E_PROD_SCHEMA: prodSchema }
  const inputs = (bucket: string, extra: Record<string, string> = {}) =>
    slimInputs(bucket, { target, ...extra })
  let stub: GitHubStub
  let main: Workspace
  let prBranch: Workspace
  let docsBranch: Workspace
  let bucket: string
  let baseSha: string
  let firstComment: { id: number }
  const runs: ActionRun[] = []

  async function run(options: Parameters<typeof runAction>[0]): Promise<ActionRun> {
    const result = await runAction({ apiUrl: stub.url, env, ...options })
    runs.push(result)
    return result
  }

  /** The pull request `number` at `branch`'s HEAD, deferring to production. */
  const runPr = (
    branch: Workspace,
    number: number,
    action: 'opened' | 'synchronize',
    extra: Record<string, string> = {}
  ): Promise<ActionRun> =>
    run({
      workspace: branch.dir,
      event: pullRequestEvent({ number, action, headSha: branch.sha(), baseSha }),
      inputs: inputs(bucket, { defer: 'true', ...extra })
    })

  const prComments = (n: number) => stub.comments().filter((c) => c.issueNumber === n)
  const prDeployments = (n: number) => stub.deployments().filter((d) => d.environment === `pr_${n}`)
  /** Requests to the comment endpoints (the PR's deployment records have their own). */
  const commentRequests = (method: string) =>
    stub.requests.filter((r) => r.method === method && r.path.includes('/issues/'))

  beforeAll(async () => {
    // Fresh servers have none of these; a reused real Materialize may, from an earlier run.
    await backend.dropLeftovers([
      prodSchema,
      `pr_${PR}`,
      `pr_${PR}_extra`,
      `pr_${PR}0`,
      `pr_${DOCS_PR}`
    ])
    stub = await startGitHubStub()
    main = createWorkspace()
    baseSha = main.sha()
    bucket = await createBucket(`scenarios-${target}`)
  })

  afterAll(async () => {
    await stub?.stop()
    for (const workspace of [main, prBranch, docsBranch]) workspace?.cleanup()
  })

  it('(4) a first push to main without a manifest builds everything and publishes it', async () => {
    const result = await run({
      workspace: main.dir,
      event: pushEvent({ sha: baseSha }),
      inputs: inputs(bucket)
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
    expect(await warehouse.relationsIn(prodSchema)).toEqual(ALL_RELATIONS)
    expect(result.outputs['pr-environment'] ?? '').toBe('')

    expect(result.outputs['manifest-uploaded']).toBe('true')
    const manifest = await getObject(bucket, 'prod/manifest.json')
    expect(manifest?.metadata['git-sha']).toBe(baseSha)
    const published = JSON.parse(manifest!.body) as ManifestJson
    // Stored beside the commit, so a later run can decide a skip from a HEAD request.
    expect(manifest?.metadata['dbt-version']).toBe(published.metadata.dbt_version)
    expect(Object.keys(published.nodes)).toContain('model.jaffle.orders')
    expect(published.metadata.adapter_type).toBe(backend.adapter) // dbt-postgres or dbt-materialize
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
    const results = JSON.parse(readFileSync(path, 'utf8')) as { results: { unique_id: string }[] }
    expect(results.results.map((r) => r.unique_id).sort()).toEqual(selectedIds(result).sort())
  })

  it('(1) a PR changing stg_orders builds it and its children in its PR environment, and comments once', async () => {
    await backend.preparePrEnvironment(`pr_${PR}`)
    prBranch = main.clone()
    prBranch.commit('Add a revision column to stg_orders', {
      'models/staging/stg_orders.sql': STG_ORDERS_V2
    })
    const result = await runPr(prBranch, PR, 'opened')

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

    expect(await warehouse.relationsIn(`pr_${PR}`)).toEqual(['customers', 'orders', 'stg_orders'])
    expect(await warehouse.columnsOf(`pr_${PR}`, 'stg_orders')).toContain('revision')
    expect(await warehouse.columnsOf(prodSchema, 'stg_orders')).toEqual([
      'order_id',
      'customer_id',
      'order_date',
      'status'
    ])
    // customers joined the deferred production stg_customers: all five customers are there.
    expect(await warehouse.query(`select * from pr_${PR}.customers`)).toHaveLength(5)

    expect(result.outputs['manifest-uploaded']).toBe('false')
    expect((await getObject(bucket, 'prod/manifest.json'))?.metadata['git-sha']).toBe(baseSha)

    const comments = prComments(PR)
    expect(comments).toHaveLength(1)
    firstComment = comments[0]!
    expect(comments[0]!.body).toContain(MARKER)
    expect(comments[0]!.body).toContain('stg_orders')
    expect(comments[0]!.user.login).toBe('github-actions[bot]')
    const posts = commentRequests('POST')
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
    const result = await runPr(prBranch, PR, 'synchronize')

    expectExit(result, 0)
    expect(result.outputs.status).toBe('success')
    expect(modelsIn(selectedIds(result))).toEqual(['customers', 'orders', 'stg_orders'])
    expect(await warehouse.columnsOf(`pr_${PR}`, 'orders')).toContain('is_completed')

    const comments = prComments(PR)
    expect(comments).toHaveLength(1)
    expect(comments[0]!.id).toBe(firstComment.id)
    expect(comments[0]!.body).toContain(MARKER)
    expect(comments[0]!.body).toContain(head.slice(0, 7))
    const patches = commentRequests('PATCH')
    expect(patches.map((r) => r.path)).toEqual([
      `/repos/acme/analytics/issues/comments/${firstComment.id}`
    ])
    expect(commentRequests('POST')).toHaveLength(1)
    expectCanaryHidden(result, comments)
  })

  it('(3) a docs-only PR skips dbt entirely', async () => {
    docsBranch = main.clone()
    docsBranch.commit('Document the project', {
      'README.md': '# jaffle\n\nNow with more documentation.\n'
    })
    const result = await runPr(docsBranch, DOCS_PR, 'opened')

    expectExit(result, 0)
    expect(result.outputs.status).toBe('skipped-unchanged')
    expect(result.outputs['state-available']).toBe('true')
    expect(result.outputs['selected-count']).toBe('0')
    expect(JSON.parse(result.outputs.selected ?? 'null')).toEqual([])
    expect(dbtRanIn(docsBranch.dir)).toBe(false)
    expect(await warehouse.relationsIn(`pr_${DOCS_PR}`)).toEqual([])
    // Nothing was deployed, so no deployment is recorded, and its one write is the comment.
    expect(prDeployments(DOCS_PR)).toEqual([])
    expect(prComments(DOCS_PR)).toHaveLength(1)
    expectCanaryHidden(result, prComments(DOCS_PR))
  })

  it('(3) with skip-unchanged: false, dbt runs and selects nothing', async () => {
    const result = await runPr(docsBranch, DOCS_PR, 'synchronize', { 'skip-unchanged': 'false' })

    expectExit(result, 0)
    expect(result.outputs.status).toBe('nothing-selected')
    expect(result.outputs['selected-count']).toBe('0')
    expect(JSON.parse(result.outputs.selected ?? 'null')).toEqual([])
    expect(dbtRanIn(docsBranch.dir)).toBe(true)
    expect(await warehouse.relationsIn(`pr_${DOCS_PR}`)).toEqual([])
    expect(prComments(DOCS_PR)).toHaveLength(1)
    expect(prDeployments(DOCS_PR).map((d) => d.statuses.map((s) => s.state))).toEqual([
      ['in_progress', 'success']
    ])
    expectCanaryHidden(result, prComments(DOCS_PR))
  })

  it('(6) teardown drops the PR environment, and a second teardown is a no-op', async () => {
    // A schema (and on Materialize a cluster) that belongs to the PR, and one that only looks
    // similar (pr_<n>0); Materialize refuses several DDL statements in one message.
    await warehouse.execute(`create schema pr_${PR}_extra`)
    await warehouse.execute(`create table pr_${PR}_extra.t (id int)`)
    await warehouse.execute(`create schema if not exists pr_${PR}0`)
    await backend.preparePrEnvironment(`pr_${PR}_extra`)
    await backend.preparePrEnvironment(`pr_${PR}0`)
    const clusters = await warehouse.clustersStartingWith(`pr_${PR}`)
    expect(clusters).toEqual(target === 'mz' ? [`pr_${PR}`, `pr_${PR}0`, `pr_${PR}_extra`] : [])
    const closed = pullRequestEvent({
      number: PR,
      action: 'closed',
      headSha: prBranch.sha(),
      baseSha,
      merged: true
    })
    const teardown = inputs(bucket, { phase: 'teardown' })

    const first = await run({ workspace: prBranch.dir, event: closed, inputs: teardown })
    expectExit(first, 0)
    expect(first.outputs.status).toBe('torn-down')
    expect(await warehouse.schemasStartingWith(`pr_${PR}`)).toEqual([`pr_${PR}0`])
    expect(await warehouse.clustersStartingWith(`pr_${PR}`)).toEqual(
      clusters.filter((name) => name === `pr_${PR}0`)
    )
    expect(await warehouse.relationsIn(prodSchema)).toEqual(ALL_RELATIONS)
    for (const cluster of clusters.filter((name) => name !== `pr_${PR}0`))
      expect(first.stdout).toContain(`Dropped cluster ${cluster}.`)
    expectCanaryHidden(first)

    const second = await run({ workspace: prBranch.dir, event: closed, inputs: teardown })
    expectExit(second, 0)
    expect(second.outputs.status).toBe('torn-down')
    expect(second.summary).toMatch(/nothing to drop/i)
    expect(await warehouse.schemasStartingWith(`pr_${PR}`)).toEqual([`pr_${PR}0`])
    expect(await warehouse.clustersStartingWith(`pr_${PR}`)).toEqual(
      clusters.filter((name) => name === `pr_${PR}0`)
    )
    expectCanaryHidden(second)
    await backend.dropLeftovers([`pr_${PR}0`])
  })

  itUnlessRealMaterialize(backend, 'its password is not the canary')(
    "masked the profile's canary password in every run",
    () => {
      for (const result of runs) expect(result.masks).toContain(CANARY_PASSWORD)
    }
  )

  it('never leaked the canary password into any PR comment', () => {
    expect(stub.comments().length).toBeGreaterThan(0)
    for (const result of runs) expectCanaryHidden(result, stub.comments())
  })
})

/** A model only the older run rebuilds; portable, since pg_sleep is not Materialize SQL. */
const EXTRA_SQL = `select 1 as id\n`
const CALENDAR_V2 = calendarWith(4, 'Thursday')

describe.each(slimBackends())('(5) production manifest races on %s', (_label, backend) => {
  const prodSchema = backend.prodSchema('analytics_race')
  const env = { E2E_PROD_SCHEMA: prodSchema }
  const inputs = (bucket: string, extra: Record<string, string> = {}) =>
    slimInputs(bucket, { target: backend.target, ...extra })
  let older: Workspace
  let newer: Workspace
  let bucket: string

  beforeAll(async () => {
    await backend.dropLeftovers([prodSchema])
    older = createWorkspace({ files: { 'models/marts/extra.sql': EXTRA_SQL } })
    bucket = await createBucket(`race-${backend.target}`)
  })

  afterAll(() => {
    older?.cleanup()
    newer?.cleanup()
  })

  /** unique_id → status from the run_results.json a run points at. */
  function resultStatuses(run: ActionRun): Record<string, string> {
    const file = run.outputs['run-results'] ?? ''
    const results = JSON.parse(readFileSync(file, 'utf8')) as {
      results: { unique_id: string; status: string }[]
    }
    return Object.fromEntries(results.results.map((r) => [r.unique_id, r.status]))
  }

  it('an older run that finishes after a newer one is refused and leaves the newer manifest', async () => {
    const shaX = older.sha()
    const baseline = await runAction({
      workspace: older.dir,
      event: pushEvent({ sha: shaX }),
      inputs: inputs(bucket),
      env
    })
    expectExit(baseline, 0)
    expect(baseline.outputs['manifest-uploaded']).toBe('true')
    const etagAtStart = (await getObject(bucket, 'prod/manifest.json'))!.etag

    newer = older.clone()
    const shaY = newer.commit('Add Thursday', { 'models/marts/calendar.sql': CALENDAR_V2 })

    // X goes through a proxy so we see when it has read the ETag; its manifest write is held
    // back until Y has published, which makes the order deterministic on a busy machine
    // (no sleeping model needed: X only gets to publish after Y has finished).
    const proxy = await startFaultProxy(s3Endpoint())
    const release = proxy.hold(forKey('prod/manifest.json', 'PUT'))
    try {
      const runX = runAction({
        workspace: older.dir,
        event: pushEvent({ sha: shaX }),
        inputs: inputs(bucket, {
          's3-endpoint': proxy.url,
          select: 'extra',
          'upload-manifest': 'true'
        }),
        env
      })
      const readManifest = (r: { method: string; path: string }): boolean =>
        ['GET', 'HEAD'].includes(r.method) && r.path.endsWith('/prod/manifest.json')
      await duringRun(runX, 'X reading the production manifest', () =>
        proxy.requests.some(readManifest)
      )

      const y = await runAction({
        workspace: newer.dir,
        event: pushEvent({ sha: shaY, before: shaX }),
        inputs: inputs(bucket),
        env
      })
      const yFinished = Date.now()
      expectExit(y, 0)
      expect(y.outputs['manifest-uploaded']).toBe('true')
      expect(modelsIn(selectedIds(y))).toEqual(['calendar'])
      expect(await backend.warehouse.query(`select * from ${prodSchema}.calendar`)).toHaveLength(4)
      expect((await getObject(bucket, 'prod/manifest.json'))?.metadata['git-sha']).toBe(shaY)

      release()
      const x = await runX
      expect(Date.now()).toBeGreaterThan(yFinished)
      expectExit(x, 1)
      // X really built its model before its publish was refused.
      expect(resultStatuses(x)).toEqual({ 'model.jaffle.extra': 'success' })
      expect(x.outputs.status).toBe('failed')
      expect(x.outputs['manifest-uploaded']).toBe('false')
      // X's checkout lacks Y and no GitHub API answers here, so X cannot order the commits.
      expect(annotationsOf(x, 'error')).toContain(
        `This run's manifest (commit ${shaX}) was not published: while this run was deploying, s3://${bucket}/prod/manifest.json was replaced by the manifest of ${shaY}. This run cannot tell whether that commit is newer or older than ${shaX}: git cannot relate the two commits`
      )
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

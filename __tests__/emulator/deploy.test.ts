// The real dbt-materialize 1.9.10 drives the emulator through a whole blue/green deployment
// of the fixture project. The tests run in order and share one emulator and project copy.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import { startEmulator, type Emulator } from '../../dev/emulator/index.js'
import { copyFixtureProject, type DbtProject, type DbtResult } from './support/dbt.js'

const DEPLOY = ['--vars', 'deploy: True']
const POLL_EVERY_SECOND = '{poll_interval: 1}'
const HYDRATING = /analytics_dbt_deploy: hydrating \(\d+\/4 objects\)/
const THREE_OF_FOUR = /analytics_dbt_deploy: hydrating \(3\/4 objects\)/g

// Each step runs dbt, which takes seconds on an idle machine and far longer on a loaded one.
jest.setTimeout(900_000) // a bound for hung tests only: runs take minutes on a loaded machine

let emulator: Emulator
let project: DbtProject

async function dbt(...args: string[]): Promise<DbtResult> {
  return project.run(args)
}

function expectSuccess(result: DbtResult): void {
  if (result.code !== 0) throw new Error(`dbt failed (${result.code}):\n${result.output}`)
}

/** Where each user object lives: `schema.name` → cluster (or null), plus its id. */
async function placement(): Promise<Record<string, { id: string; cluster: string | null }>> {
  const rows = await emulator.control.query<{ key: string; id: string; cluster: string | null }>(`
    SELECT s.name || '.' || o.name AS key, o.id, c.name AS cluster
    FROM mz_catalog.mz_objects o
    JOIN mz_catalog.mz_schemas s ON s.id = o.schema_id
    LEFT JOIN mz_catalog.mz_clusters c ON c.id = o.cluster_id
    WHERE o.id LIKE 'u%' AND s.name IN ('prod', 'prod_dbt_deploy')`)
  return Object.fromEntries(rows.map((r) => [r.key, { id: r.id, cluster: r.cluster }]))
}

async function clusterIds(): Promise<Record<string, string>> {
  const rows = await emulator.control.query<{ name: string; id: string }>(
    'SELECT name, id FROM mz_catalog.mz_clusters'
  )
  return Object.fromEntries(rows.map((r) => [r.name, r.id]))
}

beforeAll(async () => {
  emulator = await startEmulator()
  project = copyFixtureProject(emulator)
  await emulator.control.query(
    `SELECT mz_emulator.create_cluster('analytics', true, '25cc', 1, NULL, NULL)`
  )
})

afterAll(async () => {
  project?.remove()
  await emulator?.stop()
})

describe('dbt-materialize against the emulator', () => {
  it('1. seeds, runs (two threads on separate connections) and tests production', async () => {
    expectSuccess(await dbt('seed'))
    const run = await dbt('run')
    expectSuccess(run)
    expect(run.output).toMatch(/Concurrency: 2 threads/)
    expect(new Set(project.threadIds()).size).toBe(2)
    expectSuccess(await dbt('test'))
    expect(await placement()).toMatchObject({
      'prod.stg_orders': { cluster: null },
      'prod.order_totals': { cluster: 'analytics' },
      'prod.order_totals_customer_id_idx': { cluster: 'analytics' },
      'prod.completed_orders_primary_idx': { cluster: 'analytics' }
    })
  })

  it('2a. deploy_init under the deploy vars takes green for production, so the action keeps production vars for it', async () => {
    // dbt-materialize resolves the production cluster with generate_final_cluster_name, which
    // appends _dbt_deploy whenever `deploy` is a CLI var: the macro operations cannot share the
    // green invocations' vars (and with them one partial parse state).
    const init = await dbt('run-operation', 'deploy_init', ...DEPLOY)
    expect(init.code).not.toBe(0)
    expect(init.output).toMatch(/analytics_dbt_deploy does not exist/)
    const clusters = await clusterIds()
    expect(clusters.analytics_dbt_deploy).toBeUndefined()
  })

  it('2. deploy_init creates the green schema and cluster', async () => {
    expectSuccess(await dbt('run-operation', 'deploy_init'))
    const schemas = await emulator.control.query(
      `SELECT name FROM mz_catalog.mz_schemas WHERE name = 'prod_dbt_deploy'`
    )
    expect(schemas).toHaveLength(1)
    const [cluster] = await emulator.control.query(
      `SELECT managed, size, replication_factor FROM mz_catalog.mz_clusters WHERE name = 'analytics_dbt_deploy'`
    )
    expect(cluster).toEqual({ managed: true, size: '25cc', replication_factor: 1 })
  })

  it('3. dbt run --vars deploy builds into the green schema and cluster', async () => {
    await emulator.control.setDefaultHydration({ delaySeconds: 6 })
    expectSuccess(await dbt('run', ...DEPLOY))
    await emulator.control.setDefaultHydration({ delaySeconds: 0 })
    expect(await placement()).toMatchObject({
      'prod_dbt_deploy.stg_orders': { cluster: null },
      'prod_dbt_deploy.order_totals': { cluster: 'analytics_dbt_deploy' },
      'prod_dbt_deploy.order_totals_customer_id_idx': { cluster: 'analytics_dbt_deploy' },
      'prod_dbt_deploy.completed_orders_primary_idx': { cluster: 'analytics_dbt_deploy' }
    })
  })

  it('2b. deploy_init fails again against the non-empty green environment', async () => {
    const again = await dbt('run-operation', 'deploy_init')
    expect(again.code).not.toBe(0)
    expect(again.output).toMatch(
      /Deployment schema prod_dbt_deploy already exists and is not empty/
    )
  })

  it('4. deploy_await waits while green hydrates, then returns once it has', async () => {
    // Green stays unhydrated until deploy_await has reported it hydrating, then hydrates.
    const target = 'prod_dbt_deploy.order_totals'
    await emulator.control.scriptObject(target, { neverHydrates: true })
    let released: Promise<number> | undefined
    const awaited = await project.run(
      ['run-operation', 'deploy_await', '--args', POLL_EVERY_SECOND],
      {
        watch: (output) => {
          if (!released && HYDRATING.test(output))
            released = emulator.control.scriptObject(target, {
              neverHydrates: false,
              delaySeconds: 0
            })
        }
      }
    )
    expectSuccess(awaited)
    expect(await released).toBe(1)
    expect(awaited.output).toMatch(HYDRATING)
    expect(awaited.output).toMatch(/analytics_dbt_deploy: ready \(hydration: 4\/4, lag: 0s\)/)
  })

  it('4b. deploy_await keeps waiting on a stalled object until stopped from outside', async () => {
    await emulator.control.scriptObject('prod_dbt_deploy.order_totals', { neverHydrates: true })
    const stalled = await project.run(
      ['run-operation', 'deploy_await', '--args', POLL_EVERY_SECOND],
      {
        // Stopped once it has polled the stalled object twice.
        watch: (output, kill) => {
          if ((output.match(THREE_OF_FOUR) ?? []).length >= 2) kill()
        }
      }
    )
    await emulator.control.scriptObject('prod_dbt_deploy.order_totals', { neverHydrates: false })
    expect(stalled.signal).toBe('SIGKILL')
    expect(stalled.output.match(THREE_OF_FOUR)?.length).toBeGreaterThan(1)
    expect(stalled.output).not.toMatch(/are ready/)
  })

  it('5. dbt test --vars deploy runs against green', async () => {
    const tested = await dbt('test', ...DEPLOY)
    expectSuccess(tested)
    expect(tested.output).toMatch(/PASS=6 WARN=0 ERROR=0/)
    const compiled = project
      .compiledSql()
      .filter((f) => f.path.includes('order_totals_customer_id'))
    expect(compiled.length).toBeGreaterThan(0)
    for (const file of compiled) expect(file.sql).toMatch(/"prod_dbt_deploy"\."order_totals"/)
  })

  it('6. deploy_promote with dry_run changes nothing', async () => {
    const before = await placement()
    const dry = await dbt('run-operation', 'deploy_promote', '--args', '{dry_run: true}')
    expectSuccess(dry)
    expect(dry.output).toMatch(/DRY RUN: ALTER SCHEMA "prod" SWAP WITH "prod_dbt_deploy"/)
    expect(await placement()).toEqual(before)
  })

  it('6/7. a one-shot 40001 is retried, then the swap is atomic', async () => {
    const before = await placement()
    const clustersBefore = await clusterIds()
    await emulator.control.failNextSwaps(1)
    const promoted = await dbt('run-operation', 'deploy_promote', '--args', '{retry_backoff: 0.1}')
    expectSuccess(promoted)
    expect(promoted.output).toMatch(/Atomic swap succeeded on attempt 2/)

    const after = await placement()
    // Green objects now answer under production names, in the production-named cluster.
    expect(after['prod.order_totals']).toEqual({
      id: before['prod_dbt_deploy.order_totals']!.id,
      cluster: 'analytics'
    })
    expect(after['prod_dbt_deploy.order_totals']).toEqual({
      id: before['prod.order_totals']!.id,
      cluster: 'analytics_dbt_deploy'
    })
    const clustersAfter = await clusterIds()
    expect(clustersAfter.analytics).toBe(clustersBefore.analytics_dbt_deploy)
    expect(clustersAfter.analytics_dbt_deploy).toBe(clustersBefore.analytics)
    const [tagged] = await emulator.control.query(
      `SELECT obj_description('prod'::regnamespace) AS comment`
    )
    expect(tagged!.comment).toMatch(/Deployment by/)
  })

  it('7. a persistent 40001 fails the promotion and leaves nothing half-swapped', async () => {
    const before = await placement()
    const clustersBefore = await clusterIds()
    await emulator.control.failNextSwaps(10)
    const failed = await dbt(
      'run-operation',
      'deploy_promote',
      '--args',
      '{max_retries: 1, retry_backoff: 0.1}'
    )
    await emulator.control.failNextSwaps(0)
    expect(failed.code).not.toBe(0)
    expect(failed.output).toMatch(/Atomic swap transaction failed after 2 attempts/)
    expect(await placement()).toEqual(before)
    expect(await clusterIds()).toEqual(clustersBefore)
  })

  it('8. deploy_cleanup drops the green schema and cluster', async () => {
    expectSuccess(await dbt('run-operation', 'deploy_cleanup'))
    const leftovers = await emulator.control.query(`
      SELECT name FROM mz_catalog.mz_schemas WHERE name = 'prod_dbt_deploy'
      UNION ALL SELECT name FROM mz_catalog.mz_clusters WHERE name = 'analytics_dbt_deploy'`)
    expect(leftovers).toEqual([])
    expect(Object.keys(await placement()).every((key) => key.startsWith('prod.'))).toBe(true)
    // Production still serves after the old blue objects are gone.
    expectSuccess(await dbt('test'))
  })
})

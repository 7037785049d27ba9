// Scripted hydration, lag and replica faults, observed through the unchanged upstream
// `are_clusters_ready` query and the Materialize docs' hydration and lag queries.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import pg from 'pg'
import { startEmulator, type Emulator } from '../../dev/emulator/index.js'
import { areClustersReadySql } from '../../dev/dbt-macros.js'

// "Troubleshoot hydration failures": user objects not yet hydrated, per replica.
const UNHYDRATED_OBJECTS = `
SELECT c.name AS cluster_name, o.name AS object_name, o.type, h.replica_id, h.hydrated
FROM mz_internal.mz_hydration_statuses h
JOIN mz_catalog.mz_objects o ON h.object_id = o.id
JOIN mz_catalog.mz_clusters c ON o.cluster_id = c.id
WHERE h.hydrated IS NOT TRUE AND o.id LIKE 'u%'
ORDER BY c.name, o.name`

// "Freshness troubleshooting": the laggiest user objects.
const LAGGIEST_OBJECTS = `
SELECT o.id AS object_id, o.name AS object_name, o.type AS object_type, l.lag,
       c.name AS cluster_name, c.id AS cluster_id
FROM mz_internal.mz_wallclock_global_lag l
JOIN mz_catalog.mz_objects o ON l.object_id = o.id
JOIN mz_catalog.mz_clusters c ON o.cluster_id = c.id
WHERE o.id LIKE 'u%'
ORDER BY l.lag DESC NULLS LAST
LIMIT 20`

// "Replace a materialized view": one view's hydration.
const MATERIALIZED_VIEW_HYDRATION = `
SELECT mv.name, h.hydrated
FROM mz_catalog.mz_materialized_views mv
JOIN mz_internal.mz_hydration_statuses h ON (h.object_id = mv.id)
WHERE mv.name = 'totals'`

interface ClusterStatus {
  cluster_name: string
  status: string
  failure_reason: string | null
  hydrated_count: string
  total_count: string
  max_lag_secs: string
  total_replicas: string
}

// Generous: starting PostgreSQL is slow on a loaded machine.
jest.setTimeout(900_000) // a bound for hung tests only: runs take minutes on a loaded machine

let emulator: Emulator
let client: pg.Client

async function statuses(lagThreshold = '1s'): Promise<Record<string, ClusterStatus>> {
  const sql = areClustersReadySql(['blue', 'empty', 'missing'], lagThreshold)
  const { rows } = await client.query<ClusterStatus>(sql)
  return Object.fromEntries(rows.map((r) => [r.cluster_name, r]))
}

async function blueStatus(): Promise<string> {
  return (await statuses()).blue!.status
}

beforeAll(async () => {
  emulator = await startEmulator()
  client = new pg.Client({ connectionString: emulator.url() })
  await client.connect()
  // Blue's objects stay unhydrated until the first test releases them.
  await emulator.control.setDefaultHydration({ neverHydrates: true })
  // One statement per message: Materialize runs DDL only outside a transaction block.
  for (const statement of [
    `CREATE CLUSTER blue (SIZE = '25cc', REPLICATION FACTOR = 2)`,
    `CREATE CLUSTER empty (SIZE = '25cc')`,
    'CREATE TABLE orders (id int, amount int)',
    'CREATE MATERIALIZED VIEW totals IN CLUSTER blue AS SELECT sum(amount) AS total FROM orders',
    'CREATE DEFAULT INDEX IN CLUSTER blue ON totals'
  ])
    await client.query(statement)
  await emulator.control.setDefaultHydration({ delaySeconds: 0, neverHydrates: false })
})

afterAll(async () => {
  await client?.end()
  await emulator?.stop()
})

describe('are_clusters_ready (unchanged upstream SQL)', () => {
  it('goes hydrating → ready when released, and an empty cluster is ready at once', async () => {
    const first = await statuses()
    expect(first.blue).toMatchObject({ status: 'hydrating', total_count: '3', total_replicas: '2' })
    expect(first.blue!.hydrated_count).toBe('1') // the si… introspection index
    expect(first.empty).toMatchObject({ status: 'ready', hydrated_count: '1', total_count: '1' })
    expect(first.missing).toBeUndefined() // the macro reports it as cluster_not_found

    const unhydrated = await client.query<{ object_name: string }>(UNHYDRATED_OBJECTS)
    expect(unhydrated.rows.map((r) => r.object_name)).toEqual([
      'totals',
      'totals',
      'totals_primary_idx',
      'totals_primary_idx'
    ])
    expect(
      (await client.query<{ name: string; hydrated: boolean }>(MATERIALIZED_VIEW_HYDRATION)).rows[0]
    ).toEqual({
      name: 'totals',
      hydrated: false
    })

    for (const name of ['totals', 'totals_primary_idx'])
      await emulator.control.scriptObject(name, { neverHydrates: false })
    expect(await statuses()).toMatchObject({ blue: { status: 'ready', hydrated_count: '3' } })
    expect((await client.query<{ object_name: string }>(UNHYDRATED_OBJECTS)).rows).toEqual([])
    expect(
      (await client.query<{ name: string; hydrated: boolean }>(MATERIALIZED_VIEW_HYDRATION))
        .rows[0]!.hydrated
    ).toBe(true)
  })

  it('reports lagging above the threshold and ready below it', async () => {
    await emulator.control.scriptObject('totals', { lagSeconds: 5 })
    expect((await statuses()).blue).toMatchObject({ status: 'lagging', max_lag_secs: '5' })
    expect((await statuses('10s')).blue!.status).toBe('ready')
    const laggiest = (
      await client.query<{ object_name: string; cluster_name: string; lag: unknown }>(
        LAGGIEST_OBJECTS
      )
    ).rows[0]
    expect(laggiest).toMatchObject({ object_name: 'totals', cluster_name: 'blue' })
    expect(laggiest?.lag).toMatchObject({ seconds: 5 })
    await emulator.control.scriptObject('totals', { lagSeconds: 0 })
    expect(await blueStatus()).toBe('ready')
  })

  it('fails a cluster once every replica is OOM-looping', async () => {
    await emulator.control.failReplicas('blue')
    expect((await statuses()).blue).toMatchObject({
      status: 'failing',
      failure_reason: 'all_replicas_problematic'
    })
    await emulator.control.healReplicas('blue')
    expect(await blueStatus()).toBe('ready')
  })

  it('fails a cluster without replicas', async () => {
    await client.query('ALTER CLUSTER blue SET (REPLICATION FACTOR = 0)')
    expect((await statuses()).blue).toMatchObject({
      status: 'failing',
      failure_reason: 'no_replicas'
    })
    await emulator.control.setReplicationFactor('blue', 1)
    expect(await blueStatus()).toBe('ready')
  })

  it('keeps an object that never hydrates hydrating', async () => {
    expect(await emulator.control.scriptObject('totals_primary_idx', { neverHydrates: true })).toBe(
      1
    )
    expect(await blueStatus()).toBe('hydrating')
    await emulator.control.scriptObject('totals_primary_idx', { neverHydrates: false })
    expect(await blueStatus()).toBe('ready')
  })
})

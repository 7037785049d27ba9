// Issue 10, test 6: introspection as it really arrives, each switched on through the control
// API and moved on by control calls (the emulated clock), never by waiting: hydration rows that
// arrive late or with a NULL replica, minute-binned wallclock lag, and ON REFRESH clusters
// without replicas outside a refresh. dbt-materialize's are_clusters_ready (unchanged upstream
// SQL) sees them as it would on Materialize.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import pg from 'pg'
import { startEmulator, type Emulator } from '../../dev/emulator/index.js'
import { areClustersReadySql } from '../../dev/dbt-macros.js'

jest.setTimeout(900_000) // a bound for hung tests only: PostgreSQL starts slowly on a loaded machine

const HOUR = 3600

interface ClusterStatus {
  status: string
  failure_reason: string | null
  hydrated_count: string
  total_count: string
  max_lag_secs: string
  total_replicas: string
}

let emulator: Emulator
let client: pg.Client

beforeAll(async () => {
  emulator = await startEmulator()
  client = new pg.Client({ connectionString: emulator.url() })
  await client.connect()
  await client.query('CREATE TABLE orders (id int, amount int)')
})

afterAll(async () => {
  await client?.end()
  await emulator?.stop()
})

async function run(...statements: string[]): Promise<void> {
  for (const statement of statements) await client.query(statement)
}

async function readiness(cluster: string): Promise<ClusterStatus> {
  const { rows } = await client.query<ClusterStatus>(areClustersReadySql([cluster]))
  return rows[0]!
}

/** mz_hydration_statuses of the user objects on `cluster`, as `name replica hydrated`. */
async function hydrationRows(cluster: string): Promise<string[]> {
  const { rows } = await client.query<{ row: string }>(
    `SELECT o.name || ' ' || coalesce(r.name, 'NULL') || ' ' || h.hydrated AS row
     FROM mz_internal.mz_hydration_statuses h
     JOIN mz_objects o ON o.id = h.object_id
     JOIN mz_clusters c ON c.id = o.cluster_id
     LEFT JOIN mz_cluster_replicas r ON r.id = h.replica_id
     WHERE c.name = $1 AND o.id LIKE 'u%'
     ORDER BY 1`,
    [cluster]
  )
  return rows.map((r) => r.row)
}

/** Four objects on a new `cluster`: `<cluster>_a` as by default, the other three as `rest` scripts. */
async function fourObjects(cluster: string, rest: () => Promise<void>): Promise<void> {
  await run(
    `CREATE CLUSTER ${cluster} (SIZE = '25cc')`,
    `CREATE MATERIALIZED VIEW ${cluster}_a IN CLUSTER ${cluster} AS SELECT count(*) AS n FROM orders`
  )
  await rest()
  await run(
    `CREATE MATERIALIZED VIEW ${cluster}_b IN CLUSTER ${cluster} AS SELECT sum(amount) AS s FROM orders`,
    `CREATE DEFAULT INDEX IN CLUSTER ${cluster} ON ${cluster}_a`,
    `CREATE DEFAULT INDEX IN CLUSTER ${cluster} ON ${cluster}_b`
  )
  await emulator.control.setDefaultHydration({ rowDelaySeconds: 0, replicaDelaySeconds: 0 })
}

describe('hydration rows that arrive late', () => {
  it('lists 1 of 4 objects first, as upstream counts it, and the rest when their rows arrive', async () => {
    await fourObjects('late', () => emulator.control.setDefaultHydration({ rowDelaySeconds: HOUR }))

    expect(await hydrationRows('late')).toEqual(['late_a r1 true'])
    // Upstream's rule counts the rows that exist: the cluster's introspection index and late_a.
    expect(await readiness('late')).toMatchObject({
      status: 'ready',
      hydrated_count: '2',
      total_count: '2'
    })

    await emulator.control.advanceClock(HOUR)
    expect(await hydrationRows('late')).toEqual([
      'late_a r1 true',
      'late_a_primary_idx r1 true',
      'late_b r1 true',
      'late_b_primary_idx r1 true'
    ])
    expect(await readiness('late')).toMatchObject({ status: 'ready', total_count: '5' })
  })
})

describe('hydration rows with a NULL replica', () => {
  it('has one NULL-replica row per object until the replicas report it', async () => {
    await fourObjects('pending', () =>
      emulator.control.setDefaultHydration({ replicaDelaySeconds: HOUR })
    )

    expect(await hydrationRows('pending')).toEqual([
      'pending_a r1 true',
      'pending_a_primary_idx NULL false',
      'pending_b NULL false',
      'pending_b_primary_idx NULL false'
    ])
    const { rows } = await client.query<{ n: string }>(
      `SELECT count(*) AS n FROM mz_internal.mz_compute_hydration_statuses h
       JOIN mz_objects o ON o.id = h.object_id WHERE o.name LIKE 'pending\\_%'`
    )
    expect(rows[0]!.n).toBe('1') // no replica reported the other three
    // NULL-replica rows join no replica: upstream's rule sees 2 of 2.
    expect(await readiness('pending')).toMatchObject({ status: 'ready', total_count: '2' })

    await emulator.control.advanceClock(HOUR)
    expect(await hydrationRows('pending')).toEqual([
      'pending_a r1 true',
      'pending_a_primary_idx r1 true',
      'pending_b r1 true',
      'pending_b_primary_idx r1 true'
    ])
  })
})

describe('minute-binned wallclock lag', () => {
  const lagOf = async (name: string) => {
    const { rows } = await client.query<{ seconds: string }>(
      `SELECT extract(epoch FROM l.lag)::int::text AS seconds FROM mz_internal.mz_wallclock_global_lag l
       JOIN mz_objects o ON o.id = l.object_id WHERE o.name = $1`,
      [name]
    )
    return rows.map((r) => r.seconds)
  }

  afterAll(() => emulator.control.setLagMode('live'))

  it('has no lag for a new object until its first minute closes, then the minute-aligned sample', async () => {
    await emulator.control.setLagMode('binned')
    await run(
      `CREATE CLUSTER binned (SIZE = '25cc')`,
      'CREATE MATERIALIZED VIEW binned_a IN CLUSTER binned AS SELECT count(*) AS n FROM orders'
    )
    await emulator.control.scriptObject('binned_a', { lagSeconds: 7 })
    expect(await lagOf('binned_a')).toEqual([])
    expect((await readiness('binned')).max_lag_secs).toBe('0') // no sample yet: upstream sees no lag

    const closed = await emulator.control.closeLagBin()
    expect(closed.getUTCSeconds()).toBe(0)
    expect(await lagOf('binned_a')).toEqual(['7'])
    const { rows } = await client.query<{ occurred_at: Date }>(
      `SELECT h.occurred_at FROM mz_internal.mz_wallclock_global_lag_recent_history h
       JOIN mz_objects o ON o.id = h.object_id WHERE o.name = 'binned_a'`
    )
    expect(rows.map((r) => r.occurred_at.getTime())).toEqual([closed.getTime() - 60_000])
    expect(await readiness('binned')).toMatchObject({ status: 'lagging', max_lag_secs: '7' })
  })

  it("drops an object's lag once its last minute is 5 minutes old", async () => {
    const { rows } = await client.query<{ id: string }>(
      `SELECT id FROM mz_objects WHERE name = 'binned_a'`
    )
    const lagRows = async (): Promise<number> => {
      const lags = await client.query(
        'SELECT lag FROM mz_internal.mz_wallclock_global_lag WHERE object_id = $1',
        [rows[0]!.id]
      )
      return lags.rowCount ?? 0
    }
    await emulator.control.closeLagBin() // its last sample, just now
    await run('DROP MATERIALIZED VIEW binned_a')
    expect(await lagRows()).toBe(1)
    await emulator.control.advanceClock(3 * 60)
    expect(await lagRows()).toBe(1)
    await emulator.control.advanceClock(2 * 60)
    expect(await lagRows()).toBe(0)
  })
})

describe('SCHEDULE = ON REFRESH clusters', () => {
  const replicas = async (cluster: string): Promise<number> => {
    const { rows } = await client.query<{ n: string }>(
      `SELECT count(r.id) AS n FROM mz_clusters c LEFT JOIN mz_cluster_replicas r ON r.cluster_id = c.id
       WHERE c.name = $1`,
      [cluster]
    )
    return Number(rows[0]!.n)
  }

  it('have no replica outside a refresh, and their replicas during one', async () => {
    await run(
      `CREATE CLUSTER nightly (SIZE = '25cc', SCHEDULE = ON REFRESH (HYDRATION TIME ESTIMATE = '1 hour'))`,
      'CREATE MATERIALIZED VIEW nightly_a IN CLUSTER nightly AS SELECT count(*) AS n FROM orders'
    )
    expect(await replicas('nightly')).toBe(0)
    expect(await hydrationRows('nightly')).toEqual(['nightly_a NULL false'])
    expect(await readiness('nightly')).toMatchObject({
      status: 'failing',
      failure_reason: 'no_replicas'
    })

    await emulator.control.startRefresh('nightly')
    expect(await replicas('nightly')).toBe(1)
    expect(await hydrationRows('nightly')).toEqual(['nightly_a r1 true'])
    expect(await readiness('nightly')).toMatchObject({ status: 'ready', total_replicas: '1' })

    await emulator.control.finishRefresh('nightly')
    expect(await replicas('nightly')).toBe(0)
  })

  it('come from ALTER CLUSTER … SET (SCHEDULE = ON REFRESH), and go back to MANUAL', async () => {
    await run(`CREATE CLUSTER rescheduled (SIZE = '25cc')`)
    expect(await replicas('rescheduled')).toBe(1)
    await run(
      `ALTER CLUSTER rescheduled SET (SCHEDULE = ON REFRESH (HYDRATION TIME ESTIMATE = '10 minutes'))`
    )
    expect(await replicas('rescheduled')).toBe(0)
    const { rows } = await client.query<{ type: string; estimate: string }>(
      `SELECT s.type, s.refresh_hydration_time_estimate::text AS estimate
       FROM mz_internal.mz_cluster_schedules s JOIN mz_clusters c ON c.id = s.cluster_id
       WHERE c.name = 'rescheduled'`
    )
    expect(rows).toEqual([{ type: 'on-refresh', estimate: '00:10:00' }])
    await run(`ALTER CLUSTER rescheduled SET (SCHEDULE = MANUAL)`)
    expect(await replicas('rescheduled')).toBe(1)
  })

  it('can keep their replicas, as the emulator did before', async () => {
    await emulator.control.setRefreshReplicas('always')
    expect(await replicas('nightly')).toBe(1)
    await emulator.control.setRefreshReplicas('during-refresh')
    expect(await replicas('nightly')).toBe(0)
  })
})

describe('REFRESH materialized views', () => {
  const refreshOf = async (name: string) => {
    const { rows } = await client.query<{
      strategies: string[]
      completed: string | null
      next: string | null
      lag: string | null
    }>(
      `SELECT (SELECT array_agg(s.type ORDER BY s.type)
                 FROM mz_internal.mz_materialized_view_refresh_strategies s
                 WHERE s.materialized_view_id = mv.id) AS strategies,
              r.last_completed_refresh::text AS completed, r.next_refresh::text AS next,
              (SELECT extract(epoch FROM l.lag)::int::text FROM mz_internal.mz_wallclock_global_lag l
                 WHERE l.object_id = mv.id) AS lag
       FROM mz_materialized_views mv
       LEFT JOIN mz_internal.mz_materialized_view_refreshes r ON r.materialized_view_id = mv.id
       WHERE mv.name = $1`,
      [name]
    )
    return rows[0]!
  }
  const clock = async (): Promise<number> => {
    const { rows } = await client.query<{ ms: string }>(
      'SELECT (extract(epoch FROM mz_now()) * 1000)::bigint::text AS ms'
    )
    return Number(rows[0]!.ms)
  }

  it('lists an ON COMMIT view with no refreshes row, and no lag beyond its own', async () => {
    await run(`CREATE CLUSTER refreshing (SIZE = '25cc')`)
    await run(
      'CREATE MATERIALIZED VIEW on_commit IN CLUSTER refreshing WITH (ASSERT NOT NULL n) AS SELECT count(*) AS n FROM orders'
    )
    expect(await refreshOf('on_commit')).toEqual({
      strategies: ['on-commit'],
      completed: null,
      next: null,
      lag: '0'
    })
  })

  it('refreshes a REFRESH EVERY view at creation, and lags by the time since its last refresh', async () => {
    await run(
      "CREATE MATERIALIZED VIEW hourly IN CLUSTER refreshing WITH (REFRESH EVERY '1 hour') AS SELECT count(*) AS n FROM orders"
    )
    const created = await refreshOf('hourly')
    expect(created.strategies).toEqual(['every'])
    expect(Number(created.next) - Number(created.completed)).toBe(HOUR * 1000)
    expect(created.lag).toBe('0')

    await emulator.control.advanceClock(25 * 60)
    const later = await refreshOf('hourly')
    expect(later).toMatchObject({ completed: created.completed, next: created.next, lag: '1500' })
    await emulator.control.advanceClock(40 * 60) // past the next refresh
    expect(Number((await refreshOf('hourly')).completed)).toBe(Number(created.next))
  })

  it('has completed no refresh while ALIGNED TO puts the first one ahead, unless REFRESH AT CREATION', async () => {
    const ahead = new Date((await clock()) + 10 * 60 * 1000).toISOString()
    await run(
      `CREATE MATERIALIZED VIEW aligned IN CLUSTER refreshing WITH (REFRESH EVERY '1 hour' ALIGNED TO '${ahead}') AS SELECT count(*) AS n FROM orders`,
      `CREATE MATERIALIZED VIEW aligned_now IN CLUSTER refreshing WITH (REFRESH AT CREATION, REFRESH EVERY '1 hour' ALIGNED TO '${ahead}') AS SELECT count(*) AS n FROM orders`
    )
    expect(await refreshOf('aligned')).toMatchObject({
      strategies: ['every'],
      completed: null,
      next: String(Date.parse(ahead))
    })
    expect(await refreshOf('aligned_now')).toMatchObject({ strategies: ['at', 'every'] })
    expect((await refreshOf('aligned_now')).completed).not.toBeNull()
    await emulator.control.advanceClock(11 * 60)
    expect((await refreshOf('aligned')).completed).toBe(String(Date.parse(ahead)))
  })

  it('on an ON REFRESH cluster, completes a refresh only when the cluster ran one', async () => {
    await run(
      `CREATE CLUSTER scheduled (SIZE = '25cc', SCHEDULE = ON REFRESH)`,
      "CREATE MATERIALIZED VIEW daily IN CLUSTER scheduled WITH (REFRESH EVERY '1 day') AS SELECT count(*) AS n FROM orders"
    )
    expect((await refreshOf('daily')).completed).toBeNull()
    await emulator.control.startRefresh('scheduled')
    expect((await refreshOf('daily')).completed).toBeNull()
    const before = await clock()
    await emulator.control.finishRefresh('scheduled')
    const completed = Number((await refreshOf('daily')).completed)
    expect(completed).toBeGreaterThanOrEqual(before)
    expect(completed).toBeLessThanOrEqual(await clock())
  })
})

describe("AUTO SCALING STRATEGY (dbt-materialize 1.9.11 copies production's to green)", () => {
  const strategyOf = async (cluster: string) => {
    const { rows } = await client.query<{ size: string | null; linger: string | null }>(
      `SELECT s.strategy->'on_hydration'->>'hydration_size' AS size,
              s.strategy->'on_hydration'->'linger_duration'->>'secs' AS linger
       FROM mz_internal.mz_cluster_auto_scaling_strategies s JOIN mz_clusters c ON c.id = s.cluster_id
       WHERE c.name = $1`,
      [cluster]
    )
    return rows
  }

  it('is listed in mz_objects, set by CREATE and ALTER CLUSTER, and removed by RESET', async () => {
    const { rows } = await client.query(
      `SELECT o.id FROM mz_objects o JOIN mz_schemas s ON s.id = o.schema_id
       WHERE s.name = 'mz_internal' AND o.name = 'mz_cluster_auto_scaling_strategies'`
    )
    expect(rows).toHaveLength(1)
    await run(
      `CREATE CLUSTER bursty (SIZE = '25cc', AUTO SCALING STRATEGY = (ON HYDRATION (HYDRATION SIZE = '800cc', LINGER DURATION = '15s')))`
    )
    expect(await strategyOf('bursty')).toEqual([{ size: '800cc', linger: '15' }])
    await run(
      `ALTER CLUSTER bursty SET (AUTO SCALING STRATEGY = (ON HYDRATION (HYDRATION SIZE = '400cc')))`
    )
    expect(await strategyOf('bursty')).toEqual([{ size: '400cc', linger: '0' }])
    await run('ALTER CLUSTER bursty RESET (AUTO SCALING STRATEGY)')
    expect(await strategyOf('bursty')).toEqual([])
  })
})

// The readiness rule (src/bluegreen/readiness.ts) over the cases real Materialize produces:
// late and NULL-replica hydration rows, no replica, OOM kills, ON REFRESH clusters, and lag
// judged against production's own lag.
import { jest, describe, it, expect, beforeEach } from '@jest/globals'
import * as core from '../../__fixtures__/core.js'

jest.unstable_mockModule('@actions/core', () => core)
const { evaluate, describeReadiness, waitForHydration } =
  await import('../../src/bluegreen/readiness.js')
type Sql = import('../../src/warehouse/pg.js').Sql
type ClusterSnapshot = import('../../src/bluegreen/readiness.js').ClusterSnapshot
type GreenObject = import('../../src/bluegreen/readiness.js').GreenObject

const FOUR = ['u1', 'u2', 'u3', 'u4']
const object = (id: string, lag?: Partial<GreenObject>): GreenObject => ({
  id,
  name: `prod_dbt_deploy.m_${id}`,
  type: 'materialized-view',
  ...lag
})
const replica = (hydrated: string[], ooms = 0, name = 'r1') => ({
  id: `id-${name}`,
  name,
  ooms,
  hydrated: new Set(hydrated)
})
const snapshot = (over: Partial<ClusterSnapshot> = {}): ClusterSnapshot => ({
  cluster: 'c_dbt_deploy',
  exists: true,
  schedule: 'manual',
  replicas: [replica(FOUR)],
  objects: FOUR.map((id) => object(id)),
  ...over
})
const rule = { lagThresholdSeconds: 1, replicaGraceSeconds: 60 }

describe('evaluate: what must hydrate, not the rows that exist', () => {
  it('is hydrating while 3 of 4 objects have no hydration row yet (1/1 rows hydrated)', () => {
    const r = evaluate(snapshot({ replicas: [replica(['u1'])] }), rule)
    expect(r).toMatchObject({ status: 'hydrating', hydrated: 1, total: 4, replica: 'r1' })
    expect(r.pending).toEqual([
      'prod_dbt_deploy.m_u2',
      'prod_dbt_deploy.m_u3',
      'prod_dbt_deploy.m_u4'
    ])
  })

  it('is ready when one healthy replica has hydrated every object', () => {
    const two = [replica(['u1'], 0, 'r1'), replica(FOUR, 0, 'r2')]
    expect(evaluate(snapshot({ replicas: two }), rule)).toMatchObject({
      status: 'ready',
      hydrated: 4,
      replica: 'r2'
    })
  })

  it('does not take hydration from a replica OOM-killed 3 times in 24 h', () => {
    const two = [replica(FOUR, 3, 'r1'), replica(['u1'], 0, 'r2')]
    expect(evaluate(snapshot({ replicas: two }), rule).status).toBe('hydrating')
    expect(evaluate(snapshot({ replicas: [replica(FOUR, 3)] }), rule)).toMatchObject({
      status: 'failing',
      reason: expect.stringContaining('OOM-killed') as unknown
    })
  })

  it('an empty cluster is ready once it has a replica', () => {
    expect(evaluate(snapshot({ objects: [] }), rule).status).toBe('ready')
  })

  it('a missing cluster fails', () => {
    expect(evaluate(snapshot({ exists: false }), rule)).toMatchObject({
      status: 'failing',
      reason: 'cluster not found'
    })
  })
})

describe('evaluate: zero replicas and ON REFRESH clusters', () => {
  it('waits for a replica during the grace period, then fails naming it', () => {
    const none = snapshot({ replicas: [] })
    expect(evaluate(none, rule, 59)).toMatchObject({
      status: 'hydrating',
      reason: expect.stringContaining('fails after 60 s ("replica-grace")') as unknown
    })
    expect(evaluate(none, rule, 60)).toMatchObject({
      status: 'failing',
      reason: 'no replica for 60 s ("replica-grace")'
    })
  })

  it('an ON REFRESH cluster without replicas waits for the first refresh, never failing', () => {
    const scheduled = snapshot({
      schedule: 'on-refresh',
      replicas: [],
      objects: FOUR.map((id) => object(id, { refresh: 'pending' }))
    })
    const waiting = evaluate(scheduled, rule, 10_000)
    expect(waiting).toMatchObject({ status: 'hydrating', hydrated: 0, total: 4 })
    expect(waiting.reason).toContain('waiting for the first refresh')
    const refreshed = snapshot({
      schedule: 'on-refresh',
      replicas: [],
      objects: FOUR.map((id) => object(id, { refresh: 'completed' }))
    })
    expect(evaluate(refreshed, rule)).toMatchObject({ status: 'ready', hydrated: 4 })
    // An index or an ON COMMIT view there is never seen hydrating (no replica between
    // refreshes): neither holds it.
    const others = snapshot({
      schedule: 'on-refresh',
      replicas: [],
      objects: [
        object('u1', { refresh: 'completed' }),
        object('u2'),
        { ...object('u3'), type: 'index' }
      ]
    })
    expect(evaluate(others, rule)).toMatchObject({ status: 'ready', hydrated: 3, total: 3 })
  })

  it('holds a hydrated REFRESH view until its first refresh completes: it is empty before', () => {
    const objects = [object('u1', { refresh: 'pending' }), ...FOUR.slice(1).map((id) => object(id))]
    expect(evaluate(snapshot({ objects }), rule)).toMatchObject({
      status: 'hydrating',
      hydrated: 3,
      pending: ['prod_dbt_deploy.m_u1']
    })
  })
})

describe('evaluate: lag against production', () => {
  const lagging = (green: number, production?: number) =>
    evaluate(
      snapshot({
        objects: [
          object('u1', { lagSeconds: green, productionLagSeconds: production }),
          ...FOUR.slice(1).map((id) => object(id, { lagSeconds: 0.2 }))
        ]
      }),
      rule
    )

  it('holds an object that lags production by more than the threshold', () => {
    expect(lagging(5, 2)).toMatchObject({ status: 'lagging', pending: ['prod_dbt_deploy.m_u1'] })
    expect(lagging(5)).toMatchObject({ status: 'lagging', maxLagSeconds: 5 })
  })

  it("passes an object whose lag is high but within the threshold of production's", () => {
    expect(lagging(3600, 3599.5).status).toBe('ready')
  })

  it('never judges a refreshed REFRESH view by lag, however far its schedule puts it behind', () => {
    const objects = [
      object('u1', { refresh: 'completed', lagSeconds: 3000, productionLagSeconds: 60 }),
      ...FOUR.slice(1).map((id) => object(id, { lagSeconds: 0.2 }))
    ]
    const r = evaluate(snapshot({ objects }), rule)
    expect(r.status).toBe('ready')
    expect(r.lagNote).toBe(
      "wallclock lag within 1 s of production's; 1 REFRESH view(s) judged by their first refresh"
    )
  })

  it('does not hold the swap for objects with no lag sample yet, and says so', () => {
    const r = evaluate(snapshot(), rule)
    expect(r.status).toBe('ready')
    expect(r.lagNote).toBe("wallclock lag within 1 s of production's; 4 object(s) not sampled yet")
    expect(describeReadiness(r)).toContain('no lag sampled')
  })
})

describe('describeReadiness', () => {
  it('names up to five pending objects, the replica, then a count', () => {
    const ids = Array.from({ length: 8 }, (_, i) => `u${i}`)
    const r = evaluate(
      snapshot({ objects: ids.map((id) => object(id)), replicas: [replica([])] }),
      rule
    )
    const line = describeReadiness(r)
    expect(line).toContain('hydrated 0/8 on replica r1')
    expect(line).toContain('pending: prod_dbt_deploy.m_u0, ')
    expect(line).toContain('prod_dbt_deploy.m_u4 and 3 more')
  })
})

/**
 * A fake catalog for waitForHydration: one cluster `c_dbt_deploy` (id c1, replica r1) with the
 * objects u1..u4; each poll's hydration rows come from the script (`no-replica`: r1 is gone).
 */
function scriptedSql(script: Array<string[] | 'no-replica' | Error>): Sql & { polls: number } {
  const fake = {
    polls: 0,
    async query<R>(text: string): Promise<R[]> {
      const rows = (r: unknown[]) => r as R[]
      const step = script[Math.min(fake.polls - 1, script.length - 1)]!
      if (text.includes('mz_cluster_schedules')) {
        fake.polls++
        if (script[Math.min(fake.polls - 1, script.length - 1)] instanceof Error)
          throw script[fake.polls - 1] as Error
        return rows([{ id: 'c1', name: 'c_dbt_deploy', schedule: 'manual' }])
      }
      if (text.includes('from mz_catalog.mz_cluster_replicas r'))
        return rows(
          step === 'no-replica' ? [] : [{ id: 'r1', name: 'r1', cluster_id: 'c1', ooms: 0 }]
        )
      if (text.includes('from mz_catalog.mz_objects'))
        return rows(
          FOUR.map((id) => ({
            id,
            schema: 'prod_dbt_deploy',
            name: id,
            type: 'index',
            cluster_id: 'c1'
          }))
        )
      if (text.includes('mz_wallclock_global_lag') || !Array.isArray(step)) return []
      // `u4:null`: a row for u4, hydrated, whose replica_id is NULL (a delayed update).
      return rows(
        step.map((entry) => {
          const [id, replica] = entry.split(':')
          return { object_id: id, replica_id: replica === 'null' ? null : 'r1', hydrated: true }
        })
      )
    }
  }
  return fake
}

function fakeClock() {
  let now = 0
  return { now: () => now, sleep: async (ms: number) => void (now += ms) }
}

const waitOptions = {
  productionSchemas: ['prod'],
  lagThreshold: 1,
  replicaGraceSeconds: 60,
  pollIntervalMs: 1000
}

beforeEach(() => core.resetCore())

describe('waitForHydration', () => {
  it('waits through hydration, reports progress and returns the elapsed time', async () => {
    const sql = scriptedSql([['u1'], ['u1', 'u2', 'u3'], FOUR])
    const result = await waitForHydration(sql, ['c_dbt_deploy'], {
      ...waitOptions,
      timeoutMs: 60_000,
      ...fakeClock()
    })
    expect(result.seconds).toBe(2)
    expect(result.samples.map((s) => s.clusters[0]!.hydrated)).toEqual([1, 3, 4])
    expect(core.info).toHaveBeenCalledWith(
      expect.stringContaining(
        'c_dbt_deploy: hydrating, hydrated 3/4 on replica r1, pending: prod_dbt_deploy.u4'
      )
    )
  })

  it('does not count a hydrated row whose replica_id is NULL', async () => {
    const sql = scriptedSql([['u1', 'u2', 'u3', 'u4:null'], FOUR])
    const result = await waitForHydration(sql, ['c_dbt_deploy'], {
      ...waitOptions,
      timeoutMs: 60_000,
      ...fakeClock()
    })
    expect(result.samples.map((s) => s.clusters[0]!.status)).toEqual(['hydrating', 'ready'])
    expect(result.samples[0]!.clusters[0]!.pending).toEqual(['prod_dbt_deploy.u4'])
  })

  it('fails at the timeout naming each unready cluster and its progress', async () => {
    const sql = scriptedSql([['u1', 'u2']])
    await expect(
      waitForHydration(sql, ['c_dbt_deploy'], { ...waitOptions, timeoutMs: 5000, ...fakeClock() })
    ).rejects.toThrow(/within 5 s \("await-timeout"\): c_dbt_deploy: hydrating, hydrated 2\/4/)
  })

  it('fails fast on a cluster that does not exist', async () => {
    const sql = scriptedSql([[]])
    const clock = fakeClock()
    await expect(
      waitForHydration(sql, ['other'], { ...waitOptions, timeoutMs: 600_000, ...clock })
    ).rejects.toThrow(/cannot become ready: other: failing \(cluster not found\)/)
    expect(clock.now()).toBe(0)
  })

  it('gives a replica lost late its whole grace, counted from when it was first seen gone', async () => {
    const sql = scriptedSql([['u1'], ['u1'], ['u1'], 'no-replica'])
    const clock = fakeClock()
    await expect(
      waitForHydration(sql, ['c_dbt_deploy'], {
        ...waitOptions,
        replicaGraceSeconds: 2,
        timeoutMs: 600_000,
        ...clock
      })
    ).rejects.toThrow(/failing \(no replica for 2 s \("replica-grace"\)\)/)
    // Polls at 0, 1, 2 s with a replica; gone from 3 s; failing at 5 s, not at 3 s.
    expect(clock.now()).toBe(5000)
    expect(core.info).toHaveBeenCalledWith(
      expect.stringContaining('no replica yet; fails after 2 s ("replica-grace")')
    )
  })

  it('backs off after a failed check and keeps going', async () => {
    const sql = scriptedSql([new Error('connection reset'), FOUR])
    const clock = fakeClock()
    await waitForHydration(sql, ['c_dbt_deploy'], { ...waitOptions, timeoutMs: 60_000, ...clock })
    expect(core.warning).toHaveBeenCalledWith(expect.stringContaining('retrying in 2 s'))
    expect(clock.now()).toBe(2000)
  })
})

import { jest, describe, it, expect, beforeEach } from '@jest/globals'
import * as core from '../../__fixtures__/core.js'

jest.unstable_mockModule('@actions/core', () => core)
const { evaluate, waitForHydration } = await import('../../src/bluegreen/readiness.js')
type Sql = import('../../src/warehouse/pg.js').Sql

const replica = (hydrated: number, total: number, ooms = 0, id: string | null = 'r1') => ({
  cluster: 'c',
  replica: id,
  hydrated: String(hydrated),
  total: String(total),
  ooms: String(ooms)
})

describe('evaluate (the deploy_await readiness rule)', () => {
  it.each([
    ['not found', [], undefined, 'failing'],
    ['no replicas', [replica(0, 0, 0, null)], undefined, 'failing'],
    ['all replicas OOM-killed', [replica(4, 4, 3)], undefined, 'failing'],
    [
      'one healthy replica among OOM-killed ones',
      [replica(4, 4, 3, 'r1'), replica(4, 4, 0, 'r2')],
      0,
      'ready'
    ],
    ['still hydrating', [replica(3, 4)], 0, 'hydrating'],
    ['no hydration status yet', [replica(0, 0)], undefined, 'hydrating'],
    [
      'hydrated on the best replica',
      [replica(1, 4, 0, 'r1'), replica(4, 4, 0, 'r2')],
      0.2,
      'ready'
    ],
    ['lagging over the threshold', [replica(4, 4)], 5, 'lagging']
  ] as const)('%s → %s', (_name, rows, lag, status) => {
    expect(evaluate('c', [...rows], lag, 1).status).toBe(status)
  })
})

/** A fake catalog whose hydration follows a script of poll results. */
function scriptedSql(
  script: Array<Array<ReturnType<typeof replica>> | Error>
): Sql & { polls: number } {
  const fake = {
    polls: 0,
    async query<R>(text: string): Promise<R[]> {
      if (text.includes('max_lag')) return [] as R[]
      const step = script[Math.min(fake.polls++, script.length - 1)]!
      if (step instanceof Error) throw step
      return step as R[]
    }
  }
  return fake
}

function fakeClock() {
  let now = 0
  return { now: () => now, sleep: async (ms: number) => void (now += ms) }
}

beforeEach(() => core.resetCore())

describe('waitForHydration', () => {
  it('waits through hydration, reports progress and returns the elapsed time', async () => {
    const sql = scriptedSql([[replica(1, 4)], [replica(3, 4)], [replica(4, 4)]])
    const result = await waitForHydration(sql, ['c'], {
      lagThreshold: 1,
      pollIntervalMs: 1000,
      timeoutMs: 60_000,
      ...fakeClock()
    })
    expect(result.seconds).toBe(2)
    expect(result.samples.map((s) => s.clusters[0]!.hydrated)).toEqual([1, 3, 4])
    expect(core.info).toHaveBeenCalledWith(expect.stringContaining('c: hydrating, hydrated 3/4'))
  })

  it('fails at the timeout naming each unready cluster and its progress', async () => {
    const sql = scriptedSql([[replica(2, 4)]])
    await expect(
      waitForHydration(sql, ['c'], {
        lagThreshold: 1,
        pollIntervalMs: 1000,
        timeoutMs: 5000,
        ...fakeClock()
      })
    ).rejects.toThrow(/within 5 s \("await-timeout"\): c: hydrating, hydrated 2\/4/)
  })

  it('fails fast on a failing cluster', async () => {
    const sql = scriptedSql([[replica(1, 4)], [replica(1, 4, 3)]])
    const clock = fakeClock()
    await expect(
      waitForHydration(sql, ['c'], {
        lagThreshold: 1,
        pollIntervalMs: 1000,
        timeoutMs: 600_000,
        ...clock
      })
    ).rejects.toThrow(/cannot become ready: c: failing \(every replica was OOM-killed/)
    expect(clock.now()).toBe(1000)
  })

  it('backs off after a failed check and keeps going', async () => {
    const sql = scriptedSql([new Error('connection reset'), [replica(4, 4)]])
    const clock = fakeClock()
    await waitForHydration(sql, ['c'], {
      lagThreshold: 1,
      pollIntervalMs: 1000,
      timeoutMs: 60_000,
      ...clock
    })
    expect(core.warning).toHaveBeenCalledWith(expect.stringContaining('retrying in 2 s'))
    expect(clock.now()).toBe(2000)
  })
})

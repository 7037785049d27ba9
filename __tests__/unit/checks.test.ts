import { jest, describe, it, expect, beforeEach } from '@jest/globals'
import * as core from '../../__fixtures__/core.js'

jest.unstable_mockModule('@actions/core', () => core)
const { HydrationCheck } = await import('../../src/github/checks.js')
const { progressSummary } = await import('../../src/bluegreen/readiness.js')
type ChecksApi = import('../../src/github/checks.js').ChecksApi

const denied = () =>
  Object.assign(new Error('Resource not accessible by integration'), { status: 403 })

function fakeApi(refuse: { checks?: boolean; statuses?: boolean } = {}) {
  const calls: string[] = []
  const api: ChecksApi = {
    createCheck: async (_sha, summary) => {
      if (refuse.checks) throw denied()
      calls.push(`create ${summary}`)
      return 7
    },
    updateCheck: async (id, summary, conclusion) => {
      calls.push(`update ${id} ${summary}${conclusion ? ` → ${conclusion}` : ''}`)
    },
    setStatus: async (_sha, state, description) => {
      if (refuse.statuses) throw denied()
      calls.push(`status ${state} ${description}`)
    },
    conclusionOf: async () => undefined
  }
  return { api, calls }
}

beforeEach(() => core.resetCore())

describe('the hydration check', () => {
  it('sends progress at most every 10 s and concludes', async () => {
    let clock = 0
    const { api, calls } = fakeApi()
    const check = new HydrationCheck(api, 'abc', () => clock)
    await check.start()
    clock = 4_000
    await check.progress('1/2 objects hydrated, 4s')
    clock = 10_500
    await check.progress('1/2 objects hydrated, 10s')
    clock = 12_000
    await check.progress('2/2 objects hydrated, 12s')
    await check.conclude('success', 'Hydrated')
    expect(calls).toEqual([
      'create Waiting for green to hydrate.',
      'update 7 1/2 objects hydrated, 10s',
      'update 7 Hydrated → success'
    ])
    expect(core.outputs['check-run-id']).toBe('7')
  })

  it('without checks: write, a commit status of the same name carries the progress', async () => {
    const { api, calls } = fakeApi({ checks: true })
    const check = new HydrationCheck(api, 'abc', () => 0)
    await check.start()
    await check.conclude('cancelled', 'The job was cancelled.')
    expect(calls).toEqual([
      'status pending Waiting for green to hydrate.',
      'status error The job was cancelled.'
    ])
    expect(core.notice).not.toHaveBeenCalled()
  })

  it('without either, one notice and nothing more', async () => {
    const { api, calls } = fakeApi({ checks: true, statuses: true })
    const check = new HydrationCheck(api, 'abc', () => 0)
    await check.start()
    await check.conclude('failure', 'boom')
    expect(calls).toEqual([])
    expect(core.notice).toHaveBeenCalledTimes(1)
  })
})

describe('progressSummary', () => {
  const cluster = (hydrated: number, total: number, maxLagSeconds?: number) => ({
    cluster: 'c',
    status: 'hydrating' as const,
    hydrated,
    total,
    maxLagSeconds,
    replicas: 1
  })
  it('sums the clusters, takes the largest lag, and shows the time', () => {
    expect(progressSummary([cluster(30, 40, 1.2), cluster(7, 10, 3.4)], 130)).toBe(
      '37/50 objects hydrated, max lag 3 s, 2m10s'
    )
    expect(progressSummary([cluster(0, 2)], 4.2)).toBe('0/2 objects hydrated, 4s')
  })
})

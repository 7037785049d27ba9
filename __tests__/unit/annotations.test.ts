import { jest, describe, it, expect, beforeEach } from '@jest/globals'
import * as core from '../../__fixtures__/core.js'

jest.unstable_mockModule('@actions/core', () => core)
const { annotateFailures, ERROR_ANNOTATIONS } = await import('../../src/report/annotations.js')

const node = (uniqueId: string, status = 'error') => ({
  uniqueId,
  name: uniqueId.split('.').pop() ?? '',
  resourceType: uniqueId.split('.')[0] ?? '',
  status,
  seconds: 0.1,
  reason: 'modified',
  message: `${uniqueId} broke`
})

const titles = () => core.error.mock.calls.map(([, props]) => props?.title)

beforeEach(() => core.resetCore())

describe('annotateFailures', () => {
  it('annotates every failure when they fit, models before tests, in run order', () => {
    annotateFailures([
      node('test.p.t1', 'fail'),
      node('model.p.a', 'success'),
      node('model.p.b'),
      node('seed.p.s'),
      node('model.p.c')
    ])
    expect(titles()).toEqual([
      'dbt error: model.p.b',
      'dbt error: seed.p.s',
      'dbt error: model.p.c',
      'dbt fail: test.p.t1'
    ])
  })

  it('beyond the limit, keeps one annotation for the step failure and says how many were left out', () => {
    const tests = Array.from({ length: 20 }, (_, i) => node(`test.p.t${i}`, 'fail'))
    const models = Array.from({ length: 5 }, (_, i) => node(`model.p.m${i}`))
    annotateFailures([...tests, ...models])
    const shown = titles()
    expect(shown).toHaveLength(ERROR_ANNOTATIONS - 1)
    expect(shown.slice(0, 5)).toEqual(models.map((m) => `dbt error: ${m.uniqueId}`))
    expect(shown.slice(5, 8)).toEqual([
      'dbt fail: test.p.t0',
      'dbt fail: test.p.t1',
      'dbt fail: test.p.t2'
    ])
    expect(shown[8]).toBe('dbt: 17 more failure(s)')
    expect(core.error.mock.calls[8]?.[0]).toMatch(/17 more failed node\(s\).*job summary/)
  })

  it('nine failures fit without a left-out line', () => {
    annotateFailures(Array.from({ length: 9 }, (_, i) => node(`model.p.m${i}`)))
    expect(titles()).toHaveLength(9)
    expect(titles()).not.toContain(expect.stringMatching(/more failure/))
  })
})

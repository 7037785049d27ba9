import { describe, it, expect } from '@jest/globals'
import { readDeploymentConfig } from '../../src/bluegreen/config.js'
import { parseDuration } from '../../src/input-fields.js'

describe('readDeploymentConfig', () => {
  const vars = {
    deployment: {
      prod: { clusters: ['analytics'], schemas: ['public', 'marts'] },
      empty: { clusters: [], schemas: ['s'] }
    }
  }

  it('reads the target entry', () => {
    expect(readDeploymentConfig(vars, 'prod')).toEqual({
      target: 'prod',
      clusters: ['analytics'],
      schemas: ['public', 'marts']
    })
  })

  it.each([
    [{}, 'prod', /needs vars\.deployment/],
    [vars, 'staging', /no entry for target "staging"; it has: prod, empty/],
    [vars, 'empty', /clusters in dbt_project\.yml must be a non-empty list/]
  ])('rejects %j for %s', (projectVars, target, message) => {
    expect(() => readDeploymentConfig(projectVars, target)).toThrow(message)
  })
})

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['5s', 5000],
    ['1.5m', 90_000],
    ['2h', 7_200_000],
    ['30', 30_000],
    ['soon', undefined],
    ['-1s', undefined]
  ])('%s → %s', (text, ms) => {
    expect(parseDuration(text)).toBe(ms)
  })
})

import { describe, expect, it } from '@jest/globals'
import { evaluateTargets, hydrationDelays, median, ratio } from '../../dev/bench/stats.js'
import { missedTargets, renderReport } from '../../dev/bench/report.js'
import { generatedModel, generatedSchema } from '../../dev/bench/project.js'
import { plainStyle } from '../../dev/demo/markdown.js'

describe('median and ratio', () => {
  it('takes the middle value, or the mean of the two middle ones', () => {
    expect(median([3, 1, 2])).toBe(2)
    expect(median([4, 1, 3, 2])).toBe(2.5)
    expect(median([])).toBeUndefined()
    expect(median([Number.NaN, 5])).toBe(5)
  })

  it('has no ratio without both sides', () => {
    expect(ratio(1, 2)).toBe(0.5)
    expect(ratio(undefined, 2)).toBeUndefined()
    expect(ratio(1, 0)).toBeUndefined()
  })
})

describe('hydrationDelays', () => {
  it('spreads the delays evenly over one 15 s poll period', () => {
    expect(hydrationDelays(3)).toEqual([4.5, 9.5, 14.5])
    expect(hydrationDelays(1)).toEqual([9.5])
  })
})

describe('evaluateTargets', () => {
  const figures = {
    size: 1000,
    p1Action: 10.4,
    p1Recipe: 10,
    p2Action: 1,
    p2Recipe: 10,
    p3Action: 0.6,
    p3Recipe: 8,
    p4Action: 30,
    p4Recipe: 40,
    p5PeakRssMbP1: 120,
    p5PeakRssMbP4: 230,
    p5FirstLineMs: 250
  }

  it('passes within the limits and misses beyond them', () => {
    const verdicts = Object.fromEntries(evaluateTargets(figures).map((t) => [t.figure, t.verdict]))
    expect(verdicts).toEqual({
      P1: 'PASS',
      P2: 'PASS',
      P3: 'PASS',
      P4: 'PASS',
      'P5 first line': 'PASS',
      'P5 memory': 'MISS'
    })
  })

  it('applies the memory target only at about 1,000 models, and says n/a without data', () => {
    const small = evaluateTargets({ size: 5, p1Action: 2, p1Recipe: 1 })
    expect(small.find((t) => t.figure === 'P5 memory')?.verdict).toBe('n/a')
    expect(small.find((t) => t.figure === 'P1')?.verdict).toBe('MISS')
    expect(small.find((t) => t.figure === 'P4')?.verdict).toBe('n/a')
  })

  it('states every miss in a sentence and renders the tables', () => {
    expect(missedTargets([figures])).toEqual([
      'MISSED at 1000 models: P5 memory (target ≤ 200 MB at ~1,000 models), measured 230 MB (P1 120, P4 230).'
    ])
    const report = renderReport([figures], 3, plainStyle)
    expect(report).toContain('P4 full blue/green (s)')
    expect(report).toContain('0.75×')
    expect(report).toContain('MISSED at 1000 models: P5 memory')
  })
})

describe('generated bench models', () => {
  it('chains views on stg_orders and makes every 25th a materialized view', () => {
    expect(generatedModel(1)).toContain("ref('stg_orders')")
    expect(generatedModel(2)).toContain("ref('gen_0001')")
    expect(generatedModel(11)).toContain("ref('stg_orders')")
    expect(generatedModel(25)).toContain("materialized='materialized_view'")
    expect(generatedModel(24)).not.toContain('materialized')
  })

  it('tests every 10th generated model', () => {
    expect(generatedSchema(25).match(/- name: gen_/g)).toHaveLength(2)
    expect(generatedSchema(3)).toContain('models:\n  []')
  })
})

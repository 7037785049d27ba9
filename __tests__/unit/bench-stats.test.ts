import { describe, expect, it } from '@jest/globals'
import {
  costFigures,
  evaluateStubTargets,
  evaluateTargets,
  hydrationDelays,
  median,
  ratio,
  rounded,
  type CostFigures,
  type SizeFigures,
  type StubFigures,
  WARM_P1,
  WARM_P4
} from '../../dev/bench/stats.js'
import { failedTargets, renderReport } from '../../dev/bench/report.js'
import { parseProcStat } from '../../dev/bench/cpu.js'
import { checkoutCommit } from '../../dev/bench/results.js'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { groupsOf, phasesOf } from '../../dev/bench/measure.js'
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

describe('CPU accounting', () => {
  it('reads own and children CPU seconds from /proc/<pid>/stat, whatever the command name', () => {
    // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime …
    const stat = '4242 (dbt (worker) x) S 1 4242 4242 0 -1 4194304 10 20 0 0 150 30 1200 340 20 0 1'
    expect(parseProcStat(stat)).toEqual({ self: 1.8, children: 15.4 })
  })

  it("splits the action's run into its log groups, with node's start and the time outside them", () => {
    const marks = [
      { group: null, at: 1_100, ownCpu: 0.05, childrenCpu: 0 },
      { group: 'dbt build', at: 1_300, ownCpu: 0.1, childrenCpu: 0 },
      { group: null, at: 4_300, ownCpu: 0.15, childrenCpu: 2.5 },
      { group: 'Report', at: 4_400, ownCpu: 0.2, childrenCpu: 2.5 },
      { group: null, at: 4_600, ownCpu: 0.3, childrenCpu: 2.5 },
      { group: null, at: 4_700, ownCpu: 0.35, childrenCpu: 2.5 }
    ]
    const phases = phasesOf(marks, 1_000).map((p) => ({
      ...p,
      wall: Number(p.wall.toFixed(3)),
      cpu: Number(p.cpu?.toFixed(3)),
      ownCpu: Number(p.ownCpu?.toFixed(3))
    }))
    expect(phases).toEqual([
      { name: 'node start', wall: 0.1, cpu: 0.05, ownCpu: 0.05 },
      { name: 'outside groups', wall: 0.4, cpu: 0.15, ownCpu: 0.15 },
      { name: 'dbt build', wall: 3, cpu: 2.55, ownCpu: 0.05 },
      { name: 'Report', wall: 0.2, cpu: 0.1, ownCpu: 0.1 }
    ])
    expect(groupsOf(marks)).toEqual([
      { name: 'dbt build', startedAt: 1_300, endedAt: 4_300 },
      { name: 'Report', startedAt: 4_400, endedAt: 4_600 }
    ])
  })

  it('keeps samples to the millisecond', () => {
    expect(
      rounded({
        wall: 41.41100000001,
        cpu: 10.500000000000004,
        phases: [{ name: 'dbt build', wall: 38.2424, cpu: 9.760000000000002, ownCpu: 0.0004 }]
      })
    ).toEqual({
      wall: 41.411,
      cpu: 10.5,
      ownCpu: undefined,
      phases: [{ name: 'dbt build', wall: 38.242, cpu: 9.76, ownCpu: 0 }]
    })
  })

  it('takes medians run by run and phase by phase', () => {
    const run = (wall: number, cpu: number) => ({
      wall,
      cpu,
      phases: [{ name: 'dbt build', wall: wall - 1, cpu }]
    })
    expect(costFigures([run(4, 3), run(6, 5), run(5, 4)])).toEqual({
      wall: 5,
      cpu: 4,
      ownCpu: undefined,
      phases: [{ name: 'dbt build', wall: 4, cpu: 4, ownCpu: undefined }]
    })
  })
})

const cost = (wall: number, cpu: number, ownCpu?: number): CostFigures => ({
  wall,
  cpu,
  ownCpu,
  phases: [{ name: 'dbt', wall: wall * 0.8, cpu: cpu * 0.9 }]
})

function figures(size: number, overrides: Partial<SizeFigures> = {}): SizeFigures {
  return {
    size,
    p1: { action: cost(10.4, 9.9, 0.6), recipe: cost(10, 9.8) },
    p2: { action: cost(0.5, 0.4, 0.4), recipe: cost(8, 7) },
    p2Shallow: { action: cost(8.5, 7.5, 0.5), status: 'nothing-selected' },
    p3: {
      action: 0.6,
      actionWait: 0.4,
      recipe: 12,
      recipeWait: 7.5,
      recipePoll1: 5,
      recipePoll1Wait: 0.8
    },
    p4: { action: cost(30, 20, 1), recipe: cost(60, 40), recipePoll1: cost(50, 38) },
    p5: { peakRssMbP1: 120, peakRssMbP4: 150, firstLineMs: 250 },
    p8: { diff: cost(1.5, 1.2, 0.3), greenRun: cost(30, 25), compared: 10 },
    ...overrides
  }
}

describe('evaluateTargets', () => {
  it('passes within the limits: P1 on CPU, P3, P4 on CPU and wall at ~1,000 models, P5', () => {
    const verdicts = Object.fromEntries(
      evaluateTargets(figures(1000)).map((t) => [t.figure, t.verdict])
    )
    expect(verdicts).toEqual({
      P1: 'PASS',
      P3: 'PASS',
      P4: 'PASS',
      'P5 first line': 'PASS',
      'P5 memory': 'PASS',
      P8: 'PASS'
    })
  })

  it('holds the data diff to a tenth of the green dbt run at ~1,000 models', () => {
    const p8 = (diffWall: number, size = 1000) =>
      evaluateTargets(
        figures(size, { p8: { diff: cost(diffWall, 2), greenRun: cost(30, 25), compared: 10 } })
      ).find((t) => t.figure === 'P8')!
    expect(p8(3).verdict).toBe('PASS')
    expect(p8(3.3).verdict).toBe('FAIL')
    expect(p8(3.3).measured).toBe('0.110× (3.3 s for 10 objects vs 30.0 s); CPU 0.080×')
    expect(p8(30, 5).verdict).toBe('n/a')
  })

  it('fails P4 when either ratio is over 0.6×, and says why phase by phase', () => {
    const slowWall = figures(1000, {
      p4: { action: cost(40, 20, 1), recipe: cost(60, 40), recipePoll1: cost(50, 38) }
    })
    const p4 = evaluateTargets(slowWall).find((t) => t.figure === 'P4')!
    expect(p4.verdict).toBe('FAIL')
    expect(p4.measured).toBe('wall 0.667× (40.0 s vs 60.0 s); CPU 0.500× (20.0 s vs 40.0 s)')
    expect(p4.why).toEqual([
      'action 40.0 s wall / 20.0 s CPU (node 1.0 + children 19.0); per phase (wall/CPU s): dbt 32.0/18.0',
      'sequence 60.0 s wall / 40.0 s CPU; per phase (wall/CPU s): dbt 48.0/36.0'
    ])
  })

  it("judges the next CI run's P1 and P4 (parse cache) against the same recipes and limits", () => {
    const warm = figures(1000, { p1Warm: cost(6, 9.9, 0.5), p4Warm: cost(40, 20, 1) })
    const verdicts = Object.fromEntries(
      evaluateTargets(warm)
        .filter((t) => t.figure === WARM_P1 || t.figure === WARM_P4)
        .map((t) => [t.figure, [t.verdict, t.measured]])
    )
    expect(verdicts).toEqual({
      [WARM_P1]: ['PASS', 'CPU 1.010× (9.9 s vs 9.8 s); wall 0.600×'],
      [WARM_P4]: ['FAIL', 'wall 0.667× (40.0 s vs 60.0 s); CPU 0.500× (20.0 s vs 40.0 s)']
    })
    // Results from before the warm runs have neither figure.
    expect(evaluateTargets(figures(1000)).map((t) => t.figure)).not.toContain(WARM_P4)
  })

  it('judges P1 on CPU only, whatever the wall ratio', () => {
    const p1 = (action: CostFigures) =>
      evaluateTargets(figures(5, { p1: { action, recipe: cost(10, 10) } })).find(
        (t) => t.figure === 'P1'
      )!
    expect(p1(cost(20, 10.2, 0.5)).verdict).toBe('PASS')
    expect(p1(cost(5, 10.3, 0.5)).verdict).toBe('FAIL')
  })

  it('explains a P3 failure with the wait and the steps before the swap', () => {
    const p3 = evaluateTargets(figures(5, { p3: { action: 4.2, actionWait: 0.5 } })).find(
      (t) => t.figure === 'P3'
    )!
    expect(p3.verdict).toBe('FAIL')
    expect(p3.why?.[0]).toContain('wait ended 0.50 s after the last object hydrated')
    expect(p3.why?.[1]).toMatch(/^action 30\.0 s wall/)
  })

  it('judges P4 and the memory target only at about 1,000 models, and says n/a without data', () => {
    for (const size of [5, 10_000]) {
      const targets = evaluateTargets(figures(size))
      expect(targets.find((t) => t.figure === 'P4')?.verdict).toBe('n/a')
      expect(targets.find((t) => t.figure === 'P5 memory')?.verdict).toBe('n/a')
    }
    const empty = evaluateTargets(
      figures(1000, { p1: { action: { phases: [] }, recipe: { phases: [] } } })
    )
    expect(empty.find((t) => t.figure === 'P1')?.verdict).toBe('n/a')
  })
})

describe('P6 targets', () => {
  const stub = (nodes: number, skipWall: number, skipRss: number): StubFigures => ({
    nodes,
    results: nodes - nodes / 50,
    manifestMb: 70,
    skip: { status: 'skipped-unchanged', cost: cost(skipWall, 1, 0.9), peakRssMb: skipRss },
    report: { status: 'success', cost: cost(4, 3.5, 3.4), peakRssMb: 500 }
  })

  it('holds a PR that skips to 3 s and 400 MB and a full report to 6 s, at 30,000 nodes', () => {
    const verdicts = (f: StubFigures) => evaluateStubTargets(f).map((t) => t.verdict)
    expect(verdicts(stub(30_000, 2, 300))).toEqual(['PASS', 'PASS'])
    expect(verdicts(stub(30_000, 2, 450))).toEqual(['FAIL', 'PASS'])
    expect(verdicts(stub(30_000, 3.5, 300))).toEqual(['FAIL', 'PASS'])
    expect(verdicts(stub(300, 3.5, 450))).toEqual(['n/a', 'n/a'])
  })
})

describe('the printed report', () => {
  it('puts the CPU ratio beside the wall ratio and states every failure with its phases', () => {
    const slow = figures(1000, { p5: { peakRssMbP1: 120, peakRssMbP4: 230, firstLineMs: 250 } })
    expect(failedTargets([slow])).toEqual([
      'FAILED at 1000 models: P5 memory (target ≤ 200 MB at ~1,000 models), measured 230 MB (P1 120, P4 230).'
    ])
    const report = renderReport([slow], 3, plainStyle)
    expect(report).toContain('P4 full blue/green')
    const p1Row = report.split('\n').find((line) => line.includes('P1 slim PR'))
    expect(p1Row?.split('│').map((cell) => cell.trim())).toEqual([
      '1000',
      'P1 slim PR, one model changed',
      '10.4',
      '10.0',
      '1.040×',
      '9.9 (0.6 + 9.3)',
      '9.8',
      '1.010×'
    ])
    expect(report).toContain('P2 shallow checkout, nothing-selected')
    const p8Row = report.split('\n').find((line) => line.includes('P8 data diff'))
    expect(p8Row?.split('│').map((cell) => cell.trim())).toEqual([
      '1000',
      'P8 data diff of 10 × 100k rows (vs: green dbt run)',
      '1.5',
      '30.0',
      '0.050×',
      '1.2',
      '25.0',
      '0.048×'
    ])
    expect(report).toContain('FAILED at 1000 models: P5 memory')
    expect(report).not.toContain('MISS')
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

describe('checkoutCommit', () => {
  it('names the commit, says when tracked files differ from it, and is undefined outside git', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'bench-commit-'))
    try {
      const git = (...args: string[]) =>
        execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], {
          cwd: dir,
          stdio: 'ignore'
        })
      expect(checkoutCommit(dir)).toBeUndefined()
      git('init', '-q')
      writeFileSync(path.join(dir, 'a.txt'), 'one\n')
      git('add', 'a.txt')
      git('commit', '-qm', 'one')
      const sha = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
        cwd: dir,
        encoding: 'utf8'
      })
      expect(checkoutCommit(dir)).toBe(sha.trim())
      writeFileSync(path.join(dir, 'untracked.txt'), 'ignored\n')
      expect(checkoutCommit(dir)).toBe(sha.trim())
      writeFileSync(path.join(dir, 'a.txt'), 'two\n')
      expect(checkoutCommit(dir)).toBe(`${sha.trim()} with uncommitted changes`)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

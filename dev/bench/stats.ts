// Pure arithmetic of the bench: medians, ratios, per-phase breakdowns, and the targets
// with PASS/FAIL (and, for a FAIL, why: where the wall and CPU time went).

export function median(values: number[]): number | undefined {
  const finite = values.filter(Number.isFinite).sort((a, b) => a - b)
  if (finite.length === 0) return undefined
  const mid = Math.floor(finite.length / 2)
  return finite.length % 2 === 1 ? finite[mid]! : (finite[mid - 1]! + finite[mid]!) / 2
}

export function ratio(
  numerator: number | undefined,
  denominator: number | undefined
): number | undefined {
  if (numerator === undefined || denominator === undefined || denominator <= 0) return undefined
  return numerator / denominator
}

/** Hydration delays for `reps` repetitions, spread evenly over one 15 s poll period, so the
 * recipe's fixed-interval polling meets hydration at every phase (its expected latency is
 * half a period) instead of a lucky or unlucky one. */
export function hydrationDelays(reps: number, base = 2, period = 15): number[] {
  return Array.from({ length: reps }, (_, i) => base + (period * (i + 0.5)) / reps)
}

/** One step of a run: a log group of the action, a command of the recipe. Seconds. */
export interface Phase {
  name: string
  wall: number
  /** User + system time of the step's processes. */
  cpu?: number
  /** The action only: the part spent in its own node process (the rest is dbt, git). */
  ownCpu?: number
}

/** One measured run, in seconds. */
export interface RunSample {
  wall: number
  cpu?: number
  ownCpu?: number
  phases: Phase[]
}

const millis = (value: number | undefined): number | undefined =>
  value === undefined ? undefined : Math.round(value * 1000) / 1000

/** The sample to milliseconds, which is more than its clocks resolve (CPU ticks are 10 ms). */
export function rounded(run: RunSample): RunSample {
  const round = <T extends Phase | RunSample>(item: T): T => ({
    ...item,
    wall: millis(item.wall)!,
    cpu: millis(item.cpu),
    ownCpu: millis(item.ownCpu)
  })
  return { ...round(run), phases: run.phases.map(round) }
}

/** Medians over the repetitions of one side of a figure; phases by name, in run order. */
export interface CostFigures {
  wall?: number
  cpu?: number
  ownCpu?: number
  phases: Phase[]
}

export interface Comparison {
  action: CostFigures
  recipe: CostFigures
}

const defined = <T>(values: Array<T | undefined>): T[] =>
  values.filter((v): v is T => v !== undefined)

function medianOf<T>(items: T[], pick: (item: T) => number | undefined): number | undefined {
  return median(defined(items.map(pick)))
}

/** Medians of runs, phase by phase (a phase a run did not have counts as absent, not zero). */
export function costFigures(runs: RunSample[]): CostFigures {
  const names = [...new Set(runs.flatMap((run) => run.phases.map((phase) => phase.name)))]
  const phases = names.map((name) => {
    const matching = defined(runs.map((run) => run.phases.find((phase) => phase.name === name)))
    return {
      name,
      wall: medianOf(matching, (phase) => phase.wall) ?? 0,
      cpu: medianOf(matching, (phase) => phase.cpu),
      ownCpu: medianOf(matching, (phase) => phase.ownCpu)
    }
  })
  return {
    wall: medianOf(runs, (run) => run.wall),
    cpu: medianOf(runs, (run) => run.cpu),
    ownCpu: medianOf(runs, (run) => run.ownCpu),
    phases
  }
}

/** Medians of one project size, in seconds unless named otherwise. */
export interface SizeFigures {
  size: number
  /** Slim PR, one model changed. */
  p1: Comparison
  /** P1 as the PR's next push, with the parse state of its push before restored (the recipe: P1's). */
  p1Warm?: CostFigures
  /** Slim PR, a README change: nothing dbt-relevant. */
  p2: Comparison
  /** P2 in a depth-1 clone (actions/checkout's default); the recipe does not read git: P2's. */
  p2Shallow: { action: CostFigures; status?: string }
  /** Last object hydrated → `deploy_promote` starts, and → the wait is over. */
  p3: {
    action?: number
    actionWait?: number
    recipe?: number
    recipeWait?: number
    recipePoll1?: number
    recipePoll1Wait?: number
  }
  /** Full blue/green; the recipe with deploy_await's default 15 s poll, and with 1 s. */
  p4: Comparison & { recipePoll1: CostFigures }
  /** P4 as the next deploy, with the parse state of the deploy before restored (the recipe: P4's). */
  p4Warm?: CostFigures
  p5: { peakRssMbP1?: number; peakRssMbP4?: number; firstLineMs?: number }
  /** The data diff of DIFF_OBJECTS changed objects, and the green dbt run of the same deploy. */
  p8: { diff: CostFigures; greenRun: CostFigures; compared?: number }
}

/** The action's own cost with dbt stubbed (P6), for one case. */
export interface StubCase {
  status?: string
  cost: CostFigures
  peakRssMb?: number
}

export interface StubFigures {
  /** Nodes (and sources) in the manifest, and results in run_results.json. */
  nodes: number
  results: number
  manifestMb: number
  skip: StubCase
  report: StubCase
}

export type Verdict = 'PASS' | 'FAIL' | 'n/a'

export interface TargetResult {
  figure: string
  target: string
  measured: string
  verdict: Verdict
  /** For a FAIL: where the time went, phase by phase. */
  why?: string[]
}

const verdict = (value: number | undefined, limit: number): Verdict =>
  value === undefined ? 'n/a' : value <= limit ? 'PASS' : 'FAIL'

/** PASS only when every part passes; n/a when any part was not measured. */
const allOf = (verdicts: Verdict[]): Verdict =>
  verdicts.includes('n/a') ? 'n/a' : verdicts.includes('FAIL') ? 'FAIL' : 'PASS'

export const fixed = (value: number | undefined, digits: number, unit = ''): string =>
  value === undefined ? 'n/a' : `${value.toFixed(digits)}${unit}`

/** Three decimals: a ratio just over its limit must not print as the limit. */
export const times = (value: number | undefined): string => fixed(value, 3, '×')

/** `4.2 s wall / 3.9 s CPU`; CPU split into node + children for the action. */
export function costText(cost: { wall?: number; cpu?: number; ownCpu?: number }): string {
  const split =
    cost.ownCpu === undefined || cost.cpu === undefined
      ? ''
      : ` (node ${cost.ownCpu.toFixed(1)} + children ${Math.max(0, cost.cpu - cost.ownCpu).toFixed(1)})`
  return `${fixed(cost.wall, 1, ' s')} wall / ${fixed(cost.cpu, 1, ' s')} CPU${split}`
}

/** One line per side: each phase's wall and CPU seconds. */
export function breakdown(side: string, cost: CostFigures): string {
  const phases = cost.phases.map(
    (phase) => `${phase.name} ${fixed(phase.wall, 1)}/${fixed(phase.cpu, 1)}`
  )
  return `${side} ${costText(cost)}; per phase (wall/CPU s): ${phases.join('; ') || 'none recorded'}`
}

/** Sizes a target stated "at ~1,000 models" applies to. */
const nearThousand = (size: number): boolean => size >= 900 && size <= 1100

function p1Target(f: SizeFigures, figure = 'P1', action = f.p1.action): TargetResult {
  const { recipe } = f.p1
  const cpu = ratio(action.cpu, recipe.cpu)
  const result: TargetResult = {
    figure,
    target: '≤ 1.02× the recipe (CPU)',
    measured: `CPU ${times(cpu)} (${fixed(action.cpu, 1, ' s')} vs ${fixed(recipe.cpu, 1, ' s')}); wall ${times(ratio(action.wall, recipe.wall))}`,
    verdict: verdict(cpu, 1.02)
  }
  if (result.verdict === 'FAIL')
    result.why = [breakdown('action', action), breakdown('recipe', recipe)]
  return result
}

function p3Target(f: SizeFigures): TargetResult {
  const { p3 } = f
  const result: TargetResult = {
    figure: 'P3',
    target: 'median ≤ 1 s',
    measured: `${fixed(p3.action, 2, ' s')} (deploy_await: ${fixed(p3.recipe, 2, ' s')} at its default 15 s poll, ${fixed(p3.recipePoll1, 2, ' s')} at poll_interval=1)`,
    verdict: verdict(p3.action, 1)
  }
  if (result.verdict === 'FAIL')
    result.why = [
      `the action's hydration wait ended ${fixed(p3.actionWait, 2, ' s')} after the last object hydrated ` +
        `(deploy_await: ${fixed(p3.recipeWait, 2, ' s')}; at poll_interval=1: ${fixed(p3.recipePoll1Wait, 2, ' s')}); ` +
        'the rest is the steps between the wait and the swap, in the P4 phases:',
      breakdown('action', f.p4.action)
    ]
  return result
}

function p4Target(f: SizeFigures, figure = 'P4', action = f.p4.action): TargetResult {
  const { recipe } = f.p4
  const wall = ratio(action.wall, recipe.wall)
  const cpu = ratio(action.cpu, recipe.cpu)
  const applies = nearThousand(f.size)
  const result: TargetResult = {
    figure,
    target: applies ? '≤ 0.6× the sequence (CPU and wall)' : '≤ 0.6× (set at ~1,000 models)',
    measured: `wall ${times(wall)} (${fixed(action.wall, 1, ' s')} vs ${fixed(recipe.wall, 1, ' s')}); CPU ${times(cpu)} (${fixed(action.cpu, 1, ' s')} vs ${fixed(recipe.cpu, 1, ' s')})`,
    verdict: applies ? allOf([verdict(wall, 0.6), verdict(cpu, 0.6)]) : 'n/a'
  }
  if (result.verdict === 'FAIL')
    result.why = [breakdown('action', action), breakdown('sequence', recipe)]
  return result
}

function p5Targets(f: SizeFigures): TargetResult[] {
  const { peakRssMbP1, peakRssMbP4, firstLineMs } = f.p5
  const peaks = defined([peakRssMbP1, peakRssMbP4])
  const peak = peaks.length > 0 ? Math.max(...peaks) : undefined
  const applies = nearThousand(f.size)
  return [
    {
      figure: 'P5 first line',
      target: '≤ 300 ms',
      measured: fixed(firstLineMs, 0, ' ms'),
      verdict: verdict(firstLineMs, 300)
    },
    {
      figure: 'P5 memory',
      target: applies ? '≤ 200 MB at ~1,000 models' : '≤ 200 MB (set at ~1,000 models)',
      measured: `${fixed(peak, 0, ' MB')} (P1 ${fixed(peakRssMbP1, 0)}, P4 ${fixed(peakRssMbP4, 0)})`,
      verdict: applies ? verdict(peak, 200) : 'n/a'
    }
  ]
}

function p8Target(f: SizeFigures): TargetResult {
  const { diff, greenRun, compared } = f.p8
  const share = ratio(diff.wall, greenRun.wall)
  const applies = nearThousand(f.size)
  return {
    figure: 'P8',
    target: applies
      ? '≤ 0.10× the green dbt run (wall)'
      : '≤ 0.10× the green dbt run (set at ~1,000 models)',
    measured: `${times(share)} (${fixed(diff.wall, 1, ' s')} for ${compared ?? 'n/a'} objects vs ${fixed(greenRun.wall, 1, ' s')}); CPU ${times(ratio(diff.cpu, greenRun.cpu))}`,
    verdict: applies ? verdict(share, 0.1) : 'n/a'
  }
}

export const WARM_P1 = 'P1 next push (parse cache)'
export const WARM_P4 = 'P4 next deploy (parse cache)'

/** P1 and P4 as the next CI run: the same targets, judged on their own. */
function warmTargets(f: SizeFigures): TargetResult[] {
  return [
    ...(f.p1Warm ? [p1Target(f, WARM_P1, f.p1Warm)] : []),
    ...(f.p4Warm ? [p4Target(f, WARM_P4, f.p4Warm)] : [])
  ]
}

/** The targets for one size; P2 has none, it is reported only. */
export function evaluateTargets(f: SizeFigures): TargetResult[] {
  return [p1Target(f), p3Target(f), p4Target(f), ...warmTargets(f), ...p5Targets(f), p8Target(f)]
}

/** The manifest size the P6 targets are set at. */
export const STUB_TARGET_NODES = 30_000

function stubTarget(
  figure: string,
  one: StubCase,
  limits: { seconds: number; rssMb?: number },
  applies: boolean
): TargetResult {
  const parts = [verdict(one.cost.wall, limits.seconds)]
  if (limits.rssMb !== undefined) parts.push(verdict(one.peakRssMb, limits.rssMb))
  const memory = limits.rssMb === undefined ? '' : ` and ≤ ${limits.rssMb} MB RSS`
  const result: TargetResult = {
    figure,
    target: `≤ ${limits.seconds} s${memory}${applies ? '' : ' (set at 30,000 nodes)'}`,
    measured: `${costText(one.cost)}, peak RSS ${fixed(one.peakRssMb, 0, ' MB')} (status ${one.status ?? 'n/a'})`,
    verdict: applies ? allOf(parts) : 'n/a'
  }
  if (result.verdict === 'FAIL') result.why = [breakdown('action', one.cost)]
  return result
}

/** P6: the action's own work with dbt stubbed, at 30,000 nodes. Wall time: it includes S3. */
export function evaluateStubTargets(f: StubFigures): TargetResult[] {
  const applies = f.nodes >= STUB_TARGET_NODES
  return [
    stubTarget('P6 PR that skips', f.skip, { seconds: 3, rssMb: 400 }, applies),
    stubTarget('P6 full report', f.report, { seconds: 6 }, applies)
  ]
}

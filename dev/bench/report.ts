// The bench's printed tables: figures per size (wall and CPU, with their ratios side by side),
// P6 (the action with dbt stubbed), P7 (one readiness poll), then the targets with PASS/FAIL,
// and for every FAIL the phase breakdown that says why.
import { renderMarkdown, type Style } from '../demo/markdown.js'
import type { PollCost } from './poll.js'
import { DIFF_ROWS } from './diff.js'
import {
  evaluateStubTargets,
  evaluateTargets,
  fixed,
  ratio,
  times,
  type CostFigures,
  type SizeFigures,
  type StubCase,
  type StubFigures,
  type TargetResult
} from './stats.js'

const num = (value: number | undefined, digits = 1): string => fixed(value, digits)

/** `9.8 (0.9 + 8.9)`: the action's CPU, its node processes' and its children's. */
function actionCpu(cost: CostFigures): string {
  if (cost.cpu === undefined) return 'n/a'
  if (cost.ownCpu === undefined) return num(cost.cpu)
  return `${num(cost.cpu)} (${num(cost.ownCpu)} + ${num(Math.max(0, cost.cpu - cost.ownCpu))})`
}

function comparisonRow(size: number, name: string, action: CostFigures, recipe: CostFigures) {
  return `| ${size} | ${name} | ${num(action.wall)} | ${num(recipe.wall)} | ${times(ratio(action.wall, recipe.wall))} | ${actionCpu(action)} | ${num(recipe.cpu)} | ${times(ratio(action.cpu, recipe.cpu))} |`
}

function latencyRow(size: number, name: string, action?: number, recipe?: number): string {
  return `| ${size} | ${name} | ${num(action, 2)} | ${num(recipe, 2)} | ${times(ratio(action, recipe))} | – | – | – |`
}

/** P8 against the green dbt run of the same deploy, in the recipe's columns. */
function diffRow(f: SizeFigures): string {
  const { diff, greenRun, compared } = f.p8
  const label = `P8 data diff of ${compared ?? 'n/a'} × ${DIFF_ROWS / 1000}k rows (vs: green dbt run)`
  return `| ${f.size} | ${label} | ${num(diff.wall)} | ${num(greenRun.wall)} | ${times(ratio(diff.wall, greenRun.wall))} | ${num(diff.cpu)} | ${num(greenRun.cpu)} | ${times(ratio(diff.cpu, greenRun.cpu))} |`
}

/** An action-only figure against another figure's recipe; none for results from before it. */
function warmRow(size: number, name: string, action: CostFigures | undefined, recipe: CostFigures) {
  return action ? [comparisonRow(size, name, action, recipe)] : []
}

function figureRows(f: SizeFigures): string[] {
  const { p1, p2, p2Shallow, p3, p4, p5 } = f
  const shallow = `P2 shallow checkout, ${p2Shallow.status ?? 'n/a'} (recipe: P2's)`
  return [
    comparisonRow(f.size, 'P1 slim PR, one model changed', p1.action, p1.recipe),
    ...warmRow(f.size, "P1 as the PR's next push, parse cache (recipe: P1's)", f.p1Warm, p1.recipe),
    comparisonRow(f.size, 'P2 slim PR, README change', p2.action, p2.recipe),
    comparisonRow(f.size, shallow, p2Shallow.action, p2.recipe),
    latencyRow(f.size, 'P3 hydrated → deploy_promote starts', p3.action, p3.recipe),
    latencyRow(f.size, 'P3, deploy_await poll_interval=1', p3.action, p3.recipePoll1),
    comparisonRow(f.size, 'P4 full blue/green', p4.action, p4.recipe),
    comparisonRow(f.size, 'P4, deploy_await poll_interval=1', p4.action, p4.recipePoll1),
    ...warmRow(f.size, 'P4 as the next deploy, parse cache (recipe: P4’s)', f.p4Warm, p4.recipe),
    `| ${f.size} | P5 peak RSS of the action, P1 / P4 (MB) | ${num(p5.peakRssMbP1, 0)} / ${num(p5.peakRssMbP4, 0)} | – | – | – | – | – |`,
    `| ${f.size} | P5 first log line (ms) | ${num(p5.firstLineMs, 0)} | – | – | – | – | – |`,
    diffRow(f)
  ]
}

export function figuresMarkdown(all: SizeFigures[], reps: number): string {
  return [
    `### Medians of ${reps} repetition(s): the action vs the upstream recipe (seconds)`,
    '',
    'CPU is user + system time of every process a run starts (dbt, git, Python, the action’s node), not the servers’; the action’s is split into its node processes + their children.',
    '',
    '| Models | Figure | Action wall | Recipe wall | Wall ratio | Action CPU (node + children) | Recipe CPU | CPU ratio |',
    '| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...all.flatMap(figureRows)
  ].join('\n')
}

function stubRow(name: string, one: StubCase): string {
  return `| ${name} | ${one.status ?? 'n/a'} | ${num(one.cost.wall)} | ${actionCpu(one.cost)} | ${num(one.peakRssMb, 0)} |`
}

/** P6: the action's own cost on a big manifest, dbt stubbed. */
export function stubMarkdown(f: StubFigures): string {
  return [
    `### P6 the action's own cost, dbt stubbed: ${f.nodes} nodes (${f.results} results), manifest ${f.manifestMb.toFixed(1)} MB`,
    '',
    '| Case | Status | Wall (s) | CPU (s): node + children | Peak RSS of the action (MB) |',
    '| --- | --- | ---: | ---: | ---: |',
    stubRow('PR that skips (README change)', f.skip),
    stubRow('PR with a full report (every node built)', f.report)
  ].join('\n')
}

interface Scoped {
  scope: string
  targets: TargetResult[]
}

function scopedTargets(all: SizeFigures[], stub?: StubFigures): Scoped[] {
  return [
    ...all.map((f) => ({ scope: `${f.size} models`, targets: evaluateTargets(f) })),
    ...(stub ? [{ scope: `${stub.nodes} nodes`, targets: evaluateStubTargets(stub) }] : [])
  ]
}

export function targetsMarkdown(all: SizeFigures[], stub?: StubFigures): string {
  return [
    '### Targets',
    '',
    '| Scope | Figure | Target | Measured | Verdict |',
    '| --- | --- | --- | --- | --- |',
    ...scopedTargets(all, stub).flatMap(({ scope, targets }) =>
      targets.map(
        (t) => `| ${scope} | ${t.figure} | ${t.target} | ${t.measured} | **${t.verdict}** |`
      )
    )
  ].join('\n')
}

/** Plain sentences for every failed target, each with why: the phases of the runs. */
export function failedTargets(all: SizeFigures[], stub?: StubFigures): string[] {
  return scopedTargets(all, stub).flatMap(({ scope, targets }) =>
    targets
      .filter((t) => t.verdict === 'FAIL')
      .flatMap((t) => [
        `FAILED at ${scope}: ${t.figure} (target ${t.target}), measured ${t.measured}.`,
        ...(t.why ?? []).map((line) => `  why: ${line}`)
      ])
  )
}

export function renderReport(
  all: SizeFigures[],
  reps: number,
  style: Style,
  stub?: StubFigures
): string {
  const failed = failedTargets(all, stub)
  const unjudged = scopedTargets(all, stub).flatMap(({ scope, targets }) =>
    targets.filter((t) => t.verdict === 'n/a').map((t) => `${t.figure} at ${scope}`)
  )
  const verdicts = [
    ...(failed.length === 0 ? ['No measured target failed.'] : failed),
    ...(unjudged.length > 0
      ? [
          `Not judged: ${unjudged.join(', ')} (a target set at ~1,000 models applies at that size only, P6's at 30,000 nodes or more: --sizes 5,1000,10000 and the default --stub-nodes).`
        ]
      : [])
  ]
  return [
    renderMarkdown(figuresMarkdown(all, reps), style),
    ...(stub ? ['', renderMarkdown(stubMarkdown(stub), style)] : []),
    '',
    renderMarkdown(targetsMarkdown(all, stub), style),
    '',
    ...verdicts
  ].join('\n')
}

/** P7: one readiness poll, the action's and deploy_await's, side by side (wall time). */
export function pollMarkdown(cost: PollCost, style: Style): string {
  const ms = (value: number | undefined): string => num(value, 1)
  return renderMarkdown(
    [
      `### P7 one readiness poll: ${cost.clusterObjects} objects on the cluster, ${cost.catalogObjects} in the catalog`,
      '',
      '| Figure | Action | deploy_await | Ratio |',
      '| --- | ---: | ---: | ---: |',
      `| median wall time per poll (ms) | ${ms(cost.actionMedianMs)} | ${ms(cost.upstreamMedianMs)} | ${times(ratio(cost.actionMedianMs, cost.upstreamMedianMs))} |`
    ].join('\n'),
    style
  )
}

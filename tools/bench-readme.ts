// The README's benchmark figures, rendered from bench-results.json (`npm run bench:readme`) so
// that no figure in it is typed by hand: the block between <!-- bench:start --> and
// <!-- bench:end -->. Pure and deterministic: everything comes from the JSON, nothing from the
// clock or the locale.
import type { BenchResults, LoadSample } from '../dev/bench/results.js'
import {
  fixed,
  median,
  ratio,
  times,
  type Comparison,
  type CostFigures,
  type SizeFigures,
  type StubCase,
  type TargetResult,
  WARM_P1,
  WARM_P4
} from '../dev/bench/stats.js'
import { replaceBlock } from './readme.js'

type Size = BenchResults['sizes'][number]

/** 30000 → `30,000`, without the locale. */
export const thousands = (n: number): string => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',')

const seconds = (value: number | undefined): string => fixed(value, 1, ' s')

function verdictOf(targets: TargetResult[], figure: string): string {
  const found = targets.find((t) => t.figure === figure)
  return found && found.verdict !== 'n/a' ? ` **${found.verdict}**` : ''
}

/** `CPU 1.01×, wall 0.95× (4.4 s / 4.6 s)`: both ratios, then the wall times they come from. */
function ratios(action: CostFigures, recipe: CostFigures): string {
  return `CPU ${times(ratio(action.cpu, recipe.cpu))}, wall ${times(ratio(action.wall, recipe.wall))} (${seconds(action.wall)} / ${seconds(recipe.wall)})`
}

interface Row {
  figure: string
  target: string
  cell: (size: Size) => string
}

const compare = (pick: (f: SizeFigures) => Comparison, verdictFigure?: string) => (s: Size) => {
  const { action, recipe } = pick(s.medians)
  return ratios(action, recipe) + (verdictFigure ? verdictOf(s.targets, verdictFigure) : '')
}

/** A figure's next CI run (parse cache) against its recipe; results from before it have none. */
const warm = (figure: 'p1' | 'p4', verdictFigure: string) => (s: Size) => {
  const action = s.medians[`${figure}Warm`]
  if (!action) return 'not measured'
  return ratios(action, s.medians[figure].recipe) + verdictOf(s.targets, verdictFigure)
}

const ROWS: Row[] = [
  {
    figure: 'P1 slim PR, one model changed: action / recipe',
    target: '≤ 1.02× CPU',
    cell: compare((f) => f.p1, 'P1')
  },
  {
    figure: "P1 as the PR's next push, its parse state restored from the cache: action / P1 recipe",
    target: '≤ 1.02× CPU',
    cell: warm('p1', WARM_P1)
  },
  {
    figure: 'P2 slim PR, README change: action / recipe',
    target: '–',
    cell: compare((f) => f.p2)
  },
  {
    figure: 'P2 in a shallow checkout (fetch-depth 1): action / P2 recipe',
    target: '–',
    cell: (s) =>
      `${s.medians.p2Shallow.status ?? 'n/a'}: ${ratios(s.medians.p2Shallow.action, s.medians.p2.recipe)}`
  },
  {
    figure:
      'P3 last object hydrated → `deploy_promote` starts: action (recipe at deploy_await 15 s; 1 s poll)',
    target: 'median ≤ 1 s',
    cell: (s) => {
      const { p3 } = s.medians
      return `${fixed(p3.action, 2, ' s')} (${fixed(p3.recipe, 2, ' s')}; ${fixed(p3.recipePoll1, 2, ' s')})${verdictOf(s.targets, 'P3')}`
    }
  },
  {
    figure: 'P4 full blue/green: action / upstream sequence',
    target: '≤ 0.6× CPU and wall, at ~1,000 models',
    cell: compare((f) => f.p4, 'P4')
  },
  {
    figure: 'P4 with deploy_await at poll_interval=1: action / that sequence',
    target: '–',
    cell: compare((f) => ({ action: f.p4.action, recipe: f.p4.recipePoll1 }))
  },
  {
    figure: 'P4 as the next deploy, its parse state restored from the cache: action / P4 sequence',
    target: '≤ 0.6× CPU and wall, at ~1,000 models',
    cell: warm('p4', WARM_P4)
  },
  {
    figure: 'P5 peak memory of the action (P1 / P4)',
    target: '≤ 200 MB at ~1,000 models',
    cell: (s) =>
      `${fixed(s.medians.p5.peakRssMbP1, 0)} / ${fixed(s.medians.p5.peakRssMbP4, 0, ' MB')}${verdictOf(s.targets, 'P5 memory')}`
  },
  {
    figure: 'P5 first log line',
    target: '≤ 300 ms',
    cell: (s) =>
      `${fixed(s.medians.p5.firstLineMs, 0, ' ms')}${verdictOf(s.targets, 'P5 first line')}`
  },
  {
    figure: 'P8 data diff of 10 changed objects × 100k rows: diff / green dbt run',
    target: '≤ 0.10× wall, at ~1,000 models',
    cell: (s) => {
      const { diff, greenRun } = s.medians.p8
      return `${ratios(diff, greenRun)}${verdictOf(s.targets, 'P8')}`
    }
  }
]

function sizesTable(sizes: Size[]): string[] {
  const header = sizes.map((s) => `${thousands(s.models)} models`)
  return [
    `| Figure | Target | ${header.join(' | ')} |`,
    `| --- | --- | ${header.map(() => '---').join(' | ')} |`,
    ...ROWS.map((row) => `| ${row.figure} | ${row.target} | ${sizes.map(row.cell).join(' | ')} |`)
  ]
}

function stubCell(one: StubCase, targets: TargetResult[], figure: string): string {
  const cost = one.cost
  return `${one.status ?? 'n/a'}: ${seconds(cost.wall)} wall, ${seconds(cost.cpu)} CPU (node ${seconds(cost.ownCpu)}), peak RSS ${fixed(one.peakRssMb, 0, ' MB')}${verdictOf(targets, figure)}`
}

function stubTable(stub: NonNullable<BenchResults['stubCost']>): string[] {
  const f = stub.figures
  return [
    `| P6 the action's own work, dbt stubbed: ${thousands(f.nodes)} nodes, ${f.manifestMb.toFixed(1)} MB manifest | Target | Measured |`,
    '| --- | --- | --- |',
    `| PR that skips (README change) | ≤ 3 s and ≤ 400 MB RSS at 30,000 nodes | ${stubCell(f.skip, stub.targets, 'P6 PR that skips')} |`,
    `| PR with a full report (${thousands(f.results)} results) | ≤ 6 s at 30,000 nodes | ${stubCell(f.report, stub.targets, 'P6 full report')} |`
  ]
}

function pollLine(poll: NonNullable<BenchResults['pollCost']>): string {
  const ms = (value: number | undefined): string => fixed(value, 1, ' ms')
  return (
    `P7, one readiness poll with ${thousands(poll.clusterObjects)} objects on the cluster (${thousands(poll.catalogObjects)} in the catalog), median wall time: ` +
    `the action ${ms(poll.actionMedianMs)}, \`deploy_await\` ${ms(poll.upstreamMedianMs)} (${times(ratio(poll.actionMedianMs, poll.upstreamMedianMs))}).`
  )
}

function loadText(samples: LoadSample[]): string {
  const values = samples.map((s) => s.avg1)
  if (values.length === 0) return 'load average not recorded'
  const [min, mid, max] = [Math.min(...values), median(values), Math.max(...values)]
  return `load average (1 min) during the run: min ${fixed(min, 2)}, median ${fixed(mid, 2)}, max ${fixed(max, 2)} (${values.length} samples)`
}

/** Every failed target with its why, from the JSON, so a FAIL is never only a cell. */
function failures(results: BenchResults): string[] {
  const scoped = [
    ...results.sizes.map((s) => ({ scope: `${thousands(s.models)} models`, targets: s.targets })),
    ...(results.stubCost
      ? [
          {
            scope: `${thousands(results.stubCost.figures.nodes)} nodes`,
            targets: results.stubCost.targets
          }
        ]
      : [])
  ]
  return scoped.flatMap(({ scope, targets }) =>
    targets
      .filter((t) => t.verdict === 'FAIL')
      .flatMap((t) => [
        `- **FAIL** at ${scope}: ${t.figure} (target ${t.target}), measured ${t.measured}.`,
        ...(t.why ?? []).map((line) => `  - ${line}`)
      ])
  )
}

/** The generated block: provenance, then the figures. */
export function renderBenchBlock(results: BenchResults): string {
  const { machine, options } = results
  const command = `npm run bench -- --sizes ${options.sizes.join(',')} --reps ${options.reps} --stub-nodes ${options.stubNodes} --poll-objects ${options.pollObjects}`
  const failed = failures(results)
  return [
    `Generated by \`npm run bench:readme\` from the \`bench-results.json\` of \`${command}\`, ` +
      `run on ${results.generatedAt.slice(0, 10)}${results.commit ? ` (commit ${results.commit})` : ''} on a ${machine.cpus}-core machine (${machine.cpuModel ?? 'unknown CPU'}, ${machine.memoryGb} GB, Node ${machine.node}); ` +
      `${loadText(results.load.samples)}. Medians of ${options.reps} repetition(s); wall and CPU ratios are action / recipe.`,
    '',
    ...sizesTable(results.sizes),
    ...(results.stubCost ? ['', ...stubTable(results.stubCost)] : []),
    ...(results.pollCost ? ['', pollLine(results.pollCost)] : []),
    ...(failed.length > 0
      ? [
          '',
          'Where the failed targets lose their time (wall/CPU seconds per phase):',
          '',
          ...failed
        ]
      : [])
  ].join('\n')
}

/** One block per results file, e.g. a long run of the big size beside the usual one. */
export function updatedBenchReadme(readme: string, results: BenchResults[]): string {
  return replaceBlock(readme, 'bench', results.map(renderBenchBlock).join('\n\n'))
}

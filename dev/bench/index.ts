// `npm run bench`: the action against the bare upstream recipes it replaces, measured in one
// run on this machine, wall and CPU time: P1/P2 slim CI (P2 also in a shallow clone), P3
// hydration-to-swap latency, P4 a full blue/green deploy, P5 the action's memory and first log
// line, per project size; then P6, the action's own cost on a --stub-nodes manifest with dbt
// stubbed, and P7, one readiness poll with --poll-objects objects on a cluster. Medians go to
// stdout as tables and to JSON with the raw samples and the load average during the run.
// Progress goes to stderr.
//
//   npm run bench [-- --reps 3] [--sizes 5,1000,10000] [--full] [--stub-nodes 30000]
//                 [--poll-objects 1000] [--out bench-results.json] [--keep]
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { abortOnSignals, INTERRUPTED_EXIT_CODE } from '../interrupt.js'
import { startServices, type Services } from '../demo/services.js'
import { startCacheStub, type CacheStub } from '../cache-stub.js'
import { repoRoot } from '../runner.js'
import { paletteFor } from '../demo/terminal.js'
import { measurePollCost } from './poll.js'
import { pollMarkdown, renderReport } from './report.js'
import {
  checkoutCommit,
  machine,
  sampleLoad,
  UNITS,
  type BenchOptions,
  type BenchResults,
  type LoadSample
} from './results.js'
import { benchSize, type BenchContext } from './scenarios.js'
import { evaluateStubTargets, evaluateTargets, STUB_TARGET_NODES } from './stats.js'
import { measureStubCost } from './stub.js'

const QUICK_SIZES = [5]
const FULL_SIZES = [5, 100, 1000]
const LOAD_INTERVAL_SECONDS = 5

interface Options extends BenchOptions {
  out: string
  keep: boolean
}

function usage(message: string): never {
  process.stderr.write(
    `${message}\nUsage: npm run bench -- [--reps N] [--sizes 5,1000,10000 | --full] [--stub-nodes N] [--poll-objects N] [--out FILE] [--keep]\n`
  )
  process.exit(2)
}

function positiveInt(text: string | undefined, what: string): number {
  const value = Number(text)
  if (!Number.isInteger(value) || value < 1)
    usage(`${what} must be a positive integer, got "${text}"`)
  return value
}

function parseArgs(argv: string[]): Options {
  const options: Options = {
    reps: 3,
    sizes: QUICK_SIZES,
    stubNodes: STUB_TARGET_NODES,
    pollObjects: 1000,
    out: 'bench-results.json',
    keep: false
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === '--reps') options.reps = positiveInt(argv[++i], '--reps')
    else if (arg === '--sizes')
      options.sizes = (argv[++i] ?? '').split(',').map((s) => positiveInt(s.trim(), '--sizes'))
    else if (arg === '--full') options.sizes = FULL_SIZES
    else if (arg === '--stub-nodes') options.stubNodes = positiveInt(argv[++i], '--stub-nodes')
    else if (arg === '--poll-objects')
      options.pollObjects = positiveInt(argv[++i], '--poll-objects')
    else if (arg === '--out') options.out = argv[++i] ?? usage('--out needs a path')
    else if (arg === '--keep') options.keep = true
    else usage(`Unknown argument: ${arg}`)
  }
  return options
}

const log = (line: string): void => {
  process.stderr.write(`${line}\n`)
}

/** What the run measured so far; written after every stage, so partial results survive. */
type Measured = Pick<BenchResults, 'sizes' | 'stubCost' | 'pollCost'>

/** Where the run was started from: the commit, the options, the load samples so far. */
interface RunInfo {
  commit?: string
  options: Options
  load: LoadSample[]
}

function writeJson(file: string, { commit, options, load }: RunInfo, measured: Measured): void {
  const { reps, sizes, stubNodes, pollObjects } = options
  const json: BenchResults = {
    generatedAt: new Date().toISOString(),
    commit,
    machine: machine(),
    options: { reps, sizes, stubNodes, pollObjects },
    load: { intervalSeconds: LOAD_INTERVAL_SECONDS, samples: load },
    units: UNITS,
    ...measured
  }
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true })
  writeFileSync(file, `${JSON.stringify(json, null, 2)}\n`)
}

async function measureAll(
  ctx: BenchContext,
  options: Options,
  save: (measured: Measured) => void
): Promise<Required<Measured>> {
  const sizes: Measured['sizes'] = []
  for (const size of options.sizes) {
    const { figures, samples } = await benchSize(ctx, size)
    sizes.push({ models: size, medians: figures, targets: evaluateTargets(figures), samples })
    save({ sizes })
  }
  const stub = await measureStubCost(ctx, options.stubNodes)
  const stubCost = { ...stub, targets: evaluateStubTargets(stub.figures) }
  save({ sizes, stubCost })
  const pollCost = await measurePollCost(ctx.services, options.pollObjects, log)
  return { sizes, stubCost, pollCost }
}

async function main(): Promise<number> {
  const options = parseArgs(process.argv.slice(2))
  const root = mkdtempSync(path.join(tmpdir(), 'dbt-mz-bench-'))
  // Ctrl-C or SIGTERM: the run in flight is killed, then everything is stopped.
  const abort = abortOnSignals((signal) => log(`bench: interrupted (${signal}); stopping servers…`))
  const load = sampleLoad(LOAD_INTERVAL_SECONDS)
  let services: Services | undefined
  let cache: CacheStub | undefined
  const started = Date.now()
  try {
    log(
      `bench: sizes ${options.sizes.join(', ')}, P6 at ${options.stubNodes} nodes, ${options.reps} repetition(s), temp dir ${root}`
    )
    services = await startServices()
    cache = await startCacheStub()
    const ctx: BenchContext = { services, cache, root, reps: options.reps, log, abort }
    const info = { commit: checkoutCommit(repoRoot), options, load: load.samples }
    const save = (measured: Measured): void => writeJson(options.out, info, measured)
    const measured = await measureAll(ctx, options, save)
    load.stop()
    save(measured)
    const style = paletteFor(process.stdout).markdown
    const report = renderReport(
      measured.sizes.map((s) => s.medians),
      options.reps,
      style,
      measured.stubCost.figures
    )
    process.stdout.write(`${report}\n\n${pollMarkdown(measured.pollCost, style)}\n`)
    log(
      `bench: finished in ${((Date.now() - started) / 1000).toFixed(0)} s; JSON in ${path.resolve(options.out)}`
    )
    return 0
  } catch (error) {
    if (abort.aborted) return INTERRUPTED_EXIT_CODE
    log(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`)
    return 1
  } finally {
    load.stop()
    await cache?.stop()
    await services?.stop()
    if (!options.keep) rmSync(root, { recursive: true, force: true, maxRetries: 5 })
  }
}

process.exitCode = await main()

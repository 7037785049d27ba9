// `npm run bench`: the action against the bare upstream recipes it replaces, measured in one
// run on this machine: P1/P2 slim CI, P3 hydration-to-swap latency, P4 a full blue/green
// deploy, P5 the action's memory and first log line, per project size; then P6, one readiness
// poll with --poll-objects objects on a cluster. Medians go to stdout as a table and to JSON.
// Progress goes to stderr.
//
//   npm run bench [-- --reps 3] [--sizes 5,100] [--full] [--poll-objects 1000]
//                 [--out bench-results.json] [--keep]
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, tmpdir, totalmem } from 'node:os'
import path from 'node:path'
import { abortOnSignals, INTERRUPTED_EXIT_CODE } from '../interrupt.js'
import { startServices, type Services } from '../demo/services.js'
import { paletteFor } from '../demo/terminal.js'
import { measurePollCost, type PollCost } from './poll.js'
import { pollMarkdown, renderReport } from './report.js'
import { benchSize, type SizeSamples } from './scenarios.js'
import { evaluateTargets, type SizeFigures } from './stats.js'

const QUICK_SIZES = [5]
const FULL_SIZES = [5, 100, 1000]

interface Options {
  reps: number
  sizes: number[]
  pollObjects: number
  out: string
  keep: boolean
}

function usage(message: string): never {
  process.stderr.write(
    `${message}\nUsage: npm run bench -- [--reps N] [--sizes 5,100,1000 | --full] [--poll-objects N] [--out FILE] [--keep]\n`
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

function machine(): Record<string, unknown> {
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    memoryGb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: process.platform
  }
}

function writeJson(
  file: string,
  options: Options,
  results: Array<{ figures: SizeFigures; samples: SizeSamples }>,
  pollCost?: PollCost
): void {
  const json = {
    generatedAt: new Date().toISOString(),
    machine: machine(),
    reps: options.reps,
    units: { time: 'seconds', memory: 'MB (maxRSS of the action node process)', firstLine: 'ms' },
    sizes: results.map(({ figures, samples }) => ({
      models: figures.size,
      medians: figures,
      targets: evaluateTargets(figures),
      samples
    })),
    pollCost
  }
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true })
  writeFileSync(file, `${JSON.stringify(json, null, 2)}\n`)
}

async function main(): Promise<number> {
  const options = parseArgs(process.argv.slice(2))
  const root = mkdtempSync(path.join(tmpdir(), 'dbt-mz-bench-'))
  // Ctrl-C or SIGTERM: the run in flight is killed, then everything is stopped.
  const abort = abortOnSignals((signal) => log(`bench: interrupted (${signal}); stopping servers…`))
  let services: Services | undefined
  const started = Date.now()
  try {
    log(`bench: sizes ${options.sizes.join(', ')}, ${options.reps} repetition(s), temp dir ${root}`)
    services = await startServices()
    const results: Array<{ figures: SizeFigures; samples: SizeSamples }> = []
    for (const size of options.sizes) {
      results.push(await benchSize({ services, root, reps: options.reps, log, abort }, size))
      writeJson(options.out, options, results) // partial results survive a later failure
    }
    const pollCost = await measurePollCost(services, options.pollObjects, log)
    writeJson(options.out, options, results, pollCost)
    const style = paletteFor(process.stdout).markdown
    process.stdout.write(
      `${renderReport(
        results.map((r) => r.figures),
        options.reps,
        style
      )}\n\n${pollMarkdown(pollCost, style)}\n`
    )
    log(
      `bench: finished in ${((Date.now() - started) / 1000).toFixed(0)} s; JSON in ${path.resolve(options.out)}`
    )
    return 0
  } catch (error) {
    if (abort.aborted) return INTERRUPTED_EXIT_CODE
    log(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`)
    return 1
  } finally {
    await services?.stop()
    if (!options.keep) rmSync(root, { recursive: true, force: true, maxRetries: 5 })
  }
}

process.exitCode = await main()

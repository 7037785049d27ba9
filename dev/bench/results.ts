// The bench's JSON (bench-results.json): medians, targets and raw samples per size, P6 and P7,
// the options it ran with, the machine, and the load average sampled while it ran (wall times
// on a loaded machine are noisy; CPU times much less so). tools/bench-readme.ts reads it.
import { execFileSync } from 'node:child_process'
import { cpus, loadavg, totalmem } from 'node:os'
import type { PollCost } from './poll.js'
import type { SizeSamples } from './scenarios.js'
import type { SizeFigures, StubFigures, TargetResult } from './stats.js'
import type { StubSamples } from './stub.js'

export interface BenchOptions {
  reps: number
  sizes: number[]
  stubNodes: number
  pollObjects: number
}

/** The 1, 5 and 15 minute load averages, `t` seconds after the bench started. */
export interface LoadSample {
  t: number
  avg1: number
  avg5: number
  avg15: number
}

export interface Machine {
  cpus: number
  cpuModel?: string
  memoryGb: number
  node: string
  platform: string
}

export interface BenchResults {
  generatedAt: string
  /** The commit whose dist/ was measured; absent in results from before it was recorded. */
  commit?: string
  machine: Machine
  options: BenchOptions
  load: { intervalSeconds: number; samples: LoadSample[] }
  units: Record<string, string>
  sizes: Array<{
    models: number
    medians: SizeFigures
    targets: TargetResult[]
    samples: SizeSamples
  }>
  /** P6. */
  stubCost?: { figures: StubFigures; targets: TargetResult[]; samples: StubSamples }
  /** P7. */
  pollCost?: PollCost
}

/** The checkout's commit, marked when tracked files differ from it (what ran is then unknown). */
export function checkoutCommit(cwd: string): string | undefined {
  const git = (...args: string[]): string =>
    execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
  try {
    const sha = git('rev-parse', '--short', 'HEAD')
    return git('status', '--porcelain', '--untracked-files=no')
      ? `${sha} with uncommitted changes`
      : sha
  } catch {
    return undefined // not a git checkout
  }
}

export function machine(): Machine {
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    memoryGb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: process.platform
  }
}

export const UNITS = {
  time: 'seconds (wall; CPU = user + system of every process a run starts, not the servers)',
  memory: 'MB (maxRSS of the action node process)',
  firstLine: 'ms'
}

/** Samples the load average now, every `intervalSeconds`, and once more when stopped. */
export function sampleLoad(intervalSeconds: number): {
  samples: LoadSample[]
  stop(): void
} {
  const started = Date.now()
  const samples: LoadSample[] = []
  const take = (): void => {
    const [avg1 = 0, avg5 = 0, avg15 = 0] = loadavg()
    samples.push({ t: Math.round((Date.now() - started) / 1000), avg1, avg5, avg15 })
  }
  take()
  const timer = setInterval(take, intervalSeconds * 1000)
  timer.unref() // never what keeps the bench alive
  let stopped = false
  return {
    samples,
    stop: () => {
      if (stopped) return
      stopped = true
      clearInterval(timer)
      take()
    }
  }
}

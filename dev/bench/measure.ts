// Measuring one run of the bundled action: wall time (main + post, as a job step costs), the
// node process's own peak RSS, its first visible log line, and when its hydration wait ended.
import { existsSync, readFileSync, rmSync } from 'node:fs'
import path from 'node:path'
import { runAction, runPost, type GitHubEvent } from '../runner.js'
import { formatActionLine, plainPalette, type LogState } from '../demo/terminal.js'

/**
 * Loaded into the action's node with --import: on exit it writes the process's own resource
 * usage (maxRSS covers this process only, not dbt or other children).
 */
const RUSAGE_PRELOAD = `import { writeFileSync } from 'node:fs'
process.on('exit', () => {
  try { writeFileSync(process.env.BENCH_RUSAGE_FILE, JSON.stringify(process.resourceUsage())) } catch {}
})`

export interface ActionMeasurement {
  seconds: number
  exitCode: number | null
  outputs: Record<string, string>
  peakRssMb?: number
  firstLineMs?: number
  /** Epoch ms when the "Await hydration" group ended (blue/green). */
  awaitEndedAt?: number
  logTail: string
}

export interface MeasureOptions {
  workspace: string
  event: GitHubEvent
  inputs: Record<string, string>
  env: Record<string, string>
  apiUrl: string
  runDir: string
  abort: AbortSignal
}

/** Watches the log for the first visible line and the end of the hydration wait. */
function logWatcher() {
  const state: LogState = { inGroup: false }
  let inAwait = false
  const seen: { firstVisibleAt?: number; awaitEndedAt?: number } = {}
  const onLine = (line: string, stream: 'stdout' | 'stderr', at: number): void => {
    if (formatActionLine(line, stream, state, plainPalette) !== undefined)
      seen.firstVisibleAt ??= at
    if (line === '::group::Await hydration') inAwait = true
    else if (inAwait && line === '::endgroup::') {
      inAwait = false
      seen.awaitEndedAt = at
    }
  }
  return { onLine, seen }
}

function peakRssMb(file: string): number | undefined {
  if (!existsSync(file)) return undefined
  const usage = JSON.parse(readFileSync(file, 'utf8')) as { maxRSS: number }
  return usage.maxRSS / 1024 // kilobytes
}

export async function measureAction(options: MeasureOptions): Promise<ActionMeasurement> {
  const rusageFile = path.join(options.runDir, 'rusage.json')
  rmSync(rusageFile, { force: true })
  const watcher = logWatcher()
  const main = await runAction({
    ...options,
    env: { ...options.env, BENCH_RUSAGE_FILE: rusageFile },
    nodeArgs: ['--import', `data:text/javascript,${encodeURIComponent(RUSAGE_PRELOAD)}`],
    onLine: watcher.onLine,
    timeoutMs: 1_200_000
  })
  const peak = peakRssMb(rusageFile)
  const post = await runPost(main, { nodeArgs: [], onLine: undefined })
  return {
    seconds: (main.durationMs + post.durationMs) / 1000,
    exitCode: main.exitCode === 0 ? post.exitCode : main.exitCode,
    outputs: main.outputs,
    peakRssMb: peak,
    firstLineMs:
      watcher.seen.firstVisibleAt === undefined
        ? undefined
        : watcher.seen.firstVisibleAt - main.startedAt,
    awaitEndedAt: watcher.seen.awaitEndedAt,
    logTail: [
      `main: exit ${main.exitCode ?? main.signal}${main.timedOut ? ' (timed out)' : ''}; post: exit ${post.exitCode ?? post.signal}`,
      ...[main, post].map(
        (r) =>
          `--- ${r.options.entry ?? 'main'} (${r.files.dir}) ---\n${r.stdout.split('\n').slice(-25).join('\n')}\n${r.stderr.slice(-2000)}`
      )
    ].join('\n')
  }
}

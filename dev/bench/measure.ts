// Measuring one run of the bundled action: wall and CPU time (main + post, as a job step costs),
// each log group's share of both, the node process's own peak RSS, and its first visible log line.
import { existsSync, readFileSync, rmSync } from 'node:fs'
import path from 'node:path'
import { runAction, runPost, type ActionRun, type GitHubEvent } from '../runner.js'
import { formatActionLine, plainPalette, type LogState } from '../demo/terminal.js'
import { childrenCpuSeconds } from './cpu.js'
import type { Phase } from './stats.js'

/**
 * Loaded into the action's node with --import. At every `::group::` and `::endgroup::` the
 * action prints, and at exit, it notes the time, its own CPU time and its children's (dbt, git),
 * so each log group gets its wall and CPU time. Children's CPU is that of the exited ones
 * (/proc/self/stat's cutime + cstime, read as parseProcStat in cpu.ts does) plus that of the
 * live ones so far (each descendant's utime + stime + cutime + cstime, found through
 * /proc/<pid>/task/<tid>/children): a long-lived dbt process's time goes to the groups it
 * worked in, not to the moment it exits. At exit it writes the marks with its resource usage
 * (maxRSS covers this process only). @actions/core prints each command in one string.
 */
const PRELOAD = `import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
const statCpu = (pid, indexes) => {
  const stat = readFileSync('/proc/' + pid + '/stat', 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return indexes.reduce((sum, index) => sum + Number(fields[index]), 0) / 100
}
const childrenOf = (pid) =>
  readdirSync('/proc/' + pid + '/task').flatMap((tid) =>
    readFileSync('/proc/' + pid + '/task/' + tid + '/children', 'utf8').split(' ').filter(Boolean))
const liveCpu = (pid) => {
  let sum = 0
  try {
    for (const child of childrenOf(pid)) sum += statCpu(child, [11, 12, 13, 14]) + liveCpu(child)
  } catch {} // a process that exits meanwhile is counted by its parent's cutime
  return sum
}
const childrenCpu = () => statCpu('self', [13, 14]) + liveCpu(process.pid)
const mark = (group) => {
  const { user, system } = process.cpuUsage()
  return { group, at: Date.now(), ownCpu: (user + system) / 1e6, childrenCpu: childrenCpu() }
}
const marks = [mark(null)]
const write = process.stdout.write
process.stdout.write = function (chunk, ...rest) {
  const command = typeof chunk === 'string' && /^::(group|endgroup)::(.*)/.exec(chunk)
  if (command) marks.push(mark(command[1] === 'group' ? command[2].trim() : null))
  return write.call(this, chunk, ...rest)
}
process.on('exit', () => {
  marks.push(mark(null))
  try {
    writeFileSync(process.env.BENCH_RUSAGE_FILE, JSON.stringify({ usage: process.resourceUsage(), marks }))
  } catch {}
})`

const PRELOAD_ARGS = ['--import', `data:text/javascript,${encodeURIComponent(PRELOAD)}`]

/** A point the preload noted: a group starting (its name), or ending or the process exiting (null). */
interface Mark {
  group: string | null
  at: number
  ownCpu: number
  childrenCpu: number
}

interface PreloadReport {
  usage: { maxRSS: number; userCPUTime: number; systemCPUTime: number }
  marks: Mark[]
}

/** A log group's span, epoch ms. */
export interface GroupSpan {
  name: string
  startedAt: number
  endedAt: number
}

export interface ActionMeasurement {
  seconds: number
  /** CPU seconds of main + post and all they waited for; `ownCpu` the node processes alone. */
  cpu: number
  ownCpu?: number
  /** Main's log groups (time outside them, and node's start, as phases of their own), then post. */
  phases: Phase[]
  groups: GroupSpan[]
  exitCode: number | null
  outputs: Record<string, string>
  /** Main's stdout. */
  log: string
  peakRssMb?: number
  firstLineMs?: number
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

/** Watches the log for the first visible line. */
function firstLineWatcher() {
  const state: LogState = { inGroup: false }
  const seen: { at?: number } = {}
  const onLine = (line: string, stream: 'stdout' | 'stderr', at: number): void => {
    if (formatActionLine(line, stream, state, plainPalette) !== undefined) seen.at ??= at
  }
  return { onLine, seen }
}

function readPreload(file: string): PreloadReport | undefined {
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as PreloadReport) : undefined
}

/** Wall and CPU per group, in order of first appearance; repeated names are summed. */
export function phasesOf(marks: Mark[], startedAt: number): Phase[] {
  const phases = new Map<string, Required<Phase>>()
  const add = (name: string, wall: number, own: number, children: number): void => {
    const phase = phases.get(name) ?? { name, wall: 0, cpu: 0, ownCpu: 0 }
    phase.wall += wall
    phase.ownCpu += own
    phase.cpu += own + children
    phases.set(name, phase)
  }
  const [first] = marks
  if (first) add('node start', (first.at - startedAt) / 1000, first.ownCpu, first.childrenCpu)
  for (let i = 1; i < marks.length; i++) {
    const from = marks[i - 1]!
    const to = marks[i]!
    const name = from.group ?? 'outside groups'
    add(name, (to.at - from.at) / 1000, to.ownCpu - from.ownCpu, to.childrenCpu - from.childrenCpu)
  }
  return [...phases.values()]
}

export function groupsOf(marks: Mark[]): GroupSpan[] {
  return marks.flatMap((mark, i) =>
    mark.group === null
      ? []
      : [{ name: mark.group, startedAt: mark.at, endedAt: marks[i + 1]?.at ?? mark.at }]
  )
}

const ownSeconds = (report: PreloadReport | undefined): number | undefined =>
  report && (report.usage.userCPUTime + report.usage.systemCPUTime) / 1e6

/** Runs `work` and returns its result with the CPU seconds of the processes it waited for. */
async function withCpu<T>(work: () => Promise<T>): Promise<{ result: T; cpu: number }> {
  const before = childrenCpuSeconds()
  const result = await work()
  return { result, cpu: childrenCpuSeconds() - before }
}

function logTail(main: ActionRun, post: ActionRun): string {
  return [
    `main: exit ${main.exitCode ?? main.signal}${main.timedOut ? ' (timed out)' : ''}; post: exit ${post.exitCode ?? post.signal}`,
    ...[main, post].map(
      (r) =>
        `--- ${r.options.entry ?? 'main'} (${r.files.dir}) ---\n${r.stdout.split('\n').slice(-25).join('\n')}\n${r.stderr.slice(-2000)}`
    )
  ].join('\n')
}

export async function measureAction(options: MeasureOptions): Promise<ActionMeasurement> {
  const mainFile = path.join(options.runDir, 'rusage.json')
  const postFile = path.join(options.runDir, 'rusage-post.json')
  for (const file of [mainFile, postFile]) rmSync(file, { force: true })
  const watcher = firstLineWatcher()
  const main = await withCpu(() =>
    runAction({
      ...options,
      env: { ...options.env, BENCH_RUSAGE_FILE: mainFile },
      nodeArgs: PRELOAD_ARGS,
      onLine: watcher.onLine,
      timeoutMs: 1_200_000
    })
  )
  const post = await withCpu(() =>
    runPost(main.result, {
      env: { ...options.env, BENCH_RUSAGE_FILE: postFile },
      nodeArgs: PRELOAD_ARGS,
      onLine: undefined
    })
  )
  const [mainReport, postReport] = [readPreload(mainFile), readPreload(postFile)]
  const [mainOwn, postOwn] = [ownSeconds(mainReport), ownSeconds(postReport)]
  const marks = mainReport?.marks ?? []
  return {
    seconds: (main.result.durationMs + post.result.durationMs) / 1000,
    cpu: main.cpu + post.cpu,
    ownCpu: mainOwn === undefined || postOwn === undefined ? undefined : mainOwn + postOwn,
    phases: [
      ...phasesOf(marks, main.result.startedAt),
      { name: 'post step', wall: post.result.durationMs / 1000, cpu: post.cpu, ownCpu: postOwn }
    ],
    groups: groupsOf(marks),
    exitCode: main.result.exitCode === 0 ? post.result.exitCode : main.result.exitCode,
    outputs: main.result.outputs,
    log: main.result.stdout,
    peakRssMb: mainReport && mainReport.usage.maxRSS / 1024, // kilobytes
    firstLineMs:
      watcher.seen.at === undefined ? undefined : watcher.seen.at - main.result.startedAt,
    logTail: logTail(main.result, post.result)
  }
}

// The processes of a run or a dev tool, read from /proc: waiting for a moment in a run, finding
// the action and the dbt it started, what a process group or tree left running, and whether a
// port still answers. For the tests that stop the action or the tools mid-run.
import { readdirSync, readFileSync, readlinkSync, realpathSync } from 'node:fs'
import { connect } from 'node:net'
import type { ActionRun } from './runner.js'

export interface ProcessInfo {
  pid: number
  /** argv, as /proc/<pid>/cmdline has it. */
  args: string[]
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Polls `condition` while `run` is still going, and fails fast, with the run's output, if the
 * run ends first. There is no deadline of its own: the run ends by itself or by its timeout.
 */
export async function duringRun(
  run: Promise<ActionRun>,
  what: string,
  condition: () => Promise<boolean> | boolean
): Promise<void> {
  let finished: ActionRun | undefined
  void run.then((result) => (finished = result))
  while (!(await condition())) {
    if (finished) {
      throw new Error(
        `the run ended (exit ${finished.exitCode}) before ${what}:\n${finished.stdout.slice(-4000)}`
      )
    }
    await sleep(100)
  }
}

const pids = (): number[] =>
  readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number)

/** Fields of /proc/<pid>/stat after the parenthesised command name: state, parent, group, … */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  } catch {
    return undefined // exited meanwhile
  }
}

export function commandLine(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean)
  } catch {
    return []
  }
}

const info = (pid: number): ProcessInfo => ({ pid, args: commandLine(pid) })

/** Every process below `root` (children, grandchildren, …), whatever its process group. */
export function descendantsOf(root: number): ProcessInfo[] {
  const parentOf = (pid: number): number | undefined => {
    const parent = statFields(pid)?.[1]
    return parent === undefined ? undefined : Number(parent)
  }
  const isBelowRoot = (pid: number): boolean => {
    for (let at = parentOf(pid); at !== undefined && at > 1; at = parentOf(at))
      if (at === root) return true
    return false
  }
  return pids().filter(isBelowRoot).map(info)
}

/** Processes whose working directory is `dir` or below it, even if it was deleted since. */
export function processesIn(dir: string): ProcessInfo[] {
  let root = dir
  try {
    root = realpathSync(dir)
  } catch {
    // Deleted: /proc still names it by its old path.
  }
  return pids()
    .filter((pid) => {
      try {
        const cwd = readlinkSync(`/proc/${pid}/cwd`)
        return cwd === root || cwd.startsWith(`${root}/`)
      } catch {
        return false // gone meanwhile, or not ours to read
      }
    })
    .map(info)
}

/** The pid of the action's main step running in `dir`, if it is running. */
export function actionPid(dir: string): number | undefined {
  return processesIn(dir).find(({ args }) => args.some((arg) => arg.endsWith('dist/index.js')))?.pid
}

/** The dbt processes running in `dir`. */
export function dbtProcessesIn(dir: string): ProcessInfo[] {
  return processesIn(dir).filter(({ args }) => args.some((arg) => arg.endsWith('/bin/dbt')))
}

/** The PostgreSQL postmaster among `processes` (`postgres -D <dir>`) and its data dir. */
export function postmasterOf(processes: ProcessInfo[]): { pid: number; dataDir: string } {
  const postmaster = processes.find(
    ({ args }) => /(^|\/)postgres$/.test(args[0] ?? '') && args.includes('-D')
  )
  if (!postmaster) throw new Error('no "postgres -D" process among the tool\'s processes')
  return { pid: postmaster.pid, dataDir: postmaster.args[postmaster.args.indexOf('-D') + 1]! }
}

/** The user id a process runs as (the real uid, from /proc/<pid>/status). */
export function uidOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  return Number(/^Uid:\s+(\d+)/m.exec(status)![1])
}

/** The kernel's PF_EXITING flag (include/linux/sched.h): the process is in exit. */
const PF_EXITING = 0x4

/**
 * A zombie still has a /proc entry, and so has a process that is already exiting: the kernel
 * closes its files (the pipes a parent waits on) before the exit ends. Both are gone for our
 * purposes; a process that is not exiting is alive.
 */
export function isAlive(pid: number): boolean {
  // Fields after "pid (comm) ": state is field 3, flags field 9.
  const [state, , , , , , flags] = statFields(pid) ?? []
  return state !== undefined && state !== 'Z' && (Number(flags) & PF_EXITING) === 0
}

/** The process group of a live process. */
export function processGroupOf(pid: number): number {
  const group = statFields(pid)?.[2]
  if (group === undefined || !isAlive(pid)) throw new Error(`process ${pid} is not running`)
  return Number(group)
}

/** The live processes of a process group. */
export function processesInGroup(group: number): number[] {
  return pids().filter((pid) => isAlive(pid) && Number(statFields(pid)?.[2]) === group)
}

export function acceptsConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

// What a dev tool left running, read from /proc: its process tree, processes working in a
// directory, and whether a port still answers. For the tests that stop the tools mid-run.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs'
import { connect } from 'node:net'

export interface ProcessInfo {
  pid: number
  /** argv, as /proc/<pid>/cmdline has it. */
  args: string[]
}

const pids = (): number[] =>
  readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number)

function parentOf(pid: number): number | undefined {
  try {
    // Field 4 of /proc/<pid>/stat, after the parenthesised command name.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
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

/** Every process below `root` (children, grandchildren, …), whatever its process group. */
export function descendantsOf(root: number): ProcessInfo[] {
  const isBelowRoot = (pid: number): boolean => {
    for (let at = parentOf(pid); at !== undefined && at > 1; at = parentOf(at))
      if (at === root) return true
    return false
  }
  return pids()
    .filter(isBelowRoot)
    .map((pid) => ({ pid, args: commandLine(pid) }))
}

/** Processes whose working directory is `dir` or below it, even if it was deleted since. */
export function processesWorkingIn(dir: string): ProcessInfo[] {
  return pids()
    .filter((pid) => {
      try {
        const cwd = readlinkSync(`/proc/${pid}/cwd`)
        return cwd === dir || cwd.startsWith(`${dir}/`)
      } catch {
        return false // gone meanwhile, or not ours to read
      }
    })
    .map((pid) => ({ pid, args: commandLine(pid) }))
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

export function isAlive(pid: number): boolean {
  // A zombie still has a /proc entry; it is gone for our purposes once its state is Z.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return false
  }
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

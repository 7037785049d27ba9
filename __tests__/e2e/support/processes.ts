// The action's processes while it runs, read from /proc: waiting for a moment in a run, finding
// the action and the dbt it started, and whether any process of a process group is left.
import { readdirSync, readFileSync, readlinkSync, realpathSync } from 'node:fs'
import type { ActionRun } from './runner.js'

export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Polls `condition` while `run` is still going: fails fast, with the run's output, if the run
 * ends first, and after `timeoutMs` otherwise.
 */
export async function duringRun(
  run: Promise<ActionRun>,
  what: string,
  condition: () => Promise<boolean> | boolean,
  timeoutMs = 60_000
): Promise<void> {
  let finished: ActionRun | undefined
  void run.then((result) => (finished = result))
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (finished) {
      throw new Error(
        `the run ended (exit ${finished.exitCode}) before ${what}:\n${finished.stdout.slice(-4000)}`
      )
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(100)
  }
}

interface ProcessInfo {
  pid: number
  cmdline: string
}

function pids(): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
}

/** Processes whose working directory is `dir` (the action and the dbt it started). */
export function processesIn(dir: string): ProcessInfo[] {
  const cwd = realpathSync(dir)
  const found: ProcessInfo[] = []
  for (const pid of pids()) {
    try {
      if (readlinkSync(`/proc/${pid}/cwd`) !== cwd) continue
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ')
      found.push({ pid, cmdline })
    } catch {
      // Gone meanwhile, or not ours to read.
    }
  }
  return found
}

/** The pid of the action's main step running in `dir`, if it is running. */
export function actionPid(dir: string): number | undefined {
  return processesIn(dir).find((p) => p.cmdline.includes('dist/index.js'))?.pid
}

/** The dbt processes running in `dir`. */
export function dbtProcessesIn(dir: string): ProcessInfo[] {
  return processesIn(dir).filter((p) => p.cmdline.includes('/bin/dbt '))
}

/** True while a dbt process runs in `dir`. */
export function dbtRunning(dir: string): boolean {
  return dbtProcessesIn(dir).length > 0
}

/** State and process group of a live process; undefined once it is gone (zombies are gone). */
function statusOf(pid: number): { group: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // After the parenthesised command name: state, parent, process group, …
    const [state, , group] = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return state === 'Z' ? undefined : { group: Number(group) }
  } catch {
    return undefined
  }
}

/** The process group of a live process. */
export function processGroupOf(pid: number): number {
  const status = statusOf(pid)
  if (!status) throw new Error(`process ${pid} is not running`)
  return status.group
}

/** The live processes of a process group. */
export function processesInGroup(group: number): number[] {
  return pids().filter((pid) => statusOf(pid)?.group === group)
}

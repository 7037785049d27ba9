// CPU time (user + system) of the processes a measured command runs, from the kernel's own
// accounting. When a process is waited for, the kernel adds its CPU time, and that of every
// descendant it waited for in turn, to its parent's cutime/cstime (getrusage(RUSAGE_CHILDREN)).
// So the bench's own cutime/cstime grows, across one measured command, by the CPU time of that
// command's whole process tree (dbt, its Python, git, the action's node), and by nothing else:
// measured commands run one at a time, and the bench's other children (PostgreSQL, moto, the
// esbuild service of tsx) live until it stops, so their time is added only then. Not counted:
// processes orphaned before they exit (nothing measured here daemonizes) and the servers' own
// CPU (Materialize, S3): the warehouse's work is the same for the action and the recipe.
import { readFileSync } from 'node:fs'

/**
 * /proc reports CPU in clock ticks of USER_HZ, which the kernel fixes at 100 per second for
 * userspace on every mainstream architecture (x86, arm64), whatever its internal HZ.
 */
const USER_HZ = 100

export interface ProcessCpu {
  /** The process itself (utime + stime), seconds. */
  self: number
  /** Its waited-for descendants (cutime + cstime), seconds. */
  children: number
}

/** CPU seconds from a /proc/<pid>/stat line; the command name may hold spaces and parentheses. */
export function parseProcStat(stat: string): ProcessCpu {
  // Fields after "pid (comm) ": state is field 3, so field n is at index n - 3.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const seconds = (...indexes: number[]): number =>
    indexes.reduce((sum, index) => sum + Number(fields[index]), 0) / USER_HZ
  return { self: seconds(11, 12), children: seconds(13, 14) }
}

/** CPU seconds of this process's waited-for descendants so far. */
export function childrenCpuSeconds(): number {
  return parseProcStat(readFileSync('/proc/self/stat', 'utf8')).children
}

// Child processes (dbt, git) run with argument arrays and no shell, their output streamed to
// the log. Each child leads its own process group, so stopping it reaches everything it
// started; running children are tracked so a cancelled run can stop them and wait for them.
import { spawn, type ChildProcess } from 'node:child_process'

export interface ProcessResult {
  exitCode: number
  /** Stopped because it ran past timeoutMs. */
  timedOut?: boolean
  /** The last lines the process printed, for error messages. */
  tail: string
  /** Everything it printed on stdout, when `keepStdout` asked for it. */
  stdout?: string
}

export interface ProcessOptions {
  cwd: string
  env: Record<string, string>
  /** Stream the output to our stdout (the step log). */
  echo?: boolean
  /** Stop the process (and what it started) after this long. */
  timeoutMs?: number
  /** Keep all of stdout (an answer longer than the tail, e.g. `dbt ls`). */
  keepStdout?: boolean
}

/** One step of stopping a child: a signal to its process group, then a wait for its exit. */
export interface StopStep {
  /** null: only wait, e.g. for a child that exits by itself once its input closes. */
  signal: NodeJS.Signals | null
  waitMs: number
}

/**
 * SIGINT first: dbt takes it as Ctrl-C and cancels its open warehouse queries, which a
 * terminated dbt leaves running. Then SIGTERM and SIGKILL for a group that does not listen.
 * At most 5 s in all, so that cancel.ts can still undo and exit before the runner's SIGTERM.
 */
export const STOP_SCHEDULE: readonly StopStep[] = [
  { signal: 'SIGINT', waitMs: 3500 },
  { signal: 'SIGTERM', waitMs: 1000 },
  { signal: 'SIGKILL', waitMs: 500 }
]

/** A running child's process group, as stopping it needs it. */
export interface ProcessGroup {
  /** Sends a signal to every process in the group. */
  signal(signal: NodeJS.Signals): void
  /** Resolves once the child has exited and every holder of its output has closed it. */
  readonly closed: Promise<void>
}

/** Resolves after ms without keeping the process alive. */
export type Wait = (ms: number) => Promise<void>

const waitUnref: Wait = (ms) =>
  new Promise((resolve) => {
    setTimeout(resolve, ms).unref()
  })

const TAIL_LINES = 30
const running = new Set<ProcessGroup>()
let stopping = false

/** Calls back once per complete line of a stream that arrives in chunks. */
export class LineSplitter {
  /** The line begun but not yet ended. */
  partial = ''

  constructor(private readonly onLine: (line: string) => void) {}

  push(chunk: string): void {
    const parts = (this.partial + chunk).split('\n')
    this.partial = parts.pop() ?? ''
    parts.forEach((line) => this.onLine(line))
  }

  /** Ends the stream: a last line without a newline is a line too. */
  flush(): void {
    if (this.partial !== '') this.onLine(this.partial)
    this.partial = ''
  }
}

export class Tail {
  private lines: string[] = []
  private readonly splitter = new LineSplitter((line) => this.lines.push(line))

  push(chunk: string): void {
    this.splitter.push(chunk)
    if (this.lines.length > TAIL_LINES * 2) this.lines = this.lines.slice(-TAIL_LINES)
  }

  text(): string {
    return [...this.lines, this.splitter.partial]
      .filter((l) => l !== '')
      .slice(-TAIL_LINES)
      .join('\n')
  }
}

function processGroup(child: ChildProcess): ProcessGroup {
  return {
    signal(signal) {
      if (child.pid === undefined) return
      try {
        process.kill(-child.pid, signal)
      } catch {
        // Every process of the group has exited already.
      }
    },
    closed: new Promise((resolve) => {
      child.once('close', () => resolve())
      child.once('error', () => resolve())
    })
  }
}

/** Signals the group step by step until it has closed, or the schedule is over. */
export async function stopGroup(
  group: ProcessGroup,
  schedule: readonly StopStep[] = STOP_SCHEDULE,
  wait: Wait = waitUnref
): Promise<void> {
  const closed = group.closed.then(() => true)
  for (const step of schedule) {
    if (step.signal) group.signal(step.signal)
    if (await Promise.race([closed, wait(step.waitMs).then(() => false)])) return
  }
}

/** A child in its own process group, tracked so that a cancelled run stops it. */
export interface StartedChild {
  child: ChildProcess
  group: ProcessGroup
}

/** Starts `command` (no shell) as the leader of its own group; refused once the run is stopping. */
export function startChild(
  command: string,
  args: string[],
  options: Pick<ProcessOptions, 'cwd' | 'env'> & { stdin?: 'ignore' | 'pipe' }
): StartedChild {
  if (stopping) throw new Error(`Not starting ${command}: the run is stopping.`)
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env,
    detached: true, // its own process group: a stop reaches whatever it started
    stdio: [options.stdin ?? 'ignore', 'pipe', 'pipe']
  })
  const group = processGroup(child)
  running.add(group)
  void group.closed.then(() => running.delete(group))
  return { child, group }
}

export async function runProcess(
  command: string,
  args: string[],
  options: ProcessOptions
): Promise<ProcessResult> {
  const { child, group } = startChild(command, args, options)
  if (options.echo !== false) process.stdout.write(`[command]${command} ${args.join(' ')}\n`)
  return new Promise((resolve, reject) => {
    const tail = new Tail()
    const collect = (chunk: Buffer): void => {
      if (options.echo !== false) process.stdout.write(chunk)
      tail.push(chunk.toString('utf8'))
    }
    const stdout: string[] = []
    child.stdout?.on('data', (chunk: Buffer) => {
      if (options.keepStdout) stdout.push(chunk.toString('utf8'))
      collect(chunk)
    })
    child.stderr?.on('data', collect)
    child.once('error', reject)
    let timedOut = false
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true
            void stopGroup(group)
          }, options.timeoutMs)
    child.once('close', (code, signal) => {
      clearTimeout(timer)
      const kept = options.keepStdout ? { stdout: stdout.join('') } : {}
      resolve({ exitCode: exitCodeOf(code, signal), tail: tail.text(), timedOut, ...kept })
    })
  })
}

/** A child's exit code as a shell reports it; 128 for a signal. */
export function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  return code ?? (signal ? 128 : 1)
}

/** Stops every running child and starts no more, e.g. when the job is cancelled. */
export async function stopRunningProcesses(): Promise<void> {
  stopping = true
  await Promise.all([...running].map((group) => stopGroup(group)))
}

// Child processes (dbt, git) run with argument arrays and no shell, their output streamed to
// the log. Running children are tracked so a cancelled run can stop them at once.
import { spawn, type ChildProcess } from 'node:child_process'

export interface ProcessResult {
  exitCode: number
  /** Killed because it ran past timeoutMs. */
  timedOut?: boolean
  /** The last lines the process printed, for error messages. */
  tail: string
}

export interface ProcessOptions {
  cwd: string
  env: Record<string, string>
  /** Stream the output to our stdout (the step log). */
  echo?: boolean
  /** Kill the process after this long. */
  timeoutMs?: number
}

const TAIL_LINES = 30
const running = new Set<ChildProcess>()

class Tail {
  private lines: string[] = []
  private partial = ''

  push(chunk: string): void {
    const parts = (this.partial + chunk).split('\n')
    this.partial = parts.pop() ?? ''
    this.lines.push(...parts)
    if (this.lines.length > TAIL_LINES * 2) this.lines = this.lines.slice(-TAIL_LINES)
  }

  text(): string {
    return [...this.lines, this.partial]
      .filter((l) => l !== '')
      .slice(-TAIL_LINES)
      .join('\n')
  }
}

export function runProcess(
  command: string,
  args: string[],
  options: ProcessOptions
): Promise<ProcessResult> {
  if (options.echo !== false) process.stdout.write(`[command]${command} ${args.join(' ')}\n`)
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe']
    })
    running.add(child)
    const tail = new Tail()
    const collect = (chunk: Buffer): void => {
      if (options.echo !== false) process.stdout.write(chunk)
      tail.push(chunk.toString('utf8'))
    }
    child.stdout.on('data', collect)
    child.stderr.on('data', collect)
    child.once('error', (error) => {
      running.delete(child)
      reject(error)
    })
    let timedOut = false
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true
            child.kill('SIGTERM')
          }, options.timeoutMs)
    child.once('close', (code, signal) => {
      running.delete(child)
      clearTimeout(timer)
      resolve({ exitCode: code ?? (signal ? 128 : 1), tail: tail.text(), timedOut })
    })
  })
}

/** Stops every running child, e.g. when the job is cancelled. */
export function stopRunningProcesses(): void {
  for (const child of running) child.kill('SIGTERM')
}

// One long-lived dbt process for a run's invocations with the same vars: Python imports dbt
// once, and dbt parses the project once, through its programmatic entry point (dbtRunner,
// https://docs.getdbt.com/reference/programmatic-invocations). Each invocation then reuses the
// parsed manifest, which dbt documents for this use. A cancelled run stops the process like any
// other child; a crash or a timeout ends it, and the next invocation starts a new one.
import { randomBytes } from 'node:crypto'
import type { Socket } from 'node:net'
import {
  exitCodeOf,
  LineSplitter,
  startChild,
  stopGroup,
  STOP_SCHEDULE,
  Tail,
  type StartedChild,
  type StopStep
} from '../util/process.js'
import type { DbtInvocation, DbtRunOptions } from './cli.js'

/**
 * Reads one request per line: {"args": [...], "parse": [...] | null}. With "parse", the
 * invocation runs on the manifest those arguments parse, kept for the next such request;
 * without, it parses by itself, and a kept manifest is dropped unless it was `dbt parse`,
 * whose result replaces it. After each invocation: the marker and {"exit": code}, code as the
 * dbt command line gives it (0 ok, 1 failed, 2 error). Ctrl-C ends the process with 130.
 */
const WORKER_SOURCE = `import json, sys
from dbt.cli.main import dbtRunner

def exit_code(result):
    if result.success:
        return 0
    return 2 if result.exception is not None else 1

def invoke(args, manifest=None):
    sys.argv = ["dbt", *args]  # dbt records it as the invocation command in its artifacts
    return dbtRunner(manifest=manifest).invoke(args)

def serve(marker):
    manifest = None
    for line in sys.stdin:
        request = json.loads(line)
        result = None
        if request["parse"] is not None and manifest is None:
            parsed = invoke(request["parse"])
            if parsed.success:
                manifest = parsed.result
            else:
                result = parsed
        if result is None:
            reuse = request["parse"] is not None
            result = invoke(request["args"], manifest if reuse else None)
            if request["args"][0] == "parse":
                manifest = result.result if result.success else None
            elif not reuse:
                manifest = None
        sys.stdout.flush()
        sys.stderr.flush()
        print(marker + json.dumps({"exit": exit_code(result)}), flush=True)
        if isinstance(result.exception, KeyboardInterrupt):
            sys.exit(130)

try:
    serve(sys.argv.pop())
except KeyboardInterrupt:
    sys.exit(130)
`

export interface WorkerRequest {
  /** The whole command line after `dbt`, e.g. ['run', '--project-dir', …]. */
  args: string[]
  /** The `dbt parse` arguments whose manifest the invocation may reuse; null: parse anew. */
  parse: string[] | null
}

/** After its input closes, the worker exits by itself; one that does not is stopped. */
const CLOSE_SCHEDULE: readonly StopStep[] = [{ signal: null, waitMs: 10_000 }, ...STOP_SCHEDULE]

type Worker = StartedChild & { marker: string; pending?: Pending }

interface Pending {
  options: DbtRunOptions
  tail: Tail
  stdout: string[]
  timedOut: boolean
  resolve(result: DbtInvocation): void
}

export class DbtWorker {
  private process?: Worker
  /** Invocations run one at a time, in the order asked. */
  private queue: Promise<unknown> = Promise.resolve()
  private closed = false

  constructor(
    /** dbt's Python interpreter, e.g. ['/venv/bin/python3'] (see pythonShebang). */
    private readonly python: string[],
    private readonly shownAs: string,
    private readonly cwd: string,
    private readonly env: Record<string, string>
  ) {}

  invoke(request: WorkerRequest, options: DbtRunOptions = {}): Promise<DbtInvocation> {
    const next = this.queue.then(() => this.invokeNow(request, options))
    this.queue = next.catch(() => undefined)
    return next
  }

  /**
   * Starts the process and parses now, quietly, ahead of the first invocation, which waits for
   * it. A failed parse shows when that invocation parses again; close() awaits it.
   */
  prepare(parse: string[]): void {
    this.queue = this.queue
      .then(() => this.invokeNow({ args: parse, parse: null }, { quiet: true }))
      .catch(() => undefined)
  }

  /**
   * Ends the process: its input closes and it exits. Every invocation asked for has been
   * awaited by then, but a prepare() the run did not need, which is stopped.
   */
  async close(): Promise<void> {
    this.closed = true
    const current = this.process
    this.process = undefined
    if (current) {
      keepAlive(current, true) // the action waits for the exit, not only for the input to close
      current.child.stdin?.end()
      await stopGroup(current.group, current.pending ? STOP_SCHEDULE : CLOSE_SCHEDULE)
    }
    await this.queue
  }

  private invokeNow(request: WorkerRequest, options: DbtRunOptions): Promise<DbtInvocation> {
    if (this.closed) throw new Error('dbt was closed before this invocation could start.')
    const worker = (this.process ??= this.start())
    if (!options.quiet) process.stdout.write(`[command]${this.shownAs} ${request.args.join(' ')}\n`)
    return new Promise((resolve) => {
      const pending: Pending = { options, tail: new Tail(), stdout: [], timedOut: false, resolve }
      worker.pending = pending
      const timer =
        options.timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              pending.timedOut = true
              this.retire(worker)
              void stopGroup(worker.group)
            }, options.timeoutMs)
      pending.resolve = (result) => {
        clearTimeout(timer)
        worker.pending = undefined
        keepAlive(worker, false)
        resolve(result)
      }
      keepAlive(worker, true)
      worker.child.stdin?.write(`${JSON.stringify(request)}\n`)
    })
  }

  private start(): Worker {
    const marker = `dbt-worker-${randomBytes(12).toString('hex')} `
    const started = startChild(
      this.python[0]!,
      [...this.python.slice(1), '-u', '-c', WORKER_SOURCE, marker],
      { cwd: this.cwd, env: this.env, stdin: 'pipe' }
    )
    const worker: Worker = { ...started, marker }
    keepAlive(worker, false)
    const { child } = started
    // The marker must be matched on whole lines.
    const lines = new LineSplitter((line) => this.onLine(worker, line))
    child.stdout?.on('data', (chunk: Buffer) => lines.push(chunk.toString('utf8')))
    child.stderr?.on('data', (chunk: Buffer) => this.echo(worker, chunk.toString('utf8'), false))
    child.stdin?.on('error', () => undefined) // a worker that died is reported by 'close'
    const ended = (exitCode: number): void => {
      lines.flush()
      this.retire(worker)
      if (worker.pending) finish(worker.pending, exitCode)
    }
    child.once('close', (code, signal) => ended(exitCodeOf(code, signal)))
    child.once('error', (error) => {
      worker.pending?.tail.push(`${error.message}\n`)
      ended(127)
    })
    return worker
  }

  /** The next invocation starts a new process: this one is stopping or gone. */
  private retire(worker: Worker): void {
    if (this.process === worker) this.process = undefined
  }

  private onLine(worker: Worker, line: string): void {
    const pending = worker.pending
    if (pending && line.startsWith(worker.marker)) {
      const { exit } = JSON.parse(line.slice(worker.marker.length)) as { exit: number }
      finish(pending, exit)
      return
    }
    this.echo(worker, `${line}\n`, true)
  }

  private echo(worker: Worker, text: string, isStdout: boolean): void {
    const pending = worker.pending
    if (!pending?.options.quiet) process.stdout.write(text)
    pending?.tail.push(text)
    if (isStdout && pending?.options.keepStdout) pending.stdout.push(text)
  }
}

function finish(pending: Pending, exitCode: number): void {
  pending.resolve({
    exitCode,
    tail: pending.tail.text(),
    timedOut: pending.timedOut,
    ...(pending.options.keepStdout ? { stdout: pending.stdout.join('') } : {})
  })
}

/**
 * An invocation in flight keeps the action alive; an idle worker does not, so a run that ends
 * without close() still exits, and the worker's input closes with it.
 */
function keepAlive({ child }: StartedChild, on: boolean): void {
  const handles = [
    child,
    ...[child.stdin, child.stdout, child.stderr].map((s) => s as Socket | null)
  ]
  for (const handle of handles) {
    if (on) handle?.ref()
    else handle?.unref()
  }
}

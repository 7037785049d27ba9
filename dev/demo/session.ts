// One demo session: where it writes, how it prints, and running one action step the way a
// workflow job would (main, then post with the saved state), with failures made readable.
import path from 'node:path'
import { runAction, runPost, type ActionRun, type GitHubEvent } from '../runner.js'
import { renderMarkdown } from './markdown.js'
import type { Services } from './services.js'
import { actionLogPrinter, formatActionLog, type Palette } from './terminal.js'
import type { GitWorkspace } from './workspace.js'

export interface Session {
  root: string
  services: Services
  workspace: GitWorkspace
  p: Palette
  write: (text: string) => void
  /** Run directories by step title, for the closing "where are the outputs" list. */
  runs: Array<{ title: string; dir: string }>
  /** Aborted when the demo is interrupted: the action in flight is killed. */
  abort: AbortSignal
}

/** A step that failed, with what the reader needs to see why. */
export class StepFailure extends Error {
  constructor(
    readonly step: string,
    message: string,
    readonly details: string[] = []
  ) {
    super(message)
  }
}

export interface ActionStep {
  title: string
  /** Directory name under `<root>/runs`. */
  slug: string
  event: GitHubEvent
  inputs: Record<string, string>
  /** Stream the action's log as it runs (otherwise only the outcome is shown). */
  live: boolean
}

const tail = (text: string, lines: number): string[] =>
  text.trimEnd().split('\n').slice(-lines).filter(Boolean)

function failureOf(step: ActionStep, run: ActionRun, what: string, p: Palette): StepFailure {
  const reason = run.timedOut ? 'timed out' : `exited with ${run.exitCode ?? run.signal}`
  const errors = run.annotations.filter((a) => a.level === 'error').map((a) => a.message)
  return new StepFailure(step.title, `${what} ${reason}`, [
    ...errors.map((e) => `error: ${e}`),
    ...(step.live
      ? []
      : ['--- last lines of the log ---', ...formatActionLog(tail(run.stdout, 40), p)]),
    ...(run.stderr.trim() ? ['--- stderr ---', ...tail(run.stderr, 30)] : [])
  ])
}

/** Runs dist/index.js, then dist/post.js, like one `uses:` step of a job. */
export async function runActionStep(session: Session, step: ActionStep): Promise<ActionRun> {
  const { services, workspace, p } = session
  const runDir = path.join(session.root, 'runs', step.slug)
  session.runs.push({ title: step.title, dir: runDir })
  const printer = actionLogPrinter(session.write, p)
  const main = await runAction({
    workspace: workspace.dir,
    event: step.event,
    inputs: step.inputs,
    env: services.env,
    apiUrl: services.github.url,
    runDir,
    timeoutMs: 600_000,
    onLine: step.live ? printer : undefined,
    abort: session.abort
  })
  if (main.exitCode !== 0) throw failureOf(step, main, 'dist/index.js', p)
  const post = await runPost(main)
  if (post.exitCode !== 0) throw failureOf(step, post, 'dist/post.js (post step)', p)
  session.write(
    p.dim(
      `  main ${(main.durationMs / 1000).toFixed(1)} s, post ${(post.durationMs / 1000).toFixed(1)} s\n`
    )
  )
  return main
}

/** Prints Markdown rendered for the terminal, indented under a label. */
export function printMarkdown(session: Session, label: string, markdown: string): void {
  const { p } = session
  session.write(`\n${p.bold(p.cyan(label))}\n\n`)
  const rendered = renderMarkdown(markdown, p.markdown)
  session.write(`${rendered.replace(/^/gm, '  ')}\n`)
}

export function printOutputs(session: Session, run: ActionRun, names: string[]): void {
  const { p } = session
  const shown = names.filter((name) => run.outputs[name] !== undefined)
  const width = Math.max(...shown.map((name) => name.length))
  session.write(`\n${p.bold(p.cyan('Step outputs'))}\n`)
  for (const name of shown) {
    const value = run.outputs[name]!
    const short = value.length > 100 ? `${value.slice(0, 97)}...` : value
    session.write(`  ${p.dim(name.padEnd(width))}  ${short}\n`)
  }
}

/** The sticky PR comment as the GitHub stub holds it now. */
export function printPrComment(session: Session, issueNumber: number): void {
  const comments = session.services.github.comments().filter((c) => c.issueNumber === issueNumber)
  const comment = comments[comments.length - 1]
  if (!comment) {
    session.write(session.p.yellow(`  (no comment on PR #${issueNumber})\n`))
    return
  }
  const edited = comment.updatedAt !== comment.createdAt ? ', edited in place' : ''
  printMarkdown(
    session,
    `PR #${issueNumber} comment by ${comment.user.login} (${comments.length} comment${comments.length === 1 ? '' : 's'} on the PR${edited})`,
    comment.body
  )
}

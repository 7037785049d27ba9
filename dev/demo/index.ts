// `npm run demo`: the bundled action end to end on an embedded sample project, against local
// stand-ins (PostgreSQL + the Materialize emulator, moto S3, a GitHub API stub). Exits 0 when
// every step did what it should, 1 otherwise, 130 when interrupted (Ctrl-C, SIGTERM); all
// servers are stopped either way and the temp directory is removed unless --keep is given.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { abortOnSignals, INTERRUPTED_EXIT_CODE } from '../interrupt.js'
import { startServices, type Services } from './services.js'
import { StepFailure, type Session } from './session.js'
import { closePullRequest, createProduction, mergeToMain, pullRequest } from './story.js'
import { paletteFor, type Palette } from './terminal.js'
import { GitWorkspace } from './workspace.js'

const projectTemplate = path.join(path.dirname(fileURLToPath(import.meta.url)), 'project')

interface Options {
  keep: boolean
}

function parseArgs(argv: string[]): Options {
  const unknown = argv.filter((arg) => arg !== '--keep')
  if (unknown.length > 0) {
    process.stderr.write(
      `Unknown argument(s): ${unknown.join(' ')}\nUsage: npm run demo [-- --keep]\n`
    )
    process.exit(2)
  }
  return { keep: argv.includes('--keep') }
}

const write = (text: string): void => {
  process.stdout.write(text)
}

function describeServices(services: Services, p: Palette): string {
  const line = (name: string, where: string): string =>
    `${p.dim('•')} ${name.padEnd(22)} ${where}\n`
  return (
    line('PostgreSQL', `127.0.0.1:${services.postgres.port}`) +
    line('Materialize emulator', `127.0.0.1:${services.emulator.port}`) +
    line('S3 (moto)', `${services.moto.endpoint}, bucket ${services.bucket}`) +
    line('GitHub API stub', services.github.url)
  )
}

function printWhereOutputsAre(session: Session, keep: boolean): void {
  const { p } = session
  write(
    `\n${p.bold('Outputs')} ${p.dim(keep ? '(kept)' : '(removed on exit; rerun with --keep to keep them)')}\n`
  )
  write(`  ${p.dim('workspace (git repo)'.padEnd(34))} ${session.workspace.dir}\n`)
  for (const run of session.runs) {
    write(`  ${p.dim(run.title.padEnd(34))} ${run.dir}\n`)
  }
  write(
    p.dim(
      '  each run dir: step_summary.md, github_output, github_state, event.json; post/ for the post step\n'
    )
  )
}

function printFailure(error: unknown, p: Palette): void {
  if (error instanceof StepFailure) {
    write(`\n${p.red(p.bold(`✖ Demo failed at "${error.step}": ${error.message}`))}\n`)
    for (const line of error.details) write(`  ${line}\n`)
  } else {
    const text = error instanceof Error ? (error.stack ?? error.message) : String(error)
    write(`\n${p.red(p.bold('✖ Demo failed:'))} ${text}\n`)
  }
}

async function runStory(session: Session): Promise<void> {
  await createProduction(session)
  await pullRequest(session)
  // Merging fires both events. The PR environment goes first: it reads production through
  // defer, so after the swap it would pin the previous production, and the impact guard would
  // (rightly) refuse to drop it.
  await closePullRequest(session)
  await mergeToMain(session)
}

async function main(): Promise<number> {
  const options = parseArgs(process.argv.slice(2))
  const p = paletteFor(process.stdout)
  const started = Date.now()
  const root = mkdtempSync(path.join(tmpdir(), 'dbt-mz-demo-'))
  let services: Services | undefined
  // Ctrl-C or SIGTERM: the action in flight is killed, then everything is stopped.
  const abort = abortOnSignals((signal) =>
    write(`\n${p.yellow(`Interrupted (${signal}); stopping servers…`)}\n`)
  )
  let session: Session | undefined
  try {
    write(
      `${p.bold('dbt-materialize-deploy demo')} ${p.dim(`(temp dir ${root})`)}\n\nStarting services…\n`
    )
    services = await startServices()
    abort.throwIfAborted()
    write(describeServices(services, p))
    const workspace = GitWorkspace.create(path.join(root, 'workspace'), projectTemplate)
    session = { root, services, workspace, p, write, runs: [], abort }
    await runStory(session)
    printWhereOutputsAre(session, options.keep)
    const seconds = ((Date.now() - started) / 1000).toFixed(1)
    write(
      `\n${p.green(p.bold(`✔ Demo finished in ${seconds} s: all three events did what they should.`))}\n`
    )
    return 0
  } catch (error) {
    if (abort.aborted) return INTERRUPTED_EXIT_CODE
    printFailure(error, p)
    if (session) printWhereOutputsAre(session, options.keep)
    return 1
  } finally {
    await services?.stop()
    if (!options.keep) rmSync(root, { recursive: true, force: true, maxRetries: 5 })
  }
}

process.exitCode = await main()

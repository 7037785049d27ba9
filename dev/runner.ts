// Runs the bundled action the way the GitHub runner does: Node 24 on dist/index.js or
// dist/post.js, INPUT_* for every input (action.yml defaults filled in), the runner's file
// commands (GITHUB_OUTPUT, GITHUB_STATE, GITHUB_ENV, GITHUB_STEP_SUMMARY) in a run directory,
// a real-shaped event payload file, and a clean environment. Output can be watched line by
// line while the action runs. The dev tools (demo, bench) use it as is; the e2e suite's
// __tests__/e2e/support/runner.ts only adds its defaults on top.
import { spawn } from 'node:child_process'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import yaml from 'js-yaml'

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
export const venvBin = path.join(repoRoot, '.venv', 'bin')
/** The runner's `node24`: the `node` devDependency, not whatever node runs this tool. */
export const node24 = path.join(repoRoot, 'node_modules', '.bin', 'node')
export const distDir = path.join(repoRoot, 'dist')
export const actionYml = path.join(repoRoot, 'action.yml')

export const REPOSITORY = { owner: 'acme', name: 'analytics' }
const SENDER = { login: 'octocat', id: 583231, type: 'User' }
const ZERO_SHA = '0'.repeat(40)

export interface GitHubEvent {
  name: string
  payload: Record<string, unknown>
  /** GITHUB_SHA for events whose payload names no commit (workflow_dispatch). */
  sha?: string
}

export type Stream = 'stdout' | 'stderr'

export interface RunOptions {
  /** The git workspace: GITHUB_WORKSPACE and the process's cwd. */
  workspace: string
  event: GitHubEvent
  /** Input values by name, as in a workflow's `with:`; unset inputs get action.yml defaults. */
  inputs?: Record<string, string>
  /** Extra environment (credentials, profile variables), merged last. */
  env?: Record<string, string>
  /** GITHUB_API_URL, e.g. the GitHub stub's url. */
  apiUrl?: string
  /** What the runner substitutes for `${{ github.token }}` in input defaults. */
  defaultToken?: string
  /** Which bundle: the main step (default) or the post step. */
  entry?: 'main' | 'post'
  /** The directory holding the bundles; default dist/. */
  distDir?: string
  /** Saved state handed back as STATE_<name> (post step). */
  state?: Record<string, string>
  /** Where the runner's files go; default a new temp dir. It is left in place. */
  runDir?: string
  /** SIGKILL the action's process group after this many ms (default 10 min). */
  timeoutMs?: number
  /**
   * Send this signal to the action, like a cancelled job, once an output line matches `onLine`
   * (the first such line): cancelled at a known point rather than after a delay.
   */
  signal?: { name: NodeJS.Signals; onLine: RegExp }
  /** Ends the action's process group at once when aborted: the tool running it is stopping. */
  abort?: AbortSignal
  /** Node flags before the bundle, e.g. `--import` of a measuring preload. */
  nodeArgs?: string[]
  /** Called for each complete output line as it arrives; `atMs` is Date.now(). */
  onLine?: (line: string, stream: Stream, atMs: number) => void
}

export interface Annotation {
  level: 'error' | 'warning' | 'notice'
  message: string
  file?: string
  line?: string
  title?: string
  properties: Record<string, string>
}

export interface RunnerFiles {
  dir: string
  output: string
  summary: string
  state: string
  env: string
  event: string
  temp: string
  home: string
}

export interface ActionRun {
  /** The bundle that ran. */
  bundle: string
  exitCode: number | null
  signal: NodeJS.Signals | null
  timedOut: boolean
  stdout: string
  stderr: string
  outputs: Record<string, string>
  summary: string
  state: Record<string, string>
  /** What the action exported through GITHUB_ENV. */
  exportedEnv: Record<string, string>
  annotations: Annotation[]
  masks: string[]
  /** Epoch ms of the spawn, and of the first output line (undefined when silent). */
  startedAt: number
  firstLineAt?: number
  durationMs: number
  pid?: number
  files: RunnerFiles
  env: Record<string, string>
  /** The options as the caller gave them (runPost starts from these). */
  options: RunOptions
}

// --- event payloads --------------------------------------------------------------------------

function repositoryPayload() {
  const { owner, name } = REPOSITORY
  return {
    id: 561238812,
    node_id: 'R_kgDOIXPXHA',
    name,
    full_name: `${owner}/${name}`,
    private: true,
    owner: { login: owner, id: 98114230, type: 'Organization' },
    html_url: `https://github.com/${owner}/${name}`,
    default_branch: 'main'
  }
}

export interface PullRequestEventOptions {
  number: number
  action: 'opened' | 'synchronize' | 'closed' | 'reopened'
  headSha: string
  baseSha?: string
  headRef?: string
  baseRef?: string
  title?: string
  merged?: boolean
}

export function pullRequestEvent(options: PullRequestEventOptions): GitHubEvent {
  const repository = repositoryPayload()
  const closed = options.action === 'closed'
  const headRef = options.headRef ?? `feature/pr-${options.number}`
  const baseRef = options.baseRef ?? 'main'
  const pullRequest = {
    url: `https://api.github.com/repos/${repository.full_name}/pulls/${options.number}`,
    id: 1_500_000_000 + options.number,
    number: options.number,
    state: closed ? 'closed' : 'open',
    title: options.title ?? `Change #${options.number}`,
    user: SENDER,
    html_url: `https://github.com/${repository.full_name}/pull/${options.number}`,
    merged: closed && (options.merged ?? false),
    draft: false,
    head: {
      label: `${REPOSITORY.owner}:${headRef}`,
      ref: headRef,
      sha: options.headSha,
      repo: repository
    },
    base: {
      label: `${REPOSITORY.owner}:${baseRef}`,
      ref: baseRef,
      sha: options.baseSha ?? ZERO_SHA,
      repo: repository
    }
  }
  return {
    name: 'pull_request',
    payload: {
      action: options.action,
      number: options.number,
      pull_request: pullRequest,
      repository,
      organization: { login: REPOSITORY.owner },
      sender: SENDER
    }
  }
}

export interface PushEventOptions {
  sha: string
  before?: string
  ref?: string
}

export function pushEvent(options: PushEventOptions): GitHubEvent {
  const repository = repositoryPayload()
  return {
    name: 'push',
    payload: {
      ref: options.ref ?? 'refs/heads/main',
      before: options.before ?? ZERO_SHA,
      after: options.sha,
      created: false,
      deleted: false,
      forced: false,
      compare: `https://github.com/${repository.full_name}/compare/${options.sha.slice(0, 12)}`,
      head_commit: { id: options.sha, message: 'push', timestamp: new Date().toISOString() },
      repository,
      pusher: { name: SENDER.login },
      sender: SENDER
    }
  }
}

export interface WorkflowDispatchEventOptions {
  /** The head of the branch the workflow runs on: what the runner checks out and sets GITHUB_SHA to. */
  sha: string
  inputs: Record<string, string>
  ref?: string
}

/** A `workflow_dispatch` (a person runs the workflow by hand); its payload names no commit. */
export function workflowDispatchEvent(options: WorkflowDispatchEventOptions): GitHubEvent {
  return {
    name: 'workflow_dispatch',
    sha: options.sha,
    payload: {
      inputs: options.inputs,
      ref: options.ref ?? 'refs/heads/main',
      repository: repositoryPayload(),
      organization: { login: REPOSITORY.owner },
      sender: SENDER,
      workflow: '.github/workflows/dbt-blue-green.yml'
    }
  }
}

/** GITHUB_REF, GITHUB_SHA, GITHUB_HEAD_REF and GITHUB_BASE_REF as the runner derives them. */
export function eventRefs(event: GitHubEvent): Record<string, string> {
  const payload = event.payload as {
    ref?: string
    after?: string
    number?: number
    pull_request?: { head: { sha: string; ref: string }; base: { ref: string } }
  }
  const pr = payload.pull_request
  // On pull requests the workspace has the head commit checked out, so that is GITHUB_SHA.
  const ref = pr ? `refs/pull/${payload.number}/merge` : (payload.ref ?? 'refs/heads/main')
  return {
    GITHUB_REF: ref,
    GITHUB_REF_NAME: ref.replace(/^refs\/(heads|tags)\//, ''),
    GITHUB_SHA: pr ? pr.head.sha : (payload.after ?? event.sha ?? ZERO_SHA),
    GITHUB_HEAD_REF: pr?.head.ref ?? '',
    GITHUB_BASE_REF: pr?.base.ref ?? ''
  }
}

// --- environment -----------------------------------------------------------------------------

/** A step's bundle in a dist directory (default dist/). */
export function bundlePath(entry: RunOptions['entry'] = 'main', dir = distDir): string {
  return path.join(dir, entry === 'post' ? 'post.js' : 'index.js')
}

/** Input name → env name, exactly as @actions/core's getInput looks it up. */
export function inputEnvName(name: string): string {
  return `INPUT_${name.replace(/ /g, '_').toUpperCase()}`
}

/** action.yml input defaults, with `${{ github.token }}` replaced by `token`. */
export function inputDefaults(actionYmlText: string, token: string): Record<string, string> {
  // Every scalar as text, as the runner passes input defaults.
  const spec = yaml.load(actionYmlText, { schema: yaml.FAILSAFE_SCHEMA }) as {
    inputs?: Record<string, { default?: string }>
  }
  const defaults: Record<string, string> = {}
  for (const [name, input] of Object.entries(spec.inputs ?? {})) {
    const value = input.default ?? ''
    defaults[name] = value.replace(/\$\{\{\s*github\.token\s*\}\}/g, token)
  }
  return defaults
}

export function createRunnerFiles(dir?: string): RunnerFiles {
  const root = dir ?? mkdtempSync(path.join(tmpdir(), 'action-run-'))
  mkdirSync(root, { recursive: true })
  const files: RunnerFiles = {
    dir: root,
    output: path.join(root, 'github_output'),
    summary: path.join(root, 'step_summary.md'),
    state: path.join(root, 'github_state'),
    env: path.join(root, 'github_env'),
    event: path.join(root, 'event.json'),
    temp: path.join(root, 'runner_temp'),
    home: path.join(root, 'home')
  }
  for (const file of [files.output, files.summary, files.state, files.env]) writeFileSync(file, '')
  mkdirSync(files.temp, { recursive: true })
  mkdirSync(files.home, { recursive: true })
  return files
}

let emptyApi: Promise<string> | undefined

/**
 * A GitHub API that answers 404 at once to everything, for runs without a stub: an address
 * where nothing listens would make Octokit's retries wait 14 s per call.
 */
export function emptyGitHubApi(): Promise<string> {
  emptyApi ??= new Promise((resolve) => {
    const server = createServer((_request, response) => {
      response.writeHead(404, { 'content-type': 'application/json' })
      response.end('{"message":"Not Found (no GitHub API in this run)"}')
    })
    server.listen(0, '127.0.0.1', () => {
      server.unref() // never keeps a test process alive
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)
    })
  })
  return emptyApi
}

function runnerEnvironment(
  options: RunOptions,
  files: RunnerFiles,
  apiUrl: string
): Record<string, string> {
  return {
    PATH: `${venvBin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
    HOME: files.home,
    LANG: 'C.UTF-8',
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    GITHUB_WORKSPACE: options.workspace,
    GITHUB_EVENT_NAME: options.event.name,
    GITHUB_EVENT_PATH: files.event,
    ...eventRefs(options.event),
    GITHUB_REPOSITORY: `${REPOSITORY.owner}/${REPOSITORY.name}`,
    GITHUB_REPOSITORY_OWNER: REPOSITORY.owner,
    GITHUB_ACTOR: SENDER.login,
    GITHUB_WORKFLOW: 'dbt',
    GITHUB_JOB: 'deploy',
    GITHUB_ACTION: '__dbt-materialize-deploy',
    GITHUB_RUN_ID: String(9_000_000_000 + Math.floor(Math.random() * 1_000_000)),
    GITHUB_RUN_NUMBER: '1',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_API_URL: apiUrl,
    GITHUB_GRAPHQL_URL: `${apiUrl}/graphql`,
    GITHUB_OUTPUT: files.output,
    GITHUB_STEP_SUMMARY: files.summary,
    GITHUB_STATE: files.state,
    GITHUB_ENV: files.env,
    RUNNER_OS: 'Linux',
    RUNNER_ARCH: 'X64',
    RUNNER_NAME: 'local-runner',
    RUNNER_TEMP: files.temp,
    RUNNER_TOOL_CACHE: path.join(files.temp, 'tool-cache'),
    DBT_SEND_ANONYMOUS_USAGE_STATS: 'false'
  }
}

/** The complete environment of one action process. */
export function buildEnv(
  options: RunOptions,
  files: RunnerFiles,
  apiUrl: string
): Record<string, string> {
  const env = runnerEnvironment(options, files, apiUrl)
  const token = options.defaultToken ?? 'ghs_localDefaultInstallationToken000'
  const inputs = { ...inputDefaults(readFileSync(actionYml, 'utf8'), token), ...options.inputs }
  for (const [name, value] of Object.entries(inputs)) env[inputEnvName(name)] = value
  for (const [name, value] of Object.entries(options.state ?? {})) env[`STATE_${name}`] = value
  return { ...env, ...options.env }
}

// --- parsing file commands and workflow commands ---------------------------------------------

/** Parses GITHUB_OUTPUT / GITHUB_STATE / GITHUB_ENV: `name=value` and `name<<DELIM` blocks. */
export function parseFileCommands(text: string): Record<string, string> {
  const result: Record<string, string> = {}
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, '')
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line)
    if (heredoc) {
      const [, name, delimiter] = heredoc
      const end = lines.findIndex((l, at) => at > i && l.replace(/\r$/, '') === delimiter)
      if (end < 0) throw new Error(`unterminated ${name}<<${delimiter} block in a file command`)
      result[name!] = lines.slice(i + 1, end).join('\n')
      i = end
    } else if (line.includes('=')) {
      const at = line.indexOf('=')
      result[line.slice(0, at)] = line.slice(at + 1)
    } else if (line.trim()) {
      throw new Error(`malformed file command line: ${line}`)
    }
  }
  return result
}

export function unescapeData(value: string): string {
  return value.replace(/%0D/gi, '\r').replace(/%0A/gi, '\n').replace(/%25/g, '%')
}

function unescapeProperty(value: string): string {
  return unescapeData(value).replace(/%3A/gi, ':').replace(/%2C/gi, ',')
}

/** A workflow command line: `::name key=value,…::message`. */
export interface WorkflowCommand {
  name: string
  properties: Record<string, string>
  message: string
}

export function parseWorkflowCommand(line: string): WorkflowCommand | undefined {
  const match = /^::([a-z-]+)(?: ([^:]*))?::(.*)$/.exec(line.replace(/\r$/, ''))
  if (!match) return undefined
  const properties: Record<string, string> = {}
  for (const pair of (match[2] ?? '').split(',').filter(Boolean)) {
    const at = pair.indexOf('=')
    if (at > 0) properties[pair.slice(0, at)] = unescapeProperty(pair.slice(at + 1))
  }
  return { name: match[1]!, properties, message: unescapeData(match[3]!) }
}

const ANNOTATION_LEVELS = new Set(['error', 'warning', 'notice'])

/** `::error file=…,line=…,title=…::message` (and warning/notice) lines from stdout. */
export function parseAnnotations(stdout: string): Annotation[] {
  return stdout
    .split('\n')
    .map(parseWorkflowCommand)
    .filter((c): c is WorkflowCommand => c !== undefined && ANNOTATION_LEVELS.has(c.name))
    .map((c) => ({
      level: c.name as Annotation['level'],
      message: c.message,
      file: c.properties.file,
      line: c.properties.line,
      title: c.properties.title,
      properties: c.properties
    }))
}

export function parseMasks(stdout: string): string[] {
  return stdout
    .split('\n')
    .map(parseWorkflowCommand)
    .filter((c): c is WorkflowCommand => c?.name === 'add-mask')
    .map((c) => c.message)
}

// --- running ---------------------------------------------------------------------------------

/** Splits a chunked stream into lines, calling `emit` for each complete one. */
export function lineSplitter(emit: (line: string) => void): {
  push(chunk: string): void
  end(): void
} {
  let pending = ''
  return {
    push(chunk) {
      const parts = (pending + chunk).split('\n')
      pending = parts.pop()!
      for (const part of parts) emit(part.replace(/\r$/, ''))
    },
    end() {
      if (pending) emit(pending)
      pending = ''
    }
  }
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return
  try {
    process.kill(-pid, signal)
  } catch {
    // Already gone.
  }
}

/** A process's descendants, found through /proc as the runner's process-tree kill finds them. */
function descendantsOf(root: number): number[] {
  const childrenOf = new Map<number, number[]>()
  for (const entry of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      childrenOf.set(parent, [...(childrenOf.get(parent) ?? []), Number(entry)])
    } catch {
      // Exited meanwhile.
    }
  }
  const tree = [root]
  for (let at = 0; at < tree.length; at++) tree.push(...(childrenOf.get(tree[at]!) ?? []))
  return tree.slice(1)
}

/** SIGKILLs the action and all it started, its own process groups too (dbt leads one). */
function killTree(pid: number | undefined): void {
  if (pid === undefined) return
  for (const descendant of descendantsOf(pid)) {
    killGroup(descendant, 'SIGKILL')
    try {
      process.kill(descendant, 'SIGKILL')
    } catch {
      // Already gone.
    }
  }
  killGroup(pid, 'SIGKILL')
}

interface Exit {
  exitCode: number | null
  signal: NodeJS.Signals | null
  timedOut: boolean
  stdout: string
  stderr: string
  firstLineAt?: number
  pid?: number
}

/** Collects one output stream, reporting lines as they complete. */
function collect(
  stream: NodeJS.ReadableStream,
  name: Stream,
  onLine: (line: string, stream: Stream) => void
): { text(): string; flush(): void } {
  const chunks: string[] = []
  const lines = lineSplitter((line) => onLine(line, name))
  stream.setEncoding('utf8')
  stream.on('data', (chunk: string) => {
    chunks.push(chunk)
    lines.push(chunk)
  })
  return { text: () => chunks.join(''), flush: () => lines.end() }
}

function spawnAction(
  bundle: string,
  options: RunOptions,
  env: Record<string, string>
): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(node24, [...(options.nodeArgs ?? []), bundle], {
      cwd: options.workspace,
      env,
      detached: true, // its own process group, so that its leftovers can be ended with it
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let firstLineAt: number | undefined
    const cancel = options.signal
    let cancelled = false
    const onLine = (line: string, stream: Stream): void => {
      const at = Date.now()
      firstLineAt ??= at
      if (cancel && !cancelled && cancel.onLine.test(line)) {
        cancelled = true
        child.kill(cancel.name)
      }
      options.onLine?.(line, stream, at)
    }
    const stdout = collect(child.stdout, 'stdout', onLine)
    const stderr = collect(child.stderr, 'stderr', onLine)
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      killTree(child.pid)
    }, options.timeoutMs ?? 600_000)
    // A crashed or stopping tool must not leave the action (and its dbt) running.
    const onExit = (): void => killTree(child.pid)
    process.once('exit', onExit)
    options.abort?.addEventListener('abort', onExit)
    child.once('error', reject)
    // A child the action left running in its group would hold the pipes open: end it at exit.
    child.once('exit', () => killGroup(child.pid, 'SIGKILL'))
    child.once('close', (exitCode, signal) => {
      clearTimeout(timer)
      process.off('exit', onExit)
      options.abort?.removeEventListener('abort', onExit)
      stdout.flush()
      stderr.flush()
      resolve({
        exitCode,
        signal,
        timedOut,
        stdout: stdout.text(),
        stderr: stderr.text(),
        firstLineAt,
        pid: child.pid
      })
    })
  })
}

/** Runs the main (or post) step of the bundled action and returns what the runner saw. */
export async function runAction(options: RunOptions): Promise<ActionRun> {
  options.abort?.throwIfAborted()
  const files = createRunnerFiles(options.runDir)
  writeFileSync(files.event, JSON.stringify(options.event.payload, null, 2))
  const env = buildEnv(options, files, options.apiUrl ?? (await emptyGitHubApi()))
  const bundle = bundlePath(options.entry, options.distDir)
  const startedAt = Date.now()
  const exit = await spawnAction(bundle, options, env)
  return {
    bundle,
    ...exit,
    outputs: parseFileCommands(readFileSync(files.output, 'utf8')),
    summary: readFileSync(files.summary, 'utf8'),
    state: parseFileCommands(readFileSync(files.state, 'utf8')),
    exportedEnv: parseFileCommands(readFileSync(files.env, 'utf8')),
    annotations: parseAnnotations(exit.stdout),
    masks: parseMasks(exit.stdout),
    startedAt,
    durationMs: Date.now() - startedAt,
    files,
    env,
    options
  }
}

/**
 * The post step after `main` as the runner runs it: same inputs, event and environment, its
 * saved state as STATE_*, its own run directory (`<main dir>/post` unless given).
 */
export function postOptions(main: ActionRun, overrides: Partial<RunOptions> = {}): RunOptions {
  return {
    ...main.options,
    runDir: path.join(main.files.dir, 'post'),
    signal: undefined, // the main step's cancellation is not the post step's
    ...overrides,
    entry: 'post',
    state: main.state
  }
}

/** Runs dist/post.js after `main` like the runner does (see postOptions). */
export function runPost(main: ActionRun, overrides: Partial<RunOptions> = {}): Promise<ActionRun> {
  return runAction(postOptions(main, overrides))
}

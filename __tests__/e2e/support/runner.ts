// Runs the bundled action the way the GitHub runner does: Node 24 on dist/index.js (or
// dist/post.js) with INPUT_* variables for every input (action.yml defaults filled in), the
// runner's file commands in a temp dir, a real-shaped event payload and a clean environment.
import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import yaml from 'js-yaml'
import {
  CANARY_PASSWORD,
  actionYml,
  bundle as bundleFile,
  node24,
  tempRoot,
  venvBin
} from './paths.js'

/** A hung action must not outlive its test. */
const DEFAULT_TIMEOUT_MS = 150_000

export const REPOSITORY = { owner: 'acme', name: 'analytics' }
/** What the runner substitutes for `${{ github.token }}` in input defaults. */
export const DEFAULT_TOKEN = 'ghs_e2eDefaultInstallationToken0000'

export interface GitHubEvent {
  name: string
  payload: Record<string, unknown>
}

export interface ActionOptions {
  /** The git workspace (GITHUB_WORKSPACE and the process's cwd). */
  workspace: string
  event: GitHubEvent
  /** Input values by name, as in a workflow's `with:`; unset inputs get action.yml defaults. */
  inputs?: Record<string, string>
  /** Extra environment, merged last. */
  env?: Record<string, string>
  /** GITHUB_API_URL, e.g. the GitHub stub's url. */
  apiUrl?: string
  /** SIGKILL the action's process group after this many ms (default 150 s). */
  timeoutMs?: number
  /** Send this signal to the action after a delay, like a cancelled job. */
  signal?: { name: NodeJS.Signals; afterMs: number }
  /** Which bundle: the main step (default) or the post step. */
  entry?: 'main' | 'post'
  /** Saved state handed back as STATE_<name> (post step). */
  state?: Record<string, string>
}

export interface Annotation {
  level: 'error' | 'warning' | 'notice'
  message: string
  file?: string
  line?: string
  title?: string
  properties: Record<string, string>
}

export interface ActionRun {
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
  /** The environment the action ran with. */
  env: Record<string, string>
  annotations: Annotation[]
  masks: string[]
  durationMs: number
  options: ActionOptions
}

interface RunnerFiles {
  dir: string
  output: string
  summary: string
  state: string
  env: string
  event: string
  temp: string
  home: string
}

// --- event payloads --------------------------------------------------------------------------

function repositoryPayload(): Record<string, unknown> {
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

const SENDER = { login: 'octocat', id: 583231, type: 'User' }

export interface PullRequestEventOptions {
  number: number
  action: 'opened' | 'synchronize' | 'closed' | 'reopened'
  headSha: string
  baseRef?: string
  baseSha?: string
  headRef?: string
  merged?: boolean
}

export function pullRequestEvent(options: PullRequestEventOptions): GitHubEvent {
  const repository = repositoryPayload()
  const closed = options.action === 'closed'
  const headRef = options.headRef ?? `feature/pr-${options.number}`
  const pullRequest = {
    url: `https://api.github.com/repos/${repository.full_name}/pulls/${options.number}`,
    id: 1_500_000_000 + options.number,
    number: options.number,
    state: closed ? 'closed' : 'open',
    title: `Change #${options.number}`,
    user: SENDER,
    html_url: `https://github.com/${repository.full_name}/pull/${options.number}`,
    merged: closed ? (options.merged ?? false) : false,
    draft: false,
    head: { label: `acme:${headRef}`, ref: headRef, sha: options.headSha, repo: repository },
    base: {
      label: `acme:${options.baseRef ?? 'main'}`,
      ref: options.baseRef ?? 'main',
      sha: options.baseSha ?? '0'.repeat(40),
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
  ref?: string
  sha: string
  before?: string
}

export function pushEvent(options: PushEventOptions): GitHubEvent {
  const repository = repositoryPayload()
  const ref = options.ref ?? 'refs/heads/main'
  return {
    name: 'push',
    payload: {
      ref,
      before: options.before ?? '0'.repeat(40),
      after: options.sha,
      created: false,
      deleted: false,
      forced: false,
      compare: `https://github.com/${repository.full_name}/compare/${options.sha.slice(0, 12)}`,
      head_commit: { id: options.sha, message: 'e2e commit', timestamp: new Date().toISOString() },
      repository,
      pusher: { name: SENDER.login },
      sender: SENDER
    }
  }
}

/** GITHUB_REF / GITHUB_SHA as the runner derives them from the event. */
function refAndSha(event: GitHubEvent): {
  ref: string
  sha: string
  headRef?: string
  baseRef?: string
} {
  const payload = event.payload as {
    ref?: string
    after?: string
    number?: number
    pull_request?: { head: { sha: string; ref: string }; base: { ref: string } }
  }
  if (payload.pull_request) {
    // The runner checks out the head commit in our workspace, so GITHUB_SHA is the head sha.
    return {
      ref: `refs/pull/${payload.number}/merge`,
      sha: payload.pull_request.head.sha,
      headRef: payload.pull_request.head.ref,
      baseRef: payload.pull_request.base.ref
    }
  }
  return { ref: payload.ref ?? 'refs/heads/main', sha: payload.after ?? '0'.repeat(40) }
}

// --- environment -----------------------------------------------------------------------------

/** Input name → env name, exactly as @actions/core's getInput looks it up. */
export function inputEnvName(name: string): string {
  return `INPUT_${name.replace(/ /g, '_').toUpperCase()}`
}

let cachedDefaults: Record<string, string> | undefined

/** action.yml defaults, with `${{ github.token }}` evaluated like the runner does. */
export function inputDefaults(): Record<string, string> {
  if (cachedDefaults) return cachedDefaults
  const spec = yaml.load(readFileSync(actionYml, 'utf8')) as {
    inputs?: Record<string, { default?: unknown }>
  }
  cachedDefaults = {}
  for (const [name, input] of Object.entries(spec.inputs ?? {})) {
    const value = input.default === undefined ? '' : String(input.default)
    cachedDefaults[name] = value.replace(/\$\{\{\s*github\.token\s*\}\}/g, DEFAULT_TOKEN)
  }
  return cachedDefaults
}

/**
 * The PostgreSQL and Materialize coordinates global-setup published, as the fixture profile
 * reads them. Passwords travel as DBT_ENV_SECRET_* so that dbt, and the action, treat them
 * as secrets.
 */
export function profileEnv(): Record<string, string> {
  return {
    E2E_PG_HOST: process.env.E2E_PG_HOST ?? '127.0.0.1',
    E2E_PG_PORT: process.env.E2E_PG_PORT ?? '5432',
    DBT_ENV_SECRET_PG_PASSWORD: process.env.E2E_PG_PASSWORD ?? CANARY_PASSWORD,
    E2E_MZ_HOST: process.env.E2E_MZ_HOST ?? '127.0.0.1',
    E2E_MZ_PORT: process.env.E2E_MZ_PORT ?? '6875',
    E2E_MZ_USER: process.env.E2E_MZ_USER ?? 'materialize',
    E2E_MZ_DATABASE: process.env.E2E_MZ_DATABASE ?? 'materialize',
    DBT_ENV_SECRET_MZ_PASSWORD: process.env.E2E_MZ_PASSWORD ?? ''
  }
}

/** Runner dirs outlive the run (paths in outputs stay readable); global teardown removes them. */
function newRunDir(): string {
  return mkdtempSync(path.join(tempRoot(), 'e2e-run-'))
}

function createRunnerFiles(): RunnerFiles {
  const dir = newRunDir()
  const files: RunnerFiles = {
    dir,
    output: path.join(dir, 'github_output'),
    summary: path.join(dir, 'step_summary.md'),
    state: path.join(dir, 'github_state'),
    env: path.join(dir, 'github_env'),
    event: path.join(dir, 'event.json'),
    temp: path.join(dir, 'runner_temp'),
    home: path.join(dir, 'home')
  }
  for (const file of [files.output, files.summary, files.state, files.env]) writeFileSync(file, '')
  mkdirSync(files.temp)
  mkdirSync(files.home)
  return files
}

function buildEnv(options: ActionOptions, files: RunnerFiles): Record<string, string> {
  const { ref, sha, headRef, baseRef } = refAndSha(options.event)
  const env: Record<string, string> = {
    PATH: `${venvBin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
    HOME: files.home,
    LANG: 'C.UTF-8',
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    GITHUB_WORKSPACE: options.workspace,
    GITHUB_EVENT_NAME: options.event.name,
    GITHUB_EVENT_PATH: files.event,
    GITHUB_REF: ref,
    GITHUB_REF_NAME: ref.replace(/^refs\/(heads|tags)\//, ''),
    GITHUB_SHA: sha,
    GITHUB_HEAD_REF: headRef ?? '',
    GITHUB_BASE_REF: baseRef ?? '',
    GITHUB_REPOSITORY: `${REPOSITORY.owner}/${REPOSITORY.name}`,
    GITHUB_REPOSITORY_OWNER: REPOSITORY.owner,
    GITHUB_ACTOR: SENDER.login,
    GITHUB_WORKFLOW: 'dbt',
    GITHUB_JOB: 'deploy',
    GITHUB_ACTION: '__dbt-materialize-deploy',
    GITHUB_RUN_ID: String(9_000_000_000 + Math.floor(Math.random() * 1_000_000)),
    GITHUB_RUN_NUMBER: '42',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_API_URL: options.apiUrl ?? 'http://127.0.0.1:9',
    GITHUB_GRAPHQL_URL: `${options.apiUrl ?? 'http://127.0.0.1:9'}/graphql`,
    GITHUB_OUTPUT: files.output,
    GITHUB_STEP_SUMMARY: files.summary,
    GITHUB_STATE: files.state,
    GITHUB_ENV: files.env,
    RUNNER_OS: 'Linux',
    RUNNER_ARCH: 'X64',
    RUNNER_NAME: 'e2e-runner',
    RUNNER_TEMP: files.temp,
    RUNNER_TOOL_CACHE: path.join(files.temp, 'tool-cache'),
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_REGION: 'us-east-1',
    AWS_EC2_METADATA_DISABLED: 'true',
    DBT_SEND_ANONYMOUS_USAGE_STATS: 'false',
    ...profileEnv()
  }
  const inputs = { ...inputDefaults(), ...options.inputs }
  for (const [name, value] of Object.entries(inputs)) env[inputEnvName(name)] = value
  for (const [name, value] of Object.entries(options.state ?? {})) env[`STATE_${name}`] = value
  return { ...env, ...options.env }
}

// --- parsing the runner's files and workflow commands -----------------------------------------

/** Parses GITHUB_OUTPUT / GITHUB_STATE / GITHUB_ENV: `name=value` and `name<<DELIM` blocks. */
export function parseFileCommands(text: string): Record<string, string> {
  const result: Record<string, string> = {}
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line)
    if (heredoc) {
      const [, name, delimiter] = heredoc
      const end = lines.indexOf(delimiter!, i + 1)
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

function unescapeData(value: string): string {
  return value.replace(/%0D/gi, '\r').replace(/%0A/gi, '\n').replace(/%25/g, '%')
}

function unescapeProperty(value: string): string {
  return unescapeData(value).replace(/%3A/gi, ':').replace(/%2C/gi, ',')
}

/** `::error file=…,line=…,title=…::message` (and warning/notice) lines from stdout. */
export function parseAnnotations(stdout: string): Annotation[] {
  const annotations: Annotation[] = []
  for (const line of stdout.split(/\r?\n/)) {
    const match = /^::(error|warning|notice)(?: ([^:]*))?::(.*)$/.exec(line)
    if (!match) continue
    const properties: Record<string, string> = {}
    for (const pair of (match[2] ?? '').split(',').filter(Boolean)) {
      const at = pair.indexOf('=')
      if (at > 0) properties[pair.slice(0, at)] = unescapeProperty(pair.slice(at + 1))
    }
    annotations.push({
      level: match[1] as Annotation['level'],
      message: unescapeData(match[3]!),
      file: properties.file,
      line: properties.line,
      title: properties.title,
      properties
    })
  }
  return annotations
}

export function parseMasks(stdout: string): string[] {
  return stdout
    .split(/\r?\n/)
    .filter((line) => line.startsWith('::add-mask::'))
    .map((line) => unescapeData(line.slice('::add-mask::'.length)))
}

// --- running -----------------------------------------------------------------------------------

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return
  try {
    process.kill(-pid, signal)
  } catch {
    // Already gone.
  }
}

interface Exit {
  exitCode: number | null
  signal: NodeJS.Signals | null
  timedOut: boolean
  stdout: string
  stderr: string
}

function spawnAction(
  bundle: string,
  options: ActionOptions,
  env: Record<string, string>
): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(node24, [bundle], {
      cwd: options.workspace,
      env,
      detached: true, // own process group, so a timeout also ends dbt
      stdio: ['ignore', 'pipe', 'pipe']
    })
    const stdout: Buffer[] = []
    const stderr: Buffer[] = []
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk))
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk))
    let timedOut = false
    const timers: NodeJS.Timeout[] = [
      setTimeout(() => {
        timedOut = true
        killGroup(child.pid, 'SIGKILL')
      }, options.timeoutMs ?? DEFAULT_TIMEOUT_MS)
    ]
    if (options.signal) {
      const { name, afterMs } = options.signal
      timers.push(setTimeout(() => child.kill(name), afterMs))
    }
    child.once('error', reject)
    // A dbt the action left running would hold the pipes open: end the group at exit.
    child.once('exit', () => killGroup(child.pid, 'SIGKILL'))
    child.once('close', (exitCode, signal) => {
      timers.forEach(clearTimeout)
      resolve({
        exitCode,
        signal,
        timedOut,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8')
      })
    })
  })
}

export async function runAction(options: ActionOptions): Promise<ActionRun> {
  const files = createRunnerFiles()
  writeFileSync(files.event, JSON.stringify(options.event.payload, null, 2))
  const env = buildEnv(options, files)
  const bundle = bundleFile(options.entry ?? 'main')
  const started = Date.now()
  const exit = await spawnAction(bundle, options, env)
  if (process.env.E2E_VERBOSE) {
    // Debugging aid: E2E_VERBOSE=1 shows each run's transcript.
    process.stderr.write(`\n=== ${bundle} in ${options.workspace} (exit ${exit.exitCode})\n`)
    process.stderr.write(`${exit.stdout}\n--- stderr ---\n${exit.stderr}\n`)
  }
  return {
    ...exit,
    outputs: parseFileCommands(readFileSync(files.output, 'utf8')),
    summary: readFileSync(files.summary, 'utf8'),
    state: parseFileCommands(readFileSync(files.state, 'utf8')),
    exportedEnv: parseFileCommands(readFileSync(files.env, 'utf8')),
    env,
    annotations: parseAnnotations(exit.stdout),
    masks: parseMasks(exit.stdout),
    durationMs: Date.now() - started,
    options
  }
}

/** Runs dist/post.js after `main`, with its saved state as STATE_* like the runner does. */
export function runPost(
  main: ActionRun,
  overrides: Partial<ActionOptions> = {}
): Promise<ActionRun> {
  return runAction({ ...main.options, ...overrides, entry: 'post', state: main.state })
}

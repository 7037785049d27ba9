// The only module that reads action inputs. Everything is validated here, before anything
// touches S3, dbt or a database, and every error names the input and what it accepts.
import * as core from '@actions/core'
import { existsSync } from 'node:fs'
import path from 'node:path'
import yaml from 'js-yaml'
import { InputError, errorMessage } from './errors.js'
import { registerSecret } from './secrets.js'
import { bool, directoryInWorkspace, duration, integer, oneOf, text } from './input-fields.js'
import { splitArgs } from './util/args.js'
import type { DiffMode, DiffSettings } from './diff/model.js'

export const MODES = ['slim', 'blue-green'] as const
export type Mode = (typeof MODES)[number]
export const SLIM_PHASES = ['build', 'teardown'] as const
export type SlimPhase = (typeof SLIM_PHASES)[number]
export const BLUE_GREEN_PHASES = [
  'all',
  'deploy',
  'promote',
  'cleanup',
  'rollback',
  'status'
] as const
export type BlueGreenPhase = (typeof BLUE_GREEN_PHASES)[number]

export type UploadPolicy = 'auto' | 'true' | 'false'
export type StateErrorPolicy = 'fail' | 'full-build'

export interface StateLocation {
  uri: string
  bucket: string
  /** Key prefix without a trailing slash; '' for the bucket root. */
  prefix: string
}

export interface S3Settings {
  endpoint?: string
  region: string
  maxAttempts: number
  timeoutMs: number
}

export interface DbtSettings {
  executable: string
  projectDir: string
  profilesDir?: string
  target?: string
  vars: Record<string, unknown>
  extraArgs: string[]
  /** Restore and save dbt's partial parse state with the Actions cache. */
  cacheParse: boolean
}

export interface Selection {
  select?: string
  selector?: string
  /** Undefined when the input was left empty, so a default YAML selector may apply. */
  exclude?: string[]
}

export interface ReportSettings {
  githubToken?: string
  prComment: boolean
  /** Shown on the GitHub deployment, e.g. a link to the Materialize console. */
  environmentUrl?: string
}

export interface CommonInputs {
  workspace: string
  dbt: DbtSettings
  report: ReportSettings
  /** Explicit pull request environment name; the event supplies the default. */
  prEnvironment?: string
  diff: DiffSettings
}

export interface SlimBuildInputs extends CommonInputs {
  mode: 'slim'
  phase: 'build'
  state: StateLocation
  s3: S3Settings
  onStateError: StateErrorPolicy
  selection: Selection
  defer: boolean
  favorState: boolean
  skipUnchanged: boolean
  uploadManifest: UploadPolicy
  cachePackages: boolean
}

export interface SlimTeardownInputs extends CommonInputs {
  mode: 'slim'
  phase: 'teardown'
}

export interface BlueGreenSettings {
  awaitWith: 'action' | 'dbt'
  lagThresholdSeconds: number
  replicaGraceSeconds: number
  /** Bound on each statement of the action's own connection; a timed-out one reconnects. */
  statementTimeoutMs: number
  pollIntervalMs: number
  awaitTimeoutMs: number
  runTests: boolean
  force: boolean
  keepPrevious: boolean
  cleanupOnFailure: boolean
  lockTimeoutMs: number
  lockTtlMs: number
  swapRetries: number
  /** Overrides the profile's connection for the action's own queries. */
  materializeUrl?: string
  exclude: string[]
  /** Fully qualified names (`database.schema.name`) a drop of `*_dbt_deploy` may take along. */
  allowDependents: string[]
  /** Phase promote only: plan the cutover and change nothing. */
  dryRun: boolean
  /** The GitHub deployment environment; undefined: the dbt target. */
  environment?: string
  /** Phase promote only: refuse a commit whose hydration check did not succeed. */
  requireHydrationCheck: boolean
}

export interface BlueGreenInputs extends CommonInputs {
  mode: 'blue-green'
  phase: BlueGreenPhase
  state: StateLocation
  s3: S3Settings
  blueGreen: BlueGreenSettings
}

type PhaseOf<P extends BlueGreenPhase> = BlueGreenInputs & { phase: P }
export type BlueGreenPhaseInputs = { [P in BlueGreenPhase]: PhaseOf<P> }[BlueGreenPhase]

export type Inputs = SlimBuildInputs | SlimTeardownInputs | BlueGreenPhaseInputs

export const DEFAULT_EXCLUDE = ['config.materialized:source', 'config.materialized:sink']

/** Flags owned by an input of their own, so dbt-args may not set them. */
const FLAGS_WITH_INPUTS: Record<string, string> = {
  '--target': 'target',
  '-t': 'target',
  '--profiles-dir': 'profiles-dir',
  '--project-dir': 'project-dir',
  '--vars': 'vars',
  '--state': 'state-uri',
  '--select': 'select',
  '-s': 'select',
  '--models': 'select',
  '-m': 'select',
  '--selector': 'selector',
  '--exclude': 'exclude',
  '--defer': 'defer',
  '--favor-state': 'favor-state'
}

const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/
const ENVIRONMENT_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/

export function parseStateUri(value: string): StateLocation {
  const match = /^s3:\/\/([^/]+)(?:\/(.*))?$/.exec(value)
  const bucket = match?.[1] ?? ''
  if (!match || !BUCKET_NAME.test(bucket)) {
    throw new InputError(
      'state-uri',
      `is "${value}"; accepted: s3://<bucket>/<optional/prefix> with a valid bucket name (3-63 lowercase letters, digits, dots, hyphens).`
    )
  }
  const prefix = (match[2] ?? '').replace(/\/+$/, '')
  return { uri: `s3://${bucket}${prefix ? `/${prefix}` : ''}`, bucket, prefix }
}

function vars(): Record<string, unknown> {
  const value = text('vars')
  if (value === '') return {}
  let parsed: unknown
  try {
    // The core schema: a date such as 2024-01-01 stays the text dbt renders, not a Date that
    // JSON would turn into a timestamp.
    parsed = yaml.load(value, { schema: yaml.CORE_SCHEMA })
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error)
    throw new InputError(
      'vars',
      `is not valid YAML or JSON (${reason}); accepted: a mapping such as "{key: value}".`
    )
  }
  if (parsed === null || parsed === undefined) return {}
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new InputError(
      'vars',
      'must be a YAML or JSON mapping such as "{key: value}", not a list or a scalar.'
    )
  }
  return parsed as Record<string, unknown>
}

function dbtArgs(): string[] {
  let args: string[]
  try {
    args = splitArgs(text('dbt-args'))
  } catch (error) {
    throw new InputError('dbt-args', `cannot be split into arguments: ${errorMessage(error)}.`)
  }
  for (const arg of args) {
    const flag = arg.split('=')[0] ?? arg
    const owner = FLAGS_WITH_INPUTS[flag]
    if (owner)
      throw new InputError(
        'dbt-args',
        `must not contain ${flag}; use the "${owner}" input instead.`
      )
  }
  return args
}

function profilesDir(workspace: string): string | undefined {
  const value = text('profiles-dir')
  if (value === '') return undefined
  const dir = directoryInWorkspace('profiles-dir', value, workspace)
  if (!existsSync(path.join(dir, 'profiles.yml'))) {
    throw new InputError(
      'profiles-dir',
      `is "${value}", which holds no profiles.yml; accepted: a directory containing profiles.yml.`
    )
  }
  return dir
}

/** A name is looked up on PATH when dbt runs; a path is taken from the workspace, as documented. */
function dbtPath(workspace: string): string {
  const value = text('dbt-path') || 'dbt'
  return path.basename(value) === value ? value : path.resolve(workspace, value)
}

function dbtSettings(workspace: string): DbtSettings {
  const projectDir = directoryInWorkspace('project-dir', text('project-dir') || '.', workspace)
  if (!existsSync(path.join(projectDir, 'dbt_project.yml'))) {
    throw new InputError(
      'project-dir',
      `is "${text('project-dir') || '.'}", which holds no dbt_project.yml.`
    )
  }
  return {
    executable: dbtPath(workspace),
    projectDir,
    profilesDir: profilesDir(workspace),
    target: text('target') || undefined,
    vars: vars(),
    extraArgs: dbtArgs(),
    cacheParse: bool('cache-parse', true)
  }
}

function prEnvironment(): string | undefined {
  const value = text('pr-environment')
  if (value === '') return undefined
  if (!ENVIRONMENT_NAME.test(value)) {
    throw new InputError(
      'pr-environment',
      `is "${value}"; accepted: letters, digits and "_", starting with a letter or "_", at most 63 characters.`
    )
  }
  return value
}

/** `diff-keys`: model name to key column(s), as a YAML or JSON mapping. */
function diffKeys(): Record<string, string[]> {
  const value = text('diff-keys')
  const accepted =
    'accepted: a mapping of model names to a column or a list of columns, such as "{orders: order_id, lines: [order_id, line]}".'
  if (value === '') return {}
  let parsed: unknown
  try {
    parsed = yaml.load(value, { schema: yaml.CORE_SCHEMA })
  } catch {
    throw new InputError('diff-keys', `is not valid YAML or JSON; ${accepted}`)
  }
  const identifier = (c: unknown) => typeof c === 'string' && /^[A-Za-z_][A-Za-z0-9_$]*$/.test(c)
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new InputError('diff-keys', `is not a mapping; ${accepted}`)
  const keys: Record<string, string[]> = {}
  for (const [model, columns] of Object.entries(parsed)) {
    const list: unknown[] = Array.isArray(columns) ? columns : [columns]
    if (list.length === 0 || !list.every(identifier))
      throw new InputError('diff-keys', `gives "${model}" ${JSON.stringify(columns)}; ${accepted}`)
    keys[model] = list as string[]
  }
  return keys
}

function percent(name: string, fallback: number): number {
  const value = text(name)
  if (value === '') return fallback
  if (!/^\d+(\.\d+)?%?$/.test(value) || Number(value.replace('%', '')) > 100)
    throw new InputError(
      name,
      `is "${value}"; accepted: a percentage from 0 to 100 such as "10" or "2.5".`
    )
  return Number(value.replace('%', ''))
}

function diffSettings(): DiffSettings {
  return {
    mode: oneOf<DiffMode>('diff', ['off', 'report', 'gate'], 'off'),
    maxRowChangePercent: percent('diff-max-row-change', 10),
    allowSchemaChange: bool('diff-allow-schema-change', true),
    timeoutMs: duration('diff-timeout', '5m', 1000, 24 * 3_600_000),
    maxObjects: integer('diff-max-objects', 20, 1, 1000),
    cluster: text('diff-cluster') || undefined,
    keys: diffKeys(),
    downstream: bool('diff-downstream', false)
  }
}

function reportSettings(): ReportSettings {
  const githubToken = text('github-token') || undefined
  if (githubToken) registerSecret(githubToken)
  return {
    githubToken,
    prComment: bool('pr-comment', true),
    environmentUrl: httpUrl('environment-url')
  }
}

/** An optional http(s) URL input. */
function httpUrl(name: string): string | undefined {
  const value = text(name) || undefined
  if (value !== undefined && !/^https?:\/\/[^\s/]+\S*$/.test(value)) {
    throw new InputError(name, `is "${value}"; accepted: an http:// or https:// URL.`)
  }
  return value
}

function s3Settings(): S3Settings {
  return {
    endpoint: httpUrl('s3-endpoint'),
    region:
      text('aws-region') || process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || 'us-east-1',
    maxAttempts: integer('s3-max-attempts', 3, 1, 10),
    timeoutMs: integer('s3-timeout', 30, 1, 600) * 1000
  }
}

function selection(): Selection {
  const select = text('select') || undefined
  const selector = text('selector') || undefined
  if (select && selector) {
    throw new InputError('selector', 'cannot be combined with "select"; give one of them.')
  }
  const exclude = text('exclude')
  return {
    select,
    selector,
    exclude: exclude === '' ? undefined : exclude === 'none' ? [] : exclude.split(/\s+/)
  }
}

function slimBuild(common: CommonInputs): SlimBuildInputs {
  const defer = bool('defer', false)
  const favorState = bool('favor-state', false)
  if (favorState && !defer) {
    throw new InputError(
      'favor-state',
      'is "true", which needs "defer: true": --favor-state only changes how dbt defers. Set "defer" to "true", or drop "favor-state".'
    )
  }
  return {
    ...common,
    mode: 'slim',
    phase: 'build',
    state: stateLocation('slim'),
    s3: s3Settings(),
    onStateError: oneOf('on-state-error', ['fail', 'full-build'], 'fail'),
    selection: selection(),
    defer,
    favorState,
    skipUnchanged: bool('skip-unchanged', true),
    uploadManifest: oneOf('upload-manifest', ['auto', 'true', 'false'], 'auto'),
    cachePackages: bool('cache-packages', true)
  }
}

const ENCODING_HINT =
  'Percent-encode reserved characters in the user name and password, e.g. "%" as "%25", "/" as "%2F", "@" as "%40", "#" as "%23".'

/** Decodes a user name or password; the error never shows the value. */
function decodeUrlPart(part: string, what: string): string {
  try {
    return decodeURIComponent(part)
  } catch {
    throw new InputError(
      'materialize-url',
      `has a ${what} that is not percent-encoded. ${ENCODING_HINT}`
    )
  }
}

/** The `materialize-url` input alone (masked), for the post step's connection. */
export function materializeUrl(): string | undefined {
  const value = text('materialize-url')
  if (value === '') return undefined
  registerSecret(value)
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new InputError(
      'materialize-url',
      `is not a URL; accepted: postgres://user:password@host:port/database. ${ENCODING_HINT}`
    )
  }
  if (!['postgres:', 'postgresql:'].includes(url.protocol) || !url.hostname) {
    throw new InputError('materialize-url', 'must be postgres://user:password@host:port/database.')
  }
  decodeUrlPart(url.username, 'user name')
  if (url.password) registerSecret(decodeUrlPart(url.password, 'password'))
  return value
}

const QUALIFIED_NAME = /^[^.\s,"]+\.[^.\s,"]+\.[^.\s,"]+$/

function allowDependents(): string[] {
  const names = text('allow-dependents')
    .split(/[\s,]+/)
    .filter(Boolean)
  const bad = names.find((name) => !QUALIFIED_NAME.test(name))
  if (bad !== undefined) {
    throw new InputError(
      'allow-dependents',
      `has "${bad}"; accepted: fully qualified names database.schema.name, as the blocked drop's error prints them, separated by spaces or commas.`
    )
  }
  return names
}

function dryRun(phase: BlueGreenPhase): boolean {
  const value = bool('dry-run', false)
  if (value && phase !== 'promote') {
    throw new InputError(
      'dry-run',
      `is "true", which applies only to "phase: promote" (phase is "${phase}"); stage with "phase: deploy" first.`
    )
  }
  return value
}

function blueGreenSettings(phase: BlueGreenPhase): BlueGreenSettings {
  const exclude = selection().exclude
  return {
    awaitWith: oneOf('await', ['action', 'dbt'], 'action'),
    lagThresholdSeconds: duration('lag-threshold', '1s', 0, 3_600_000) / 1000,
    replicaGraceSeconds: duration('replica-grace', '2m', 0, 3_600_000) / 1000,
    statementTimeoutMs: duration('statement-timeout', '5m', 1000, 3_600_000),
    pollIntervalMs: duration('poll-interval', '1s', 100, 600_000),
    awaitTimeoutMs: duration('await-timeout', '30m', 1000, 24 * 3_600_000),
    runTests: bool('run-tests', true),
    force: bool('force', false),
    keepPrevious: bool('keep-previous', false),
    cleanupOnFailure: bool('cleanup-on-failure', true),
    lockTimeoutMs: duration('lock-timeout', '10m', 0, 24 * 3_600_000),
    lockTtlMs: duration('lock-ttl', '30m', 10_000, 24 * 3_600_000),
    swapRetries: integer('swap-retries', 3, 0, 10),
    materializeUrl: materializeUrl(),
    exclude: exclude ?? DEFAULT_EXCLUDE,
    allowDependents: allowDependents(),
    dryRun: dryRun(phase),
    environment: environmentName(),
    requireHydrationCheck: bool('require-hydration-check', false)
  }
}

/** GitHub's rule for environment names: at most 255 characters, no control characters. */
function environmentName(): string | undefined {
  const value = text('environment') || undefined
  // eslint-disable-next-line no-control-regex
  if (value !== undefined && (value.length > 255 || /[\u0000-\u001f]/.test(value))) {
    throw new InputError(
      'environment',
      'is not a GitHub environment name; accepted: up to 255 characters, no control characters.'
    )
  }
  return value
}

function stateLocation(mode: Mode): StateLocation {
  const stateUri = text('state-uri')
  if (stateUri === '') {
    throw new InputError(
      'state-uri',
      `is required in ${mode} mode; accepted: s3://<bucket>/<prefix>.`
    )
  }
  return parseStateUri(stateUri)
}

function blueGreen(common: CommonInputs): BlueGreenPhaseInputs {
  const phase = oneOf('phase', BLUE_GREEN_PHASES, 'all')
  return {
    ...common,
    mode: 'blue-green',
    phase,
    state: stateLocation('blue-green'),
    s3: s3Settings(),
    blueGreen: blueGreenSettings(phase)
  }
}

/**
 * Inputs only one mode reads, with their action.yml defaults (a unit test keeps them equal).
 * Set to anything else under the other mode, they would silently do nothing.
 */
export const MODE_ONLY_INPUTS: Record<Mode, Record<string, string>> = {
  slim: {
    'on-state-error': 'fail',
    select: '',
    selector: '',
    defer: 'false',
    'favor-state': 'false',
    'skip-unchanged': 'true',
    'upload-manifest': 'auto',
    'cache-packages': 'true'
  },
  'blue-green': {
    await: 'action',
    'lag-threshold': '1s',
    'replica-grace': '2m',
    'statement-timeout': '5m',
    'poll-interval': '1s',
    'await-timeout': '30m',
    'run-tests': 'true',
    force: 'false',
    'keep-previous': 'false',
    'cleanup-on-failure': 'true',
    'lock-timeout': '10m',
    'lock-ttl': '30m',
    'swap-retries': '3',
    'materialize-url': '',
    'allow-dependents': '',
    'dry-run': 'false',
    environment: '',
    'require-hydration-check': 'false'
  }
}

function warnInapplicable(mode: Mode): void {
  const other = MODES.find((m) => m !== mode)!
  for (const [name, fallback] of Object.entries(MODE_ONLY_INPUTS[other])) {
    const value = text(name)
    if (value !== '' && value.toLowerCase() !== fallback.toLowerCase()) {
      core.warning(
        `Input "${name}" applies only to mode "${other}"; it has no effect with mode "${mode}".`
      )
    }
  }
}

export function getInputs(): Inputs {
  const workspace = path.resolve(process.env.GITHUB_WORKSPACE || process.cwd())
  const mode = oneOf('mode', MODES, 'slim')
  const phase = mode === 'slim' ? oneOf('phase', SLIM_PHASES, 'build') : undefined
  const common: CommonInputs = {
    workspace,
    report: reportSettings(),
    diff: diffSettings(),
    prEnvironment: prEnvironment(),
    dbt: dbtSettings(workspace)
  }
  const inputs: Inputs =
    mode === 'blue-green'
      ? blueGreen(common)
      : phase === 'build'
        ? slimBuild(common)
        : { ...common, mode: 'slim', phase: 'teardown' }
  warnInapplicable(mode)
  return inputs
}

// The only module that reads action inputs. Everything is validated here, before anything
// touches S3, dbt or a database, and every error names the input and what it accepts.
import * as core from '@actions/core'
import { existsSync, statSync } from 'node:fs'
import path from 'node:path'
import yaml from 'js-yaml'
import { InputError } from './errors.js'
import { splitArgs } from './util/args.js'

export const MODES = ['slim'] as const
export type Mode = (typeof MODES)[number]
export const SLIM_PHASES = ['build', 'teardown'] as const
export type SlimPhase = (typeof SLIM_PHASES)[number]

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
}

export interface CommonInputs {
  workspace: string
  dbt: DbtSettings
  report: ReportSettings
  /** Explicit pull request environment name; the event supplies the default. */
  prEnvironment?: string
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

export type Inputs = SlimBuildInputs | SlimTeardownInputs

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

function text(name: string): string {
  return core.getInput(name).trim()
}

function oneOf<T extends string>(name: string, accepted: readonly T[], fallback: T): T {
  const value = text(name) || fallback
  if ((accepted as readonly string[]).includes(value)) return value as T
  throw new InputError(
    name,
    `is "${value}"; accepted: ${accepted.map((a) => `"${a}"`).join(', ')}.`
  )
}

function bool(name: string, fallback: boolean): boolean {
  const value = text(name)
  if (value === '') return fallback
  if (/^true$/i.test(value)) return true
  if (/^false$/i.test(value)) return false
  throw new InputError(name, `is "${value}"; accepted: "true" or "false".`)
}

function integer(name: string, fallback: number, min: number, max: number): number {
  const value = text(name)
  if (value === '') return fallback
  if (!/^-?\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new InputError(name, `is "${value}"; accepted: a whole number from ${min} to ${max}.`)
  }
  return Number(value)
}

function directoryInWorkspace(name: string, value: string, workspace: string): string {
  const resolved = path.resolve(workspace, value)
  const relative = path.relative(workspace, resolved)
  if (relative.startsWith('..') || path.isAbsolute(relative)) {
    throw new InputError(
      name,
      `is "${value}", which is outside the workspace; accepted: a directory inside ${workspace}.`
    )
  }
  if (!existsSync(resolved) || !statSync(resolved).isDirectory()) {
    throw new InputError(name, `is "${value}", which is not a directory in the workspace.`)
  }
  return resolved
}

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
    parsed = yaml.load(value)
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
    throw new InputError(
      'dbt-args',
      `cannot be split into arguments: ${error instanceof Error ? error.message : error}.`
    )
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

function dbtSettings(workspace: string): DbtSettings {
  const projectDir = directoryInWorkspace('project-dir', text('project-dir') || '.', workspace)
  if (!existsSync(path.join(projectDir, 'dbt_project.yml'))) {
    throw new InputError(
      'project-dir',
      `is "${text('project-dir') || '.'}", which holds no dbt_project.yml.`
    )
  }
  return {
    executable: text('dbt-path') || 'dbt',
    projectDir,
    profilesDir: profilesDir(workspace),
    target: text('target') || undefined,
    vars: vars(),
    extraArgs: dbtArgs()
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

function reportSettings(): ReportSettings {
  const githubToken = text('github-token') || undefined
  if (githubToken) core.setSecret(githubToken)
  return { githubToken, prComment: bool('pr-comment', true) }
}

function s3Settings(): S3Settings {
  const endpoint = text('s3-endpoint') || undefined
  if (endpoint !== undefined && !/^https?:\/\/[^\s/]+/.test(endpoint)) {
    throw new InputError('s3-endpoint', `is "${endpoint}"; accepted: an http:// or https:// URL.`)
  }
  return {
    endpoint,
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
  const stateUri = text('state-uri')
  if (stateUri === '')
    throw new InputError('state-uri', 'is required in slim mode; accepted: s3://<bucket>/<prefix>.')
  return {
    ...common,
    mode: 'slim',
    phase: 'build',
    state: parseStateUri(stateUri),
    s3: s3Settings(),
    onStateError: oneOf('on-state-error', ['fail', 'full-build'], 'fail'),
    selection: selection(),
    defer: bool('defer', false),
    favorState: bool('favor-state', false),
    skipUnchanged: bool('skip-unchanged', true),
    uploadManifest: oneOf('upload-manifest', ['auto', 'true', 'false'], 'auto'),
    cachePackages: bool('cache-packages', true)
  }
}

export function getInputs(): Inputs {
  const workspace = path.resolve(process.env.GITHUB_WORKSPACE || process.cwd())
  const mode = oneOf('mode', MODES, 'slim')
  const phase = oneOf('phase', SLIM_PHASES, 'build')
  const common: CommonInputs = {
    workspace,
    report: reportSettings(),
    prEnvironment: prEnvironment(),
    dbt: dbtSettings(workspace)
  }
  return phase === 'build' ? slimBuild(common) : { ...common, mode, phase }
}

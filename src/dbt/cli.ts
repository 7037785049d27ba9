// The dbt command line behind a small interface, so unit tests can fake it.
import * as io from '@actions/io'
import { accessSync, constants, statSync } from 'node:fs'
import path from 'node:path'
import { stripVTControlCharacters } from 'node:util'
import type { DbtSettings } from '../inputs.js'
import { InputError } from '../errors.js'
import { queryManifestSupport, type ManifestSupport } from './manifest-versions.js'
import { queryInstalledVersions, type InstalledVersions } from './known-versions.js'
import { runProcess, type ProcessResult } from '../util/process.js'
import { pythonShebang } from './ask.js'
import { DbtWorker } from './worker.js'

export type DbtInvocation = ProcessResult

export interface DbtRunOptions {
  timeoutMs?: number
  /** Keep all of stdout in the result, e.g. the nodes `dbt ls` lists. */
  keepStdout?: boolean
  /** Do not echo dbt's output, e.g. while another step's progress is being logged. */
  quiet?: boolean
}

export interface Dbt {
  readonly projectDir: string
  /** The resolved executable; fakes have none. */
  readonly executable?: string
  run(command: string, args: string[], options?: DbtRunOptions): Promise<DbtInvocation>
  /** The installed dbt-core and dbt-materialize releases; undefined when it cannot tell. */
  installedVersions?(): Promise<InstalledVersions | undefined>
  /** Parses ahead of the first invocation, where dbt keeps the result (a persistent dbt). */
  prepare?(): void
  /** Ends what the invocations keep running between them (a persistent dbt). */
  close?(): Promise<void>
}

export interface DbtCliOptions {
  /**
   * Run the invocations in one long-lived dbt process (worker.ts) that parses once, when the
   * executable is a Python script; else each invocation is a `dbt` process of its own.
   */
  persistent?: boolean
}

/** Commands that run on a parsed manifest, and so may reuse the one parsed before. */
const MANIFEST_COMMANDS = new Set([
  'build',
  'compile',
  'list',
  'ls',
  'run',
  'run-operation',
  'seed',
  'show',
  'snapshot',
  'test'
])

/** Flags that change what dbt parses, or what it merges into the manifest (deferral). */
const PARSE_FLAGS =
  /^--(vars|target|profile|project-dir|profiles-dir|target-path|(no-)?partial-parse|(no-)?defer|defer-state|state|favor-state|(no-)?static-parser|use-experimental-parser)(=|$)|^-t$/

/** Whether an invocation may run on the manifest parsed with the common arguments. */
export function reusesManifest(command: string, args: string[]): boolean {
  return MANIFEST_COMMANDS.has(command) && !args.some((arg) => PARSE_FLAGS.test(arg))
}

export class DbtCli implements Dbt {
  private readonly worker?: DbtWorker

  private constructor(
    readonly executable: string,
    private readonly settings: DbtSettings,
    private readonly env: Record<string, string>,
    private readonly options: DbtCliOptions,
    /** Relative to the project; undefined: the project's own target-path. */
    private readonly targetPath?: string
  ) {
    const python = options.persistent ? pythonShebang(executable) : undefined
    if (python) this.worker = new DbtWorker(python, executable, settings.projectDir, env)
  }

  get projectDir(): string {
    return this.settings.projectDir
  }

  /** Fails with an InputError naming "dbt-path" when dbt is not there. */
  static async create(
    settings: DbtSettings,
    env: Record<string, string>,
    options: DbtCliOptions = {}
  ): Promise<DbtCli> {
    return new DbtCli(await locate(settings.executable), settings, env, options)
  }

  /** The manifest schema versions this dbt reads; undefined when it cannot tell. */
  manifestSupport(): Promise<ManifestSupport | undefined> {
    return queryManifestSupport(this.executable, this.settings.projectDir, this.env)
  }

  installedVersions(): Promise<InstalledVersions | undefined> {
    return queryInstalledVersions(this.executable, this.settings.projectDir, this.env)
  }

  /**
   * The same dbt with different vars, e.g. `deploy: true` for the green environment. dbt parses
   * the whole project again whenever the vars differ from its last parse in a target path, so
   * other vars get their own target path, where their partial parse state stays valid. A
   * persistent dbt gets a process of its own, which keeps the manifest of these vars.
   */
  withVars(vars: Record<string, unknown>, targetPath: string): DbtCli {
    const settings = { ...this.settings, vars }
    return new DbtCli(this.executable, settings, this.env, this.options, targetPath)
  }

  async run(command: string, args: string[], options: DbtRunOptions = {}): Promise<DbtInvocation> {
    const common = this.commonArgs()
    const result = this.worker
      ? await this.worker.invoke(
          {
            args: [command, ...common, ...args],
            parse: reusesManifest(command, args) ? ['parse', ...common] : null
          },
          options
        )
      : await runProcess(this.executable, [command, ...common, ...args], {
          cwd: this.settings.projectDir,
          env: this.env,
          echo: !options.quiet,
          timeoutMs: options.timeoutMs,
          keepStdout: options.keepStdout
        })
    // The tail goes into error messages: no colour codes, even if dbt-args turns colours on.
    return { ...result, tail: stripVTControlCharacters(result.tail) }
  }

  prepare(): void {
    this.worker?.prepare(['parse', ...this.commonArgs()])
  }

  async close(): Promise<void> {
    await this.worker?.close()
  }

  private commonArgs(): string[] {
    const { projectDir, profilesDir, target, vars } = this.settings
    // Plain text for the log, the annotations and the summary; every dbt command accepts it.
    const args = ['--no-use-colors', '--project-dir', projectDir]
    if (profilesDir) args.push('--profiles-dir', profilesDir)
    if (target) args.push('--target', target)
    if (Object.keys(vars).length > 0) args.push('--vars', JSON.stringify(vars))
    if (this.targetPath) args.push('--target-path', this.targetPath)
    return args
  }
}

const INSTALL_HINT =
  'Install dbt-core and your adapter in an earlier step (for example "pip install dbt-materialize"), or point "dbt-path" at the executable (a relative path is taken from the workspace).'

function isExecutableFile(file: string): boolean {
  try {
    accessSync(file, constants.X_OK)
    return statSync(file).isFile()
  } catch {
    return false
  }
}

/** The dbt executable: a path (made absolute by the inputs) or a name on PATH. */
async function locate(executable: string): Promise<string> {
  if (path.isAbsolute(executable)) {
    if (isExecutableFile(executable)) return executable
    throw new InputError(
      'dbt-path',
      `resolves to "${executable}", which is not an executable file. ${INSTALL_HINT}`
    )
  }
  const found = await io.which(executable, false)
  if (!found)
    throw new InputError(
      'dbt-path',
      `is "${executable}", which was not found on PATH. ${INSTALL_HINT}`
    )
  return found
}

// The dbt command line behind a small interface, so unit tests can fake it.
import * as io from '@actions/io'
import { accessSync, constants } from 'node:fs'
import path from 'node:path'
import { stripVTControlCharacters } from 'node:util'
import type { DbtSettings } from '../inputs.js'
import { ActionError } from '../errors.js'
import { runProcess, type ProcessResult } from '../util/process.js'

export type DbtInvocation = ProcessResult

export interface Dbt {
  readonly projectDir: string
  run(command: string, args: string[], options?: { timeoutMs?: number }): Promise<DbtInvocation>
}

export class DbtCli implements Dbt {
  private constructor(
    private readonly executable: string,
    private readonly settings: DbtSettings,
    private readonly env: Record<string, string>
  ) {}

  get projectDir(): string {
    return this.settings.projectDir
  }

  static async create(settings: DbtSettings, env: Record<string, string>): Promise<DbtCli> {
    return new DbtCli(await locate(settings.executable, settings.projectDir), settings, env)
  }

  /** The same dbt with different vars, e.g. `deploy: true` for the green environment. */
  withVars(vars: Record<string, unknown>): DbtCli {
    return new DbtCli(this.executable, { ...this.settings, vars }, this.env)
  }

  async run(
    command: string,
    args: string[],
    options: { timeoutMs?: number } = {}
  ): Promise<DbtInvocation> {
    const result = await runProcess(this.executable, [command, ...this.commonArgs(), ...args], {
      cwd: this.settings.projectDir,
      env: this.env,
      timeoutMs: options.timeoutMs
    })
    // The tail goes into error messages: no colour codes, even if dbt-args turns colours on.
    return { ...result, tail: stripVTControlCharacters(result.tail) }
  }

  private commonArgs(): string[] {
    const { projectDir, profilesDir, target, vars } = this.settings
    // Plain text for the log, the annotations and the summary; every dbt command accepts it.
    const args = ['--no-use-colors', '--project-dir', projectDir]
    if (profilesDir) args.push('--profiles-dir', profilesDir)
    if (target) args.push('--target', target)
    if (Object.keys(vars).length > 0) args.push('--vars', JSON.stringify(vars))
    return args
  }
}

async function locate(executable: string, cwd: string): Promise<string> {
  const hint = `Install dbt-core and your adapter in an earlier step (for example "pip install dbt-materialize"), or point "dbt-path" at the executable.`
  if (executable.includes('/')) {
    const resolved = path.resolve(cwd, executable)
    try {
      accessSync(resolved, constants.X_OK)
      return resolved
    } catch {
      throw new ActionError(`dbt was not found at "${executable}" (input "dbt-path"). ${hint}`)
    }
  }
  const found = await io.which(executable, false)
  if (!found)
    throw new ActionError(
      `dbt was not found on PATH (input "dbt-path" is "${executable}"). ${hint}`
    )
  return found
}

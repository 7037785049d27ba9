// Runs the real dbt from the project virtualenv against an emulator, on a temp copy of the
// fixture project (so target/ and logs/ never land in the repository).
import { spawn } from 'node:child_process'
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Emulator, Login } from '../../../dev/emulator/index.js'

const here = path.dirname(fileURLToPath(import.meta.url))
const repoRoot = path.resolve(here, '..', '..', '..')
export const DBT = path.join(repoRoot, '.venv', 'bin', 'dbt')
const FIXTURES = path.join(here, '..', 'fixtures')

export interface DbtResult {
  code: number | null
  signal: NodeJS.Signals | null
  output: string
  elapsedMs: number
}

export interface DbtRunOptions {
  /** Called with the whole output so far whenever more arrives; `kill` ends dbt (SIGKILL). */
  watch?: (output: string, kill: () => void) => void
}

export interface DbtProject {
  dir: string
  run(args: string[], options?: DbtRunOptions): Promise<DbtResult>
  /** thread_id of each node in the last run's run_results.json. */
  threadIds(): string[]
  /** The SQL files of the last invocation under target/compiled. */
  compiledSql(): Array<{ path: string; sql: string }>
  remove(): void
}

function dbtEnv(emulator: Emulator, dir: string, login: Login): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    MZ_HOST: emulator.host,
    MZ_PORT: String(emulator.port),
    MZ_USER: login.user,
    MZ_PASSWORD: login.password,
    DBT_PROFILES_DIR: dir,
    DBT_SEND_ANONYMOUS_USAGE_STATS: 'false',
    DBT_USE_COLORS: 'false',
    DO_NOT_TRACK: '1'
  }
  delete env.CI_TAG // renders `COMMENT ON SCHEMA ""` upstream
  return env
}

function runDbt(dir: string, env: NodeJS.ProcessEnv, args: string[], options: DbtRunOptions) {
  const started = Date.now()
  return new Promise<DbtResult>((resolve, reject) => {
    const child = spawn(DBT, args, { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    const kill = (): void => void child.kill('SIGKILL')
    const more = (chunk: Buffer): void => {
      output += chunk.toString()
      options.watch?.(output, kill)
    }
    child.stdout.on('data', more)
    child.stderr.on('data', more)
    child.once('error', reject)
    child.once('close', (code, signal) => {
      resolve({ code, signal, output, elapsedMs: Date.now() - started })
    })
  })
}

export interface FixtureOptions {
  /** A directory of `fixtures/`; default `project`. */
  fixture?: string
  /** Who dbt connects as; default the emulator's superuser. */
  login?: Login
  /** More of dbt's environment, e.g. `MZ_SSLMODE` for the profile's sslmode (default prefer). */
  env?: NodeJS.ProcessEnv
}

/** A temp copy of a fixture project, its dbt pointed at `emulator`. */
export function copyFixtureProject(emulator: Emulator, options: FixtureOptions = {}): DbtProject {
  const dir = mkdtempSync(path.join(tmpdir(), 'mz-emulator-dbt-'))
  cpSync(path.join(FIXTURES, options.fixture ?? 'project'), dir, { recursive: true })
  const env = { ...dbtEnv(emulator, dir, options.login ?? emulator), ...options.env }
  return {
    dir,
    run: (args, options = {}) => runDbt(dir, env, args, options),
    threadIds() {
      const file = path.join(dir, 'target', 'run_results.json')
      const results = JSON.parse(readFileSync(file, 'utf8')) as {
        results: Array<{ thread_id: string }>
      }
      return results.results.map((r) => r.thread_id)
    },
    compiledSql() {
      const root = path.join(dir, 'target', 'compiled')
      return readdirSync(root, { recursive: true, encoding: 'utf8' })
        .filter((file) => file.endsWith('.sql'))
        .map((file) => ({ path: file, sql: readFileSync(path.join(root, file), 'utf8') }))
    },
    remove: () => rmSync(dir, { recursive: true, force: true })
  }
}

// The e2e suite against one Materialize shared by every test file (E2E_MATERIALIZE_URL), as
// .github/workflows/e2e-materialize.yml runs it on the materialize/materialized service.
//
//   npm run e2e:materialize                       # E2E_MATERIALIZE_URL must be set
//   npm run e2e:materialize -- --second-emulator  # against a second dev/emulator instance
//
// The second form starts a second emulator (with its own PostgreSQL), points E2E_MATERIALIZE_URL
// at it, runs the same selection and stops it: a local check that the workflow's job is well
// formed (issue 10, test 7). Files that share no names run in parallel; the blue/green files all build
// the `prod` schema and the server-wide `analytics` cluster, so they take the server in turn.
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readdirSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { startEmulator } from '../dev/emulator/index.js'
import { startPostgres } from '../dev/postgres.js'

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const e2eDir = '__tests__/e2e'

export interface Selection {
  /** Files that may run at once on the shared server. */
  parallel: string[]
  /** Files that must take the server in turn. */
  inTurn: string[]
}

/** Every e2e file, split into those that may share the server at once and those that may not. */
export function selection(files = readdirSync(path.join(repoRoot, e2eDir))): Selection {
  const tests = files.filter((name) => name.endsWith('.test.ts')).sort()
  const inTurn = tests.filter((name) => name.startsWith('bluegreen-'))
  const parallel = tests.filter((name) => !inTurn.includes(name))
  const paths = (names: string[]) => names.map((name) => `${e2eDir}/${name}`)
  return { parallel: paths(parallel), inTurn: paths(inTurn) }
}

/** The jest runs, file paths before --selectProjects (after it, jest reads them as projects). */
export function jestRuns({ parallel, inTurn }: Selection): string[][] {
  return [
    [...parallel, '--selectProjects', 'e2e'],
    [...inTurn, '--selectProjects', 'e2e', '--runInBand']
  ]
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: repoRoot, env, stdio: 'inherit' })
    child.once('error', reject)
    child.once('close', (code) => resolve(code ?? 1))
  })
}

interface SecondEmulator {
  url: string
  stop(): Promise<void>
}

/**
 * A second emulator, as `npm run emulator` starts one, but with a random password: the default
 * one, `materialize`, is also the database name, and the action masks the password everywhere,
 * so object names in its reports would read `***.prod…`.
 */
async function startSecondEmulator(): Promise<SecondEmulator> {
  const password = randomBytes(12).toString('hex')
  const postgres = await startPostgres({ user: 'materialize', password })
  try {
    const emulator = await startEmulator({ postgres })
    return {
      url: emulator.url(),
      async stop() {
        await emulator.stop()
        await postgres.stop()
      }
    }
  } catch (error) {
    await postgres.stop()
    throw error
  }
}

async function main(): Promise<void> {
  const second = process.argv.includes('--second-emulator')
  if (!second && !process.env.E2E_MATERIALIZE_URL)
    throw new Error('E2E_MATERIALIZE_URL is not set (or pass --second-emulator)')
  const emulator = second ? await startSecondEmulator() : undefined
  const env = {
    ...process.env,
    ...(emulator && { E2E_MATERIALIZE_URL: emulator.url }),
    NODE_OPTIONS: '--experimental-vm-modules',
    NODE_NO_WARNINGS: '1'
  }
  const jest = path.join(repoRoot, 'node_modules', '.bin', 'jest')
  const codes = []
  try {
    for (const args of jestRuns(selection())) codes.push(await run(jest, args, env))
  } finally {
    await emulator?.stop()
  }
  process.exitCode = codes.some((code) => code !== 0) ? 1 : 0
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error) => {
    console.error(error instanceof Error ? error.message : error)
    process.exitCode = 1
  })
}

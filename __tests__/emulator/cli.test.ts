// `npm run emulator` as a person uses it: start the CLI, connect to the printed connection
// string, then stop it with Ctrl-C (SIGINT to the whole foreground process group, as a
// terminal does) or with a plain SIGTERM to the CLI. Either way it must exit 0 promptly,
// close its port, and take its PostgreSQL server and data directory with it.
import { afterEach, describe, expect, it, jest } from '@jest/globals'
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { connect } from 'node:net'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { MZ_VERSION } from '../../dev/emulator/index.js'
import { freePort } from '../../dev/net.js'

jest.setTimeout(60_000)

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
const TSX = path.join(repoRoot, 'node_modules', '.bin', 'tsx')
const CLI = path.join('dev', 'emulator', 'cli.ts')
/** "Promptly": stopping PostgreSQL with a fast shutdown takes well under a second here. */
const STOP_BUDGET_MS = 10_000

interface Exit {
  code: number | null
  signal: NodeJS.Signals | null
}

interface RunningCli {
  child: ChildProcess
  url: string
  output(): string
  exited: Promise<Exit>
}

let running: RunningCli | undefined

/** Whatever a failed test left behind must not outlive it. */
afterEach(() => {
  if (running?.child.exitCode === null && running.child.pid) {
    try {
      process.kill(-running.child.pid, 'SIGKILL')
    } catch {
      // Already gone.
    }
  }
  running = undefined
})

/** Spawns the CLI in its own process group and waits for the connection string it prints. */
function startCli(port: number): Promise<RunningCli> {
  const child = spawn(TSX, [CLI, '--port', String(port)], {
    cwd: repoRoot,
    detached: true, // its own process group, like a job in a terminal
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let output = ''
  const exited = new Promise<Exit>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal }))
  )
  running = { child, url: '', output: () => output, exited }
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      output += chunk.toString()
      const url = /postgres:\/\/\S+/.exec(output)?.[0]
      if (url && output.includes('Press Ctrl-C')) resolve({ ...running!, url })
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    void exited.then(({ code }) => reject(new Error(`CLI exited (${code}) early:\n${output}`)))
  })
}

function parentOf(pid: number): number | undefined {
  try {
    // Field 4 of /proc/<pid>/stat, after the parenthesised command name.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
  } catch {
    return undefined // exited meanwhile
  }
}

function commandLine(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean)
  } catch {
    return []
  }
}

/** The PostgreSQL postmaster under `root` (tsx → node → postgres) and its `-D` data dir. */
function findPostmaster(root: number): { pid: number; dataDir: string } {
  const pids = readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
  const isDescendant = (pid: number): boolean => {
    for (let at = parentOf(pid); at !== undefined && at > 1; at = parentOf(at))
      if (at === root) return true
    return false
  }
  for (const pid of pids) {
    const args = commandLine(pid)
    const at = args.indexOf('-D')
    if (path.basename(args[0] ?? '') === 'postgres' && at >= 0 && isDescendant(pid))
      return { pid, dataDir: args[at + 1]! }
  }
  throw new Error(`no postgres -D process below pid ${root}`)
}

function isAlive(pid: number): boolean {
  // A zombie still has a /proc entry; it is gone for our purposes once its state is Z.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return false
  }
}

function acceptsConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

async function mzVersionVia(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const { rows } = await client.query<{ version: string }>('select mz_version() as version')
    return rows[0]!.version
  } finally {
    await client.end()
  }
}

describe('npm run emulator (dev/emulator/cli.ts)', () => {
  it.each([
    ['Ctrl-C (SIGINT to the process group)', 'SIGINT', 'group'],
    ['SIGTERM to the CLI process', 'SIGTERM', 'process']
  ] as const)('serves Materialize SQL, then %s stops everything', async (_how, signal, scope) => {
    const port = await freePort()
    const cli = await startCli(port)
    expect(cli.url).toMatch(new RegExp(`^postgres://[^@]+@127\\.0\\.0\\.1:${port}/materialize$`))
    expect(await mzVersionVia(cli.url)).toBe(MZ_VERSION)
    const postmaster = findPostmaster(cli.child.pid!)
    expect(existsSync(postmaster.dataDir)).toBe(true)

    const started = Date.now()
    process.kill(scope === 'group' ? -cli.child.pid! : cli.child.pid!, signal)
    const exit = await cli.exited

    expect({ ...exit, output: cli.output() }).toEqual({
      code: 0,
      signal: null,
      output: expect.not.stringMatching(/error/i)
    })
    expect(Date.now() - started).toBeLessThan(STOP_BUDGET_MS)
    expect(await acceptsConnections(port)).toBe(false)
    expect(isAlive(postmaster.pid)).toBe(false)
    expect(existsSync(postmaster.dataDir)).toBe(false)
    expect(existsSync(path.dirname(postmaster.dataDir))).toBe(false) // the temp dir around it
  })
})

// `npm run emulator` as a person or a supervisor uses it: start it through npm, connect to the
// printed connection string, then stop it with Ctrl-C (SIGINT to the whole foreground process
// group, as a terminal does, here with the CPU busy), with SIGTERM to npm (`kill`, `timeout`,
// a supervisor), or with SIGTERM to the CLI itself. Every way must exit 0, close the port and
// take the PostgreSQL server and its data directory along.
import { afterEach, describe, expect, it, jest } from '@jest/globals'
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { cpus } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { MZ_VERSION } from '../../dev/emulator/index.js'
import { freePort } from '../../dev/net.js'
import {
  acceptsConnections,
  descendantsOf,
  isAlive,
  postmasterOf
} from '../e2e/support/processes.js'

jest.setTimeout(900_000) // a bound for hung tests only: runs take minutes on a loaded machine

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
/**
 * Stopping is a fast shutdown of PostgreSQL, well under a second on an idle machine; the
 * bound only catches a hang, with room for a machine at a load average of 10.
 */
const STOP_BUDGET_MS = 30_000

interface Exit {
  code: number | null
  signal: NodeJS.Signals | null
}

interface RunningCli {
  /** npm, the leader of the CLI's process group. */
  npm: ChildProcess
  url: string
  output(): string
  exited: Promise<Exit>
}

/** Process groups (npm's) and single processes (CPU loads) a test started. */
const started: Array<{ child: ChildProcess; group: boolean }> = []

/** Whatever a failed test left behind must not outlive it, even after npm itself exited. */
afterEach(() => {
  for (const { child, group } of started.splice(0)) {
    try {
      if (group) process.kill(-child.pid!, 'SIGKILL')
      // SIGTERM reaches a CPU loop through its timeout; SIGKILL would orphan it.
      else if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
    } catch {
      // Already gone.
    }
  }
})

/** Runs `npm run emulator` in its own process group and waits for the connection string. */
function startCli(port: number): Promise<RunningCli> {
  const npm = spawn('npm', ['run', 'emulator', '--', '--port', String(port)], {
    cwd: repoRoot,
    detached: true, // its own process group, like a job in a terminal
    stdio: ['ignore', 'pipe', 'pipe']
  })
  started.push({ child: npm, group: true })
  let output = ''
  const exited = new Promise<Exit>((resolve) =>
    npm.once('exit', (code, signal) => resolve({ code, signal }))
  )
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      output += chunk.toString()
      const url = /postgres:\/\/\S+/.exec(output)?.[0]
      if (url && output.includes('Press Ctrl-C'))
        resolve({ npm, url, output: () => output, exited })
    }
    npm.stdout.on('data', onData)
    npm.stderr.on('data', onData)
    void exited.then(({ code }) => reject(new Error(`CLI exited (${code}) early:\n${output}`)))
  })
}

/** Busy loops on every core, each bounded by `timeout` in case the test dies first. */
function loadTheCpus(): () => void {
  const loops = cpus().map(() => {
    const loop = spawn('timeout', ['300', process.execPath, '-e', 'for (;;) {}'], {
      stdio: 'ignore'
    })
    started.push({ child: loop, group: false })
    return loop
  })
  return () => loops.forEach((loop) => loop.kill('SIGTERM'))
}

/** The CLI's node process (npm → node) and the postmaster it started, with its `-D` data dir. */
function processesOf(npm: number): { cli: number; postmaster: number; dataDir: string } {
  const below = descendantsOf(npm)
  const cli = below.find(({ args }) => args.includes('dev/emulator/cli.ts'))
  if (!cli) throw new Error(`no CLI process below npm (pid ${npm})`)
  const postmaster = postmasterOf(below)
  return { cli: cli.pid, postmaster: postmaster.pid, dataDir: postmaster.dataDir }
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

type Stop = 'ctrl-c with the CPU busy' | 'SIGTERM to npm' | 'SIGTERM to the CLI'

function stop(how: Stop, npm: number, cli: number): () => void {
  if (how === 'SIGTERM to npm') process.kill(npm, 'SIGTERM')
  else if (how === 'SIGTERM to the CLI') process.kill(cli, 'SIGTERM')
  else {
    const unload = loadTheCpus()
    process.kill(-npm, 'SIGINT') // the whole foreground group: npm, node and PostgreSQL
    return unload
  }
  return () => undefined
}

describe('npm run emulator (dev/emulator/cli.ts)', () => {
  it.each<Stop>(['ctrl-c with the CPU busy', 'SIGTERM to npm', 'SIGTERM to the CLI'])(
    'serves Materialize SQL, then %s stops everything and exits 0',
    async (how) => {
      const port = await freePort()
      const cli = await startCli(port)
      expect(cli.url).toMatch(new RegExp(`^postgres://[^@]+@127\\.0\\.0\\.1:${port}/materialize$`))
      expect(await mzVersionVia(cli.url)).toBe(MZ_VERSION)
      const processes = processesOf(cli.npm.pid!)
      expect(existsSync(processes.dataDir)).toBe(true)

      const signalled = Date.now()
      const unload = stop(how, cli.npm.pid!, processes.cli)
      const exit = await cli.exited.finally(unload)

      expect({ ...exit, output: cli.output() }).toEqual({
        code: 0,
        signal: null,
        output: expect.not.stringMatching(/error/i)
      })
      expect(Date.now() - signalled).toBeLessThan(STOP_BUDGET_MS)
      expect(await acceptsConnections(port)).toBe(false)
      expect(isAlive(processes.cli)).toBe(false)
      expect(isAlive(processes.postmaster)).toBe(false)
      expect(existsSync(processes.dataDir)).toBe(false)
      expect(existsSync(path.dirname(processes.dataDir))).toBe(false) // the temp dir around it
    }
  )
})

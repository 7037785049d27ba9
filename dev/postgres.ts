// A throwaway PostgreSQL server for tests and the demo: Debian's binaries, a temp data
// directory, a free loopback port. PostgreSQL refuses to run as root, so under uid 0 the
// server runs as the `postgres` OS user.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
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

export function findPostgresBinDir(): string {
  const explicit = process.env.PG_BIN_DIR
  if (explicit) return explicit
  const root = '/usr/lib/postgresql'
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(path.join(root, v, 'bin', 'postgres')))
        .sort((a, b) => Number(b) - Number(a))
    : []
  if (versions[0]) return path.join(root, versions[0], 'bin')
  throw new Error(
    'No PostgreSQL server binaries found under /usr/lib/postgresql. Install Debian\'s "postgresql" package or set PG_BIN_DIR.'
  )
}

function runAsIds(): { uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return {}
  const uid = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' })
  const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' })
  if (uid.status !== 0 || gid.status !== 0) {
    throw new Error('Running as root needs a "postgres" OS user (useradd --system postgres).')
  }
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) }
}

function initDataDir(binDir: string, dataDir: string, user: string, password: string): void {
  const ids = runAsIds()
  const pwFile = path.join(dataDir, '..', 'pwfile')
  writeFileSync(pwFile, `${password}\n`, { mode: 0o600 })
  if (ids.uid !== undefined) {
    chownSync(path.dirname(dataDir), ids.uid, ids.gid!)
    chownSync(pwFile, ids.uid, ids.gid!)
  }
  const init = spawnSync(
    path.join(binDir, 'initdb'),
    [
      '-D',
      dataDir,
      '-U',
      user,
      '--pwfile',
      pwFile,
      '-A',
      'scram-sha-256',
      '-E',
      'UTF8',
      '--no-sync'
    ],
    { ...ids, encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } }
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
    child.once('exit', (code) =>
      reject(new Error(`postgres exited (${code}) before ready:\n${log}`))
    )
  })
}

export async function startPostgres(options: PostgresOptions = {}): Promise<PostgresServer> {
  const binDir = findPostgresBinDir()
  const user = options.user ?? 'postgres'
  const password = options.password ?? 'postgres'
  const port = options.port ?? (await freePort())
  const base = mkdtempSync(path.join(tmpdir(), 'dbt-mz-pg-'))
  const dataDir = path.join(base, 'data')
  initDataDir(binDir, dataDir, user, password)
  const settings = {
    listen_addresses: '127.0.0.1',
    unix_socket_directories: base,
    fsync: 'off',
    synchronous_commit: 'off',
    full_page_writes: 'off',
    max_connections: '200',
    ...options.settings
  }
  const args = ['-D', dataDir, '-p', String(port)]
  for (const [name, value] of Object.entries(settings)) args.push('-c', `${name}=${value}`)
  const child = spawn(path.join(binDir, 'postgres'), args, {
    ...runAsIds(),
    stdio: ['ignore', 'ignore', 'pipe']
  })
  await waitForReady(child)
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  return {
    host: '127.0.0.1',
    port,
    user,
    password,
    dataDir,
    url: (database = 'postgres') =>
      `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGINT') // fast shutdown
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
        await exited
        clearTimeout(timer)
      }
      rmSync(base, { recursive: true, force: true })
    }
  }
}

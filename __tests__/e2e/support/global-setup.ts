// One PostgreSQL, one moto S3 server and one Materialize for the whole e2e run. Coordinates
// reach the test files through process.env (workers inherit it); the handles stay on
// globalThis for teardown, which stops them in reverse order.
//
// Materialize is the emulator (dev/emulator) on a `materialize` database of the same
// PostgreSQL, so its password is the canary too. With E2E_MATERIALIZE_URL set (GitHub CI's
// materialize/materialized service), that real Materialize is used instead.
//
// Jest imports this file with Node's own ESM loader (no ts-jest), which cannot map the
// project's `./x.js` specifiers to `.ts` sources, so the harness modules load through tsx.
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { tsImport } from 'tsx/esm/api'

type MotoModule = typeof import('../../../dev/moto.js')
type PostgresModule = typeof import('../../../dev/postgres.js')
type EmulatorModule = typeof import('../../../dev/emulator/index.js')
type PostgresServer = import('../../../dev/postgres.js').PostgresServer
type PathsModule = typeof import('./paths.js')
type VenvsModule = typeof import('./venvs.js')

interface Stoppable {
  stop(): Promise<void>
}

declare global {
  var __E2E_SERVERS__: Stoppable[] | undefined
}

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..')

async function load<T>(relative: string): Promise<T> {
  return (await tsImport(path.join(repoRoot, relative), import.meta.url)) as T
}

function requireFile(file: string, hint: string): void {
  if (!existsSync(file)) throw new Error(`e2e suite cannot run: ${file} is missing. ${hint}`)
}

/** Last started, first stopped: the emulator before the PostgreSQL it runs on. */
async function stopAll(servers: Stoppable[]): Promise<void> {
  const failures: unknown[] = []
  for (const server of [...servers].reverse()) await server.stop().catch((e) => failures.push(e))
  if (failures.length > 0) throw failures[0]
}

interface MaterializeCoordinates {
  kind: 'emulator' | 'materialize'
  host: string
  port: number
  user: string
  password: string
  database: string
}

/** The real Materialize behind E2E_MATERIALIZE_URL, once it answers `select mz_version()`. */
async function realMaterialize(url: string): Promise<MaterializeCoordinates> {
  const parsed = new URL(url)
  const coordinates: MaterializeCoordinates = {
    kind: 'materialize',
    host: parsed.hostname,
    port: Number(parsed.port || 6875),
    user: decodeURIComponent(parsed.username) || 'materialize',
    password: decodeURIComponent(parsed.password),
    database: decodeURIComponent(parsed.pathname.slice(1)) || 'materialize'
  }
  await waitForMaterialize(coordinates, 60_000)
  return coordinates
}

/** A service container may still be starting: retry until it answers, then name what it is. */
async function waitForMaterialize(mz: MaterializeCoordinates, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const { host, port, user, database } = mz
    const client = new pg.Client({ host, port, user, database, password: mz.password || undefined })
    try {
      await client.connect()
      await client.query('select mz_version()')
      return
    } catch (error) {
      if (Date.now() > deadline)
        throw new Error(`E2E_MATERIALIZE_URL: no Materialize answered at ${mz.host}:${mz.port}`, {
          cause: error
        })
      await new Promise((resolve) => setTimeout(resolve, 1000))
    } finally {
      await client.end().catch(() => undefined)
    }
  }
}

/** The emulator on its own database of the e2e PostgreSQL (which it drops and recreates). */
async function emulatedMaterialize(
  postgres: PostgresServer,
  servers: Stoppable[]
): Promise<MaterializeCoordinates> {
  const { startEmulator } = await load<EmulatorModule>('dev/emulator/index.ts')
  const emulator = await startEmulator({ postgres, database: 'materialize' })
  servers.push(emulator)
  const { host, port, user, password, database } = emulator
  return { kind: 'emulator', host, port, user, password, database }
}

function publishMaterialize(mz: MaterializeCoordinates): void {
  process.env.E2E_MZ_KIND = mz.kind
  process.env.E2E_MZ_HOST = mz.host
  process.env.E2E_MZ_PORT = String(mz.port)
  process.env.E2E_MZ_USER = mz.user
  process.env.E2E_MZ_PASSWORD = mz.password
  process.env.E2E_MZ_DATABASE = mz.database
}

/**
 * E2E_DBT_MATERIALIZE=<version> runs the blue/green suites on that dbt-materialize release
 * instead of the pinned one: a throwaway virtualenv over the shared toolchain (venvs.ts), whose
 * bin directory the suites put first on PATH (E2E_DBT_BIN_DIR).
 */
async function selectDbtMaterialize(): Promise<void> {
  const version = process.env.E2E_DBT_MATERIALIZE
  if (!version) return
  const { dbtWithMaterialize } = await load<VenvsModule>('__tests__/e2e/support/venvs.ts')
  process.env.E2E_DBT_BIN_DIR = path.dirname(await dbtWithMaterialize(version))
}

export default async function globalSetup(): Promise<void> {
  const paths = await load<PathsModule>('__tests__/e2e/support/paths.ts')
  requireFile(paths.dbtBinary, 'Run "npm run setup:python" to create the virtualenv.')
  requireFile(paths.node24, 'Run "npm ci" to install the Node 24 runtime the action uses.')
  requireFile(paths.mainBundle, 'Run "npm run bundle" to build the action.')
  requireFile(paths.postBundle, 'Run "npm run bundle" to build the action.')
  await selectDbtMaterialize()
  const { startPostgres } = await load<PostgresModule>('dev/postgres.ts')
  const { startMoto } = await load<MotoModule>('dev/moto.ts')
  const servers: Stoppable[] = []
  globalThis.__E2E_SERVERS__ = servers
  const tempRoot = mkdtempSync(path.join(tmpdir(), 'dbt-mz-e2e-'))
  process.env.E2E_TMP_ROOT = tempRoot
  try {
    // Every test runs this snapshot of the bundle, even if dist/ is rebuilt meanwhile.
    process.env.E2E_DIST_DIR = path.join(tempRoot, 'dist')
    cpSync(paths.distDir, process.env.E2E_DIST_DIR, { recursive: true })
    const postgres = await startPostgres({ user: 'postgres', password: paths.CANARY_PASSWORD })
    servers.push(postgres)
    const moto = await startMoto()
    servers.push(moto)
    process.env.E2E_PG_HOST = postgres.host
    process.env.E2E_PG_PORT = String(postgres.port)
    process.env.E2E_PG_USER = postgres.user
    process.env.E2E_PG_PASSWORD = postgres.password
    process.env.E2E_S3_ENDPOINT = moto.endpoint
    const realUrl = process.env.E2E_MATERIALIZE_URL
    publishMaterialize(
      realUrl ? await realMaterialize(realUrl) : await emulatedMaterialize(postgres, servers)
    )
  } catch (error) {
    globalThis.__E2E_SERVERS__ = undefined
    rmSync(tempRoot, { recursive: true, force: true })
    await stopAll(servers)
    throw error
  }
}

// One PostgreSQL and one moto S3 server for the whole e2e run. Coordinates reach the test
// files through process.env (workers inherit it); the handles stay on globalThis for teardown.
//
// Jest imports this file with Node's own ESM loader (no ts-jest), which cannot map the
// project's `./x.js` specifiers to `.ts` sources, so the harness modules load through tsx.
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { tsImport } from 'tsx/esm/api'

type MotoModule = typeof import('../../../dev/moto.js')
type PostgresModule = typeof import('../../../dev/postgres.js')
type PathsModule = typeof import('./paths.js')

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

async function stopAll(servers: Stoppable[]): Promise<void> {
  const results = await Promise.allSettled(servers.map((server) => server.stop()))
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
  if (failed) throw failed.reason
}

export default async function globalSetup(): Promise<void> {
  const paths = await load<PathsModule>('__tests__/e2e/support/paths.ts')
  requireFile(paths.dbtBinary, 'Run "npm run setup:python" to create the virtualenv.')
  requireFile(paths.node24, 'Run "npm ci" to install the Node 24 runtime the action uses.')
  requireFile(paths.mainBundle, 'Run "npm run bundle" to build the action.')
  requireFile(paths.postBundle, 'Run "npm run bundle" to build the action.')
  const { startPostgres } = await load<PostgresModule>('dev/postgres.ts')
  const { startMoto } = await load<MotoModule>('dev/moto.ts')
  const servers: Stoppable[] = []
  globalThis.__E2E_SERVERS__ = servers
  const tempRoot = mkdtempSync(path.join(tmpdir(), 'dbt-mz-e2e-'))
  process.env.E2E_TMP_ROOT = tempRoot
  try {
    const postgres = await startPostgres({ user: 'postgres', password: paths.CANARY_PASSWORD })
    servers.push(postgres)
    const moto = await startMoto()
    servers.push(moto)
    process.env.E2E_PG_HOST = postgres.host
    process.env.E2E_PG_PORT = String(postgres.port)
    process.env.E2E_PG_USER = postgres.user
    process.env.E2E_PG_PASSWORD = postgres.password
    process.env.E2E_S3_ENDPOINT = moto.endpoint
  } catch (error) {
    globalThis.__E2E_SERVERS__ = undefined
    rmSync(tempRoot, { recursive: true, force: true })
    await stopAll(servers)
    throw error
  }
}

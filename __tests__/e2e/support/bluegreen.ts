// Shared vocabulary of the blue/green e2e tests: one Materialize emulator per test file (on a
// PostgreSQL whose password is the canary), or the real Materialize of E2E_MATERIALIZE_URL
// shared by the files in turn; the production the deploys start from, inputs, looks at what
// really exists in Materialize and S3, and the action's process while it runs.
import { afterAll, afterEach, beforeAll, expect } from '@jest/globals'
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import pg from 'pg'
import { startEmulator, type Emulator } from '../../../dev/emulator/index.js'
import { splitStatements } from '../../../dev/emulator/lexer.js'
import { startPostgres, type PostgresServer } from '../../../dev/postgres.js'
import { repoRoot } from '../../../dev/runner.js'
import { onRealMaterialize } from './backends.js'
import { CANARY_PASSWORD, fixturesDir, venvBin } from './paths.js'
import { actionPid } from './processes.js'
import { pushEvent, runAction, type ActionRun, type GitHubEvent } from './runner.js'
import { createBucket, s3Endpoint, type StoredObject } from './s3.js'
import { TOKEN, expectCanaryHidden } from './slim.js'
import { quoteIdent } from './warehouse.js'
import { createWorkspace, type Workspace } from './workspace.js'

export const FIXTURE = 'bluegreen'
export const PROD_SCHEMA = 'prod'
export const PROD_CLUSTER = 'analytics'
export const GREEN_SCHEMA = 'prod_dbt_deploy'
export const GREEN_CLUSTER = 'analytics_dbt_deploy'

/** S3 keys under the `prod` prefix of the state URI. */
export const KEYS = {
  lock: 'prod/deploy.lock',
  stagedDeployment: 'prod/staged/deployment.json',
  stagedManifest: 'prod/staged/manifest.json',
  manifest: 'prod/manifest.json',
  archive: (sha: string): string => `prod/manifests/${sha}.json`
}

// --- the warehouse: an emulator per file, or the real Materialize -----------------------------

/** Where the tests' own SQL goes: the file's emulator or the real Materialize (both have `url()`). */
export interface MaterializeSql {
  url(): string
  /** Set when the server requires TLS: its certificate, to verify it with. */
  tls?: { ca: string }
}

export interface BlueGreenWarehouse {
  mz: MaterializeSql
  /** The file's own emulator; undefined on a real Materialize, which has no control API. */
  emulator: Emulator | undefined
  /** What the fixture profile reads: MZ_HOST/MZ_PORT/MZ_USER, the secret password, and PATH
   * when E2E_DBT_MATERIALIZE selects another dbt-materialize. */
  env: Record<string, string>
  stop(): Promise<void>
}

/**
 * The bin directory of the dbt the blue/green suites run: the shared toolchain's, or the
 * throwaway virtualenv global-setup made for E2E_DBT_MATERIALIZE.
 */
const dbtBin = (): string => process.env.E2E_DBT_BIN_DIR ?? venvBin

/** With E2E_DBT_MATERIALIZE, its dbt goes first on the action's and dbt's PATH. */
function dbtPathEnv(): Record<string, string> {
  const selected = process.env.E2E_DBT_BIN_DIR
  return selected ? { PATH: `${selected}:${venvBin}:/usr/local/bin:/usr/bin:/bin` } : {}
}

/** The dbt-materialize release the blue/green runs use: E2E_DBT_MATERIALIZE's, or the pinned one. */
export function dbtMaterializeUnderTest(): string {
  const selected = process.env.E2E_DBT_MATERIALIZE
  if (selected) return selected
  const pins = readFileSync(path.join(repoRoot, 'requirements-dev.txt'), 'utf8')
  const pinned = /^dbt-materialize==(\S+)$/m.exec(pins)?.[1]
  if (!pinned) throw new Error('requirements-dev.txt pins no dbt-materialize release')
  return pinned
}

/** What the describe titles say the tests run on, e.g. "the Materialize emulator (dbt-materialize 1.9.8)". */
export function blueGreenTarget(): string {
  const where = onRealMaterialize() ? 'real Materialize' : 'the Materialize emulator'
  const version = process.env.E2E_DBT_MATERIALIZE
  return version ? `${where} (dbt-materialize ${version})` : where
}

/**
 * Every schema and cluster the blue/green fixture and tests create: on a shared real Materialize,
 * each test file drops what the previous one left before building its own production.
 */
const BLUE_GREEN_SCHEMAS = [
  'prod',
  'prod_dbt_deploy',
  'prod_raw',
  'staging',
  'reporting',
  'pr_7',
  'pr_41'
]
const BLUE_GREEN_CLUSTERS = ['analytics', 'analytics_dbt_deploy']

async function dropBlueGreenLeftovers(mz: MaterializeSql): Promise<void> {
  for (const schema of BLUE_GREEN_SCHEMAS)
    await sql(mz, `DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`)
  for (const cluster of BLUE_GREEN_CLUSTERS)
    await sql(mz, `DROP CLUSTER IF EXISTS ${quoteIdent(cluster)} CASCADE`)
}

/**
 * The real Materialize of E2E_MATERIALIZE_URL (global-setup's coordinates). Its clusters are
 * server-wide, so the blue/green files take it in turn (`--runInBand`, tools/e2e-materialize.ts).
 */
async function sharedMaterialize(): Promise<BlueGreenWarehouse> {
  const env = (name: string): string => process.env[name] ?? ''
  const url = new URL('postgres://')
  url.hostname = env('E2E_MZ_HOST')
  url.port = env('E2E_MZ_PORT')
  url.username = env('E2E_MZ_USER')
  url.password = env('E2E_MZ_PASSWORD')
  url.pathname = `/${env('E2E_MZ_DATABASE')}`
  const mz: MaterializeSql = { url: () => url.toString() }
  await dropBlueGreenLeftovers(mz)
  return {
    mz,
    emulator: undefined,
    env: {
      MZ_HOST: env('E2E_MZ_HOST'),
      MZ_PORT: env('E2E_MZ_PORT'),
      MZ_USER: env('E2E_MZ_USER'),
      DBT_ENV_SECRET_MZ_PASSWORD: env('E2E_MZ_PASSWORD'),
      ...dbtPathEnv()
    },
    stop: () => dropBlueGreenLeftovers(mz)
  }
}

/** An emulator whose password is the canary (by default), so every run also proves the action masks it. */
async function emulatedMaterialize(password: string, tls: boolean): Promise<BlueGreenWarehouse> {
  const postgres: PostgresServer = await startPostgres({
    user: 'materialize',
    password,
    settings: { client_connection_check_interval: '1000' }
  })
  try {
    const emulator = await startEmulator({ postgres, tls })
    return {
      mz: emulator,
      emulator,
      env: {
        MZ_HOST: emulator.host,
        MZ_PORT: String(emulator.port),
        MZ_USER: emulator.user,
        DBT_ENV_SECRET_MZ_PASSWORD: emulator.password,
        ...dbtPathEnv()
      },
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

/**
 * This file's warehouse: its own emulator, or the real Materialize when E2E_MATERIALIZE_URL is
 * set. A password of the test's choosing needs the emulator (mark the file describeEmulatorOnly).
 */
export async function startWarehouse(password?: string, tls = false): Promise<BlueGreenWarehouse> {
  if (!onRealMaterialize()) return emulatedMaterialize(password ?? CANARY_PASSWORD, tls)
  if (password !== undefined || tls)
    throw new Error(
      'a chosen Materialize password or TLS mode needs the emulator: mark the test emulator-only'
    )
  return sharedMaterialize()
}

/**
 * Hydration of indexes and materialized views created from now on. A real Materialize hydrates
 * at its own pace: there only "no delay" can be asked; a test that needs a delay to be seen, or
 * a green that never hydrates, must be emulator-only (or keep those checks in emulatorOnlyChecks).
 */
export async function scriptHydration(
  warehouse: BlueGreenWarehouse,
  delaySeconds: number,
  neverHydrates = false
): Promise<void> {
  if (warehouse.emulator)
    return warehouse.emulator.control.setDefaultHydration({
      delaySeconds,
      lagSeconds: 0,
      neverHydrates
    })
  if (neverHydrates)
    throw new Error('a green that never hydrates needs the emulator: mark the test emulator-only')
}

/** Runs SQL through the emulator or Materialize, as a Materialize client would. */
export async function sql<Row extends pg.QueryResultRow>(
  mz: MaterializeSql,
  text: string
): Promise<Row[]> {
  const client = new pg.Client({ connectionString: mz.url(), ssl: mz.tls && { ca: mz.tls.ca } })
  await client.connect()
  try {
    return (await client.query<Row>(text)).rows
  } finally {
    await client.end()
  }
}

/** Runs a script of DDL one statement per message, as Materialize requires. */
export async function sqlScript(mz: MaterializeSql, script: string): Promise<void> {
  for (const statement of splitStatements(script)) await sql(mz, statement)
}

// --- dbt by hand, to build production before any blue/green run -------------------------------

interface DbtResult {
  code: number | null
  output: string
}

function runDbt(dir: string, env: Record<string, string>, args: string[]): Promise<DbtResult> {
  const fullEnv = {
    PATH: `${dbtBin()}:${venvBin}:/usr/local/bin:/usr/bin:/bin`,
    HOME: dir,
    DBT_PROFILES_DIR: dir,
    DBT_SEND_ANONYMOUS_USAGE_STATS: 'false',
    DBT_USE_COLORS: 'false',
    ...env
  }
  // Never synchronously: the emulator's proxy lives in this process's event loop.
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(dbtBin(), 'dbt'), args, { cwd: dir, env: fullEnv })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.once('error', reject)
    child.once('close', (code) => resolve({ code, output }))
  })
}

async function dbtOrThrow(dir: string, env: Record<string, string>, args: string[]) {
  const result = await runDbt(dir, env, args)
  if (result.code !== 0) throw new Error(`dbt ${args.join(' ')} failed:\n${result.output}`)
}

/**
 * Production as a team has it before adopting blue/green: the cluster created by hand (the
 * size of `quickstart`, which the emulator and Materialize both bootstrap, so neither refuses
 * it), the seed loaded and `dbt run` on the workspace's HEAD (in a scratch clone, so the
 * workspace itself stays untouched).
 */
export async function buildProduction(warehouse: BlueGreenWarehouse, ws: Workspace) {
  const [quickstart] = await sql<{ size: string }>(
    warehouse.mz,
    `SELECT size FROM mz_catalog.mz_clusters WHERE name = 'quickstart'`
  )
  if (!quickstart) throw new Error('Materialize has no "quickstart" cluster to copy a size from')
  const size = quickstart.size.replace(/'/g, "''")
  await sql(warehouse.mz, `CREATE CLUSTER ${PROD_CLUSTER} (SIZE = '${size}')`)
  const scratch = ws.clone()
  try {
    await dbtOrThrow(scratch.dir, warehouse.env, ['seed'])
    await dbtOrThrow(scratch.dir, warehouse.env, ['run'])
  } finally {
    scratch.cleanup()
  }
}

// --- fixture edits -----------------------------------------------------------------------------

/** models/release.sql answering `version`: tells one deploy's objects from another's. */
export function releaseModel(version: string): Record<string, string> {
  const sqlText = `{{ config(materialized='view') }}\n\nselect '${version}' as version\n`
  return { 'models/release.sql': sqlText }
}

/** A release whose `version` is duplicated, so `unique_release_version` fails. */
export function brokenReleaseModel(version: string): Record<string, string> {
  const sqlText =
    `{{ config(materialized='view') }}\n\n` +
    `select '${version}' as version\nunion all\nselect '${version}' as version\n`
  return { 'models/release.sql': sqlText }
}

/** The fixture's own `vars:` block. */
export const FIXTURE_VARS = `  deployment:
    prod:
      clusters: ['${PROD_CLUSTER}']
      schemas: ['${PROD_SCHEMA}']
`

/** dbt_project.yml with its `vars:` block replaced (YAML lines indented by two spaces). */
export function projectWithVars(varsBlock: string): Record<string, string> {
  const original = readFileSync(path.join(fixturesDir, FIXTURE, 'dbt_project.yml'), 'utf8')
  const head = original.slice(0, original.indexOf('vars:'))
  return { 'dbt_project.yml': varsBlock ? `${head}vars:\n${varsBlock}` : head }
}

// --- inputs and outputs ----------------------------------------------------------------------

export function blueGreenInputs(
  bucket: string,
  extra: Record<string, string> = {}
): Record<string, string> {
  return {
    mode: 'blue-green',
    phase: 'all',
    'project-dir': '.',
    'profiles-dir': '.',
    target: 'prod',
    'state-uri': `s3://${bucket}/prod`,
    's3-endpoint': s3Endpoint(),
    'aws-region': 'us-east-1',
    'poll-interval': '250ms',
    'lock-timeout': '20s',
    'github-token': TOKEN,
    ...extra
  }
}

export interface BlueGreenOutputs {
  status: string
  deployed?: string
  promoted?: string
}

export function expectOutputs(run: ActionRun, expected: BlueGreenOutputs): void {
  expect({
    status: run.outputs.status,
    ...(expected.deployed !== undefined && { deployed: run.outputs.deployed }),
    ...(expected.promoted !== undefined && { promoted: run.outputs.promoted })
  }).toEqual(expected)
}

/**
 * A whole blue/green run is half a dozen dbt invocations, each taking seconds on an idle
 * machine and far longer on a loaded one: the runner's kill is only for a hung run.
 */
export const BLUE_GREEN_RUN_TIMEOUT_MS = 600_000

/** Runs the action on the workspace's HEAD (a push to main); every run must hide the canary. */
export async function runBlueGreen(
  warehouse: BlueGreenWarehouse,
  ws: Workspace,
  bucket: string,
  inputs: Record<string, string> = {},
  options: Omit<BlueGreenRunOptions, 'workspace'> = {}
): Promise<ActionRun> {
  const run = await runAction({
    workspace: ws.dir,
    event: options.event ?? pushEvent({ sha: ws.sha() }),
    apiUrl: options.apiUrl,
    inputs: blueGreenInputs(bucket, inputs),
    env: { ...warehouse.env, ...options.env },
    onLine: options.onLine,
    timeoutMs: BLUE_GREEN_RUN_TIMEOUT_MS
  })
  expectCanaryHidden(run)
  return run
}

// --- one test file's emulator, workspace and bucket ---------------------------------------------

export interface BlueGreenRunOptions {
  /** Another workspace than the suite's, e.g. a clone deploying a different commit. */
  workspace?: Workspace
  env?: Record<string, string>
  /** Sees each output line as the action prints it, e.g. a `hydrationWatch`. */
  onLine?: (line: string) => void
  /** The triggering event; default a push of the workspace's HEAD to main. */
  event?: GitHubEvent
  /** A GitHub API stub's URL, for runs whose PR comment is checked. */
  apiUrl?: string
}

/** What `useBlueGreenSuite` sets up; the getters throw until its beforeAll has run. */
export interface BlueGreenSuite {
  readonly warehouse: BlueGreenWarehouse
  /** Where the tests' own SQL goes (the emulator or the real Materialize). */
  readonly mz: MaterializeSql
  /** The warehouse's emulator, for its control API; throws on a real Materialize. */
  readonly emulator: Emulator
  readonly ws: Workspace
  readonly bucket: string
  /** `runBlueGreen` on the suite's warehouse and bucket; the suite awaits it after the test. */
  run: (inputs?: Record<string, string>, options?: BlueGreenRunOptions) => Promise<ActionRun>
}

export interface BlueGreenSuiteOptions {
  /** The emulator's password; default the canary. */
  password?: string
  /** The emulator requires TLS, as Materialize Cloud does (emulator-only). */
  tls?: boolean
  /** Runs after each test, once that test's runs have settled (e.g. to clear injected faults). */
  afterEach?: (suite: BlueGreenSuite) => Promise<void>
}

/**
 * Registers the lifecycle of a blue/green test file: an emulator with production built from a
 * workspace of FIXTURE and a fresh bucket before all tests; after each test, its runs awaited,
 * so a test that fails midway leaves no run racing the next one; everything stopped at the end.
 */
export function useBlueGreenSuite(
  bucketLabel: string,
  options: BlueGreenSuiteOptions = {}
): BlueGreenSuite {
  let warehouse: BlueGreenWarehouse | undefined
  let ws: Workspace | undefined
  let bucket: string | undefined
  const inFlight: Promise<ActionRun>[] = []

  const ready = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`no ${what}: the blue/green suite did not start`)
    return value
  }
  const suite: BlueGreenSuite = {
    get warehouse() {
      return ready(warehouse, 'warehouse')
    },
    get mz() {
      return suite.warehouse.mz
    },
    get emulator() {
      const { emulator } = suite.warehouse
      if (!emulator)
        throw new Error('no emulator on a real Materialize: mark the test emulator-only')
      return emulator
    },
    get ws() {
      return ready(ws, 'workspace')
    },
    get bucket() {
      return ready(bucket, 'bucket')
    },
    run(inputs = {}, { workspace = suite.ws, ...options } = {}) {
      const pending = runBlueGreen(suite.warehouse, workspace, suite.bucket, inputs, options)
      inFlight.push(pending)
      return pending
    }
  }

  beforeAll(async () => {
    warehouse = await startWarehouse(options.password, options.tls)
    ws = createWorkspace({ fixture: FIXTURE })
    await buildProduction(warehouse, ws)
    bucket = await createBucket(bucketLabel)
  }, BLUE_GREEN_RUN_TIMEOUT_MS)

  afterEach(async () => {
    await Promise.allSettled(inFlight.splice(0))
    await options.afterEach?.(suite)
  })

  afterAll(async () => {
    ws?.cleanup()
    await warehouse?.stop()
  })

  return suite
}

/** Every `<hydrated>/<total>` the action printed on a line naming `cluster`. */
export function progressOf(stdout: string, cluster: string): Array<[number, number]> {
  return stdout
    .split('\n')
    .filter((line) => line.includes(cluster))
    .flatMap((line) => [...line.matchAll(/\b(\d+)\s*\/\s*(\d+)\b/g)])
    .map((m) => [Number(m[1]), Number(m[2])])
}

/** The run's error annotations, one per line: where the action explains a failure. */
export function errorText(run: ActionRun): string {
  return run.annotations
    .filter((a) => a.level === 'error')
    .map((a) => a.message)
    .join('\n')
}

/** A short stand-in for an S3 object's body, so a failed comparison prints a hash, not MBs. */
export function fingerprint(object: StoredObject | undefined): string | undefined {
  return object && createHash('sha256').update(object.body).digest('hex').slice(0, 16)
}

// --- what exists in Materialize --------------------------------------------------------------

export interface Placed {
  id: string
  cluster: string | null
}

/** Where each object of the production and green schemas lives: `schema.name` → id, cluster. */
export async function placement(mz: MaterializeSql): Promise<Record<string, Placed>> {
  const rows = await sql<{ key: string; id: string; cluster: string | null }>(
    mz,
    `SELECT s.name || '.' || o.name AS key, o.id, c.name AS cluster
       FROM mz_catalog.mz_objects o
       JOIN mz_catalog.mz_schemas s ON s.id = o.schema_id
       LEFT JOIN mz_catalog.mz_clusters c ON c.id = o.cluster_id
      WHERE o.id LIKE 'u%' AND s.name IN ('${PROD_SCHEMA}', '${GREEN_SCHEMA}')`
  )
  return Object.fromEntries(rows.map((r) => [r.key, { id: r.id, cluster: r.cluster }]))
}

/** Placement restricted to one schema, keyed by object name. */
export function objectsIn(all: Record<string, Placed>, schema: string): Record<string, Placed> {
  const prefix = `${schema}.`
  return Object.fromEntries(
    Object.entries(all)
      .filter(([key]) => key.startsWith(prefix))
      .map(([key, value]) => [key.slice(prefix.length), value])
  )
}

export async function clusterIds(mz: MaterializeSql): Promise<Record<string, string>> {
  const rows = await sql<{ name: string; id: string }>(
    mz,
    `SELECT name, id FROM mz_catalog.mz_clusters WHERE id LIKE 'u%'`
  )
  return Object.fromEntries(rows.map((r) => [r.name, r.id]))
}

/** Green schemas and clusters that exist right now, e.g. `['cluster analytics_dbt_deploy']`. */
export async function greenLeftovers(mz: MaterializeSql): Promise<string[]> {
  const rows = await sql<{ what: string }>(
    mz,
    `SELECT 'schema ' || name AS what FROM mz_catalog.mz_schemas WHERE name LIKE '%\\_dbt\\_deploy'
     UNION ALL
     SELECT 'cluster ' || name FROM mz_catalog.mz_clusters WHERE name LIKE '%\\_dbt\\_deploy'
     ORDER BY 1`
  )
  return rows.map((r) => r.what)
}

/** What `<schema>.release` answers, or undefined when there is no such view. */
export async function releaseIn(mz: MaterializeSql, schema: string): Promise<string | undefined> {
  const exists = await sql<{ n: string }>(
    mz,
    `SELECT count(*) AS n FROM mz_catalog.mz_objects o
       JOIN mz_catalog.mz_schemas s ON s.id = o.schema_id
      WHERE s.name = '${schema}' AND o.name = 'release'`
  )
  if (exists[0]?.n === '0') return undefined
  const rows = await sql<{ version: string }>(mz, `SELECT version FROM ${schema}.release`)
  return rows.map((r) => r.version).join(',')
}

/** Production at a glance: the release it serves, its objects and the cluster ids. */
export interface ProductionSnapshot {
  release: string | undefined
  objects: Record<string, Placed>
  clusters: Record<string, string>
}

export async function production(mz: MaterializeSql): Promise<ProductionSnapshot> {
  const clusters = Object.entries(await clusterIds(mz))
  return {
    release: await releaseIn(mz, PROD_SCHEMA),
    objects: objectsIn(await placement(mz), PROD_SCHEMA),
    clusters: Object.fromEntries(clusters.filter(([name]) => !name.endsWith('_dbt_deploy')))
  }
}

/** Swap transactions the emulator has seen so far (each one draws from a sequence). */
export async function swapAttempts(emulator: Emulator): Promise<number> {
  const [row] = await emulator.control.query<{ last_value: string; is_called: boolean }>(
    'SELECT last_value, is_called FROM mz_emulator.swap_attempts'
  )
  return row!.is_called ? Number(row!.last_value) : 0
}

// --- waiting for a moment in a run ----------------------------------------------------------

/** Watches a run's output (pass `onLine` to the run) for its first report of green's hydration. */
export interface HydrationWatch {
  onLine: (line: string) => void
  /** Resolves when the action, polling in its hydration wait, first reports green's progress. */
  polling: Promise<void>
}

export function hydrationWatch(): HydrationWatch {
  let inAwait = false
  let polled!: () => void
  const polling = new Promise<void>((resolve) => (polled = resolve))
  return {
    polling,
    onLine(line) {
      if (line === '::group::Await hydration') inAwait = true
      else if (inAwait && progressOf(line, GREEN_CLUSTER).length > 0) polled()
    }
  }
}

/** Green was built never hydrating (see `scriptHydration`): lets its objects hydrate now. */
export async function releaseGreen(emulator: Emulator): Promise<void> {
  for (const name of ['order_totals', 'order_totals_customer_id_idx'])
    await emulator.control.scriptObject(`${GREEN_SCHEMA}.${name}`, { neverHydrates: false })
}

/** Resolves once the run in `ws` polls in its hydration wait; returns the action's pid. */
export async function inHydrationWait(
  run: Promise<ActionRun>,
  watch: HydrationWatch,
  ws: Workspace
): Promise<number> {
  const ended = run.then((result) => {
    throw new Error(
      `the run ended (exit ${result.exitCode}) before its hydration wait:\n${result.stdout.slice(-4000)}`
    )
  })
  await Promise.race([watch.polling, ended])
  const pid = actionPid(ws.dir)
  if (pid === undefined) throw new Error(`no action process runs in ${ws.dir}`)
  return pid
}

// Shared vocabulary of the blue/green e2e tests: one Materialize emulator per test file (on a
// PostgreSQL whose password is the canary), the production the deploys start from, inputs,
// looks at what really exists in Materialize and S3, and the action's process while it runs.
import { afterAll, afterEach, beforeAll, expect } from '@jest/globals'
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import pg from 'pg'
import { startEmulator, type Emulator } from '../../../dev/emulator/index.js'
import { startPostgres, type PostgresServer } from '../../../dev/postgres.js'
import { CANARY_PASSWORD, dbtBinary, fixturesDir, venvBin } from './paths.js'
import { actionPid } from './processes.js'
import { pushEvent, runAction, type ActionRun, type GitHubEvent } from './runner.js'
import { createBucket, s3Endpoint, type StoredObject } from './s3.js'
import { TOKEN, expectCanaryHidden } from './slim.js'
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

// --- the emulator ----------------------------------------------------------------------------

export interface BlueGreenWarehouse {
  emulator: Emulator
  /** What the fixture profile reads: MZ_HOST/MZ_PORT/MZ_USER and the secret password. */
  env: Record<string, string>
  stop(): Promise<void>
}

/** An emulator whose password is the canary (by default), so every run also proves the action masks it. */
export async function startWarehouse(password = CANARY_PASSWORD): Promise<BlueGreenWarehouse> {
  const postgres: PostgresServer = await startPostgres({
    user: 'materialize',
    password,
    settings: { client_connection_check_interval: '1000' }
  })
  try {
    const emulator = await startEmulator({ postgres })
    return {
      emulator,
      env: {
        MZ_HOST: emulator.host,
        MZ_PORT: String(emulator.port),
        MZ_USER: emulator.user,
        DBT_ENV_SECRET_MZ_PASSWORD: emulator.password
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

/** Hydration of indexes and materialized views created from now on. */
export async function scriptHydration(
  emulator: Emulator,
  delaySeconds: number,
  neverHydrates = false
): Promise<void> {
  await emulator.control.setDefaultHydration({ delaySeconds, lagSeconds: 0, neverHydrates })
}

/** Runs SQL through the emulator, as a Materialize client would. */
export async function sql<Row extends pg.QueryResultRow>(
  emulator: Emulator,
  text: string
): Promise<Row[]> {
  const client = new pg.Client({ connectionString: emulator.url() })
  await client.connect()
  try {
    return (await client.query<Row>(text)).rows
  } finally {
    await client.end()
  }
}

// --- dbt by hand, to build production before any blue/green run -------------------------------

interface DbtResult {
  code: number | null
  output: string
}

function runDbt(dir: string, env: Record<string, string>, args: string[]): Promise<DbtResult> {
  const fullEnv = {
    PATH: `${venvBin}:/usr/local/bin:/usr/bin:/bin`,
    HOME: dir,
    DBT_PROFILES_DIR: dir,
    DBT_SEND_ANONYMOUS_USAGE_STATS: 'false',
    DBT_USE_COLORS: 'false',
    ...env
  }
  // Never synchronously: the emulator's proxy lives in this process's event loop.
  return new Promise((resolve, reject) => {
    const child = spawn(dbtBinary, args, { cwd: dir, env: fullEnv })
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
 * Production as a team has it before adopting blue/green: the cluster created by hand, the
 * seed loaded and `dbt run` on the workspace's HEAD (in a scratch clone, so the workspace
 * itself stays untouched).
 */
export async function buildProduction(warehouse: BlueGreenWarehouse, ws: Workspace) {
  await sql(warehouse.emulator, `CREATE CLUSTER ${PROD_CLUSTER} (SIZE = '25cc')`)
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
  /** The warehouse's emulator. */
  readonly emulator: Emulator
  readonly ws: Workspace
  readonly bucket: string
  /** `runBlueGreen` on the suite's warehouse and bucket; the suite awaits it after the test. */
  run: (inputs?: Record<string, string>, options?: BlueGreenRunOptions) => Promise<ActionRun>
}

export interface BlueGreenSuiteOptions {
  /** The emulator's password; default the canary. */
  password?: string
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
    get emulator() {
      return suite.warehouse.emulator
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
    warehouse = await startWarehouse(options.password)
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
export async function placement(emulator: Emulator): Promise<Record<string, Placed>> {
  const rows = await sql<{ key: string; id: string; cluster: string | null }>(
    emulator,
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

export async function clusterIds(emulator: Emulator): Promise<Record<string, string>> {
  const rows = await sql<{ name: string; id: string }>(
    emulator,
    `SELECT name, id FROM mz_catalog.mz_clusters WHERE id LIKE 'u%'`
  )
  return Object.fromEntries(rows.map((r) => [r.name, r.id]))
}

/** Green schemas and clusters that exist right now, e.g. `['cluster analytics_dbt_deploy']`. */
export async function greenLeftovers(emulator: Emulator): Promise<string[]> {
  const rows = await sql<{ what: string }>(
    emulator,
    `SELECT 'schema ' || name AS what FROM mz_catalog.mz_schemas WHERE name LIKE '%\\_dbt\\_deploy'
     UNION ALL
     SELECT 'cluster ' || name FROM mz_catalog.mz_clusters WHERE name LIKE '%\\_dbt\\_deploy'
     ORDER BY 1`
  )
  return rows.map((r) => r.what)
}

/** What `<schema>.release` answers, or undefined when there is no such view. */
export async function releaseIn(emulator: Emulator, schema: string): Promise<string | undefined> {
  const exists = await sql<{ n: string }>(
    emulator,
    `SELECT count(*) AS n FROM mz_catalog.mz_objects o
       JOIN mz_catalog.mz_schemas s ON s.id = o.schema_id
      WHERE s.name = '${schema}' AND o.name = 'release'`
  )
  if (exists[0]?.n === '0') return undefined
  const rows = await sql<{ version: string }>(emulator, `SELECT version FROM ${schema}.release`)
  return rows.map((r) => r.version).join(',')
}

/** Production at a glance: the release it serves, its objects and the cluster ids. */
export interface ProductionSnapshot {
  release: string | undefined
  objects: Record<string, Placed>
  clusters: Record<string, string>
}

export async function production(emulator: Emulator): Promise<ProductionSnapshot> {
  const clusters = Object.entries(await clusterIds(emulator))
  return {
    release: await releaseIn(emulator, PROD_SCHEMA),
    objects: objectsIn(await placement(emulator), PROD_SCHEMA),
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

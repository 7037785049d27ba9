// The warehouses the slim scenarios run on, for `describe.each`: dbt-postgres on the e2e
// PostgreSQL, and dbt-materialize on the Materialize emulator, or on a real Materialize when
// E2E_MATERIALIZE_URL is set (see global-setup). Each backend gets its own PR numbers and
// production schemas, so the two never see each other's objects.
import { describe, expect, it } from '@jest/globals'
import { appendFileSync } from 'node:fs'
import path from 'node:path'
import { materialize, postgres, quoteIdent, type Warehouse } from './warehouse.js'

export type TargetName = 'pg' | 'mz'

export interface Backend {
  /** The fixture profile's target (profiles.yml). */
  target: TargetName
  /** The dbt adapter the target uses (a manifest's `metadata.adapter_type`). */
  adapter: 'postgres' | 'materialize'
  warehouse: Warehouse
  /** PR number `n` of a scenario becomes `n + prOffset` on this backend. */
  prOffset: number
  /** The production schema for a test file's base name (E2E_PROD_SCHEMA). */
  prodSchema(base: string): string
  /** Creates what a PR build needs before dbt runs: on Materialize, the PR's cluster. */
  preparePrEnvironment(environment: string): Promise<void>
  /** Drops these schemas and clusters if an earlier run left them (exact names only). */
  dropLeftovers(names: string[]): Promise<void>
}

/** True when global-setup connected to a real Materialize instead of starting the emulator. */
export function onRealMaterialize(): boolean {
  return process.env.E2E_MZ_KIND === 'materialize'
}

/**
 * Exact names, never prefixes: other test files build in `analytics_*` schemas of the same
 * server, possibly at the same time.
 */
async function dropExactly(warehouse: Warehouse, names: string[]): Promise<void> {
  for (const name of names) {
    if ((await warehouse.schemasStartingWith(name)).includes(name))
      await warehouse.execute(`drop schema ${quoteIdent(name)} cascade`)
    if ((await warehouse.clustersStartingWith(name)).includes(name))
      await warehouse.execute(`drop cluster ${quoteIdent(name)} cascade`)
  }
}

const postgresBackend: Backend = {
  target: 'pg',
  adapter: 'postgres',
  warehouse: postgres,
  prOffset: 0,
  prodSchema: (base) => base,
  preparePrEnvironment: async () => undefined, // a schema is all a PR needs; dbt creates it
  dropLeftovers: (names) => dropExactly(postgres, names)
}

/**
 * A PR build on Materialize runs on its own cluster, named like the PR environment (the
 * profile routes `cluster` by DBT_PR_ENVIRONMENT), so teardown has a cluster to drop. It
 * copies the size of `quickstart`, which the emulator and Materialize both bootstrap, so no
 * size name is hard-coded that one of them would refuse.
 */
async function createPrCluster(environment: string): Promise<void> {
  if ((await materialize.clustersStartingWith(environment)).includes(environment)) return
  const [quickstart] = await materialize.query<{ size: string }>(
    `select size from mz_catalog.mz_clusters where name = 'quickstart'`
  )
  if (!quickstart) throw new Error('Materialize has no "quickstart" cluster to copy a size from')
  await materialize.execute(
    `create cluster ${quoteIdent(environment)} (size = '${quickstart.size.replace(/'/g, "''")}')`
  )
}

const materializeBackend: Backend = {
  target: 'mz',
  adapter: 'materialize',
  warehouse: materialize,
  prOffset: 200, // pr_301…: clear of every PR number the PostgreSQL-only files use
  prodSchema: (base) => `${base}_mz`,
  preparePrEnvironment: createPrCluster,
  dropLeftovers: (names) => dropExactly(materialize, names)
}

/** `[label, backend]` rows for `describe.each`. */
export function slimBackends(): Array<[string, Backend]> {
  const materializeLabel = onRealMaterialize() ? 'real Materialize' : 'the Materialize emulator'
  return [
    ['PostgreSQL (dbt-postgres)', postgresBackend],
    [`${materializeLabel} (dbt-materialize)`, materializeBackend]
  ]
}

type TestBody = Parameters<typeof it>[1]

/** In the suite's temp root: one line per emulator-only test or check a real Materialize skipped. */
const SKIPPED_ON_REAL_MATERIALIZE = 'skipped-on-real-materialize.txt'

/** Writes down a skip for global-teardown to print, so no skip can pass unnoticed for a pass. */
function recordSkip(what: string, reason: string): void {
  const root = process.env.E2E_TMP_ROOT
  if (root === undefined)
    throw new Error('E2E_TMP_ROOT is not set: is the e2e global setup running?')
  const file = path.relative(process.cwd(), expect.getState().testPath ?? '?')
  appendFileSync(path.join(root, SKIPPED_ON_REAL_MATERIALIZE), `${file}: ${what} (${reason})\n`)
}

const skippedName = (name: string, reason: string): string =>
  `${name} [emulator only, skipped on real Materialize: ${reason}]`

/**
 * `it` for a test that needs what only dev/emulator has: a fault or a script through its
 * control API, or a password of the test's choosing. On a real Materialize (E2E_MATERIALIZE_URL)
 * the test is skipped with `reason` in its name and listed at the end of the run.
 */
export function emulatorOnly(reason: string) {
  return (name: string, body: TestBody, timeout?: number): void => {
    if (!onRealMaterialize()) return it(name, body, timeout)
    recordSkip(name, reason)
    it.skip(skippedName(name, reason), body, timeout)
  }
}

/** `describe` for a group of tests that all need the emulator (see emulatorOnly). */
export function describeEmulatorOnly(reason: string) {
  return (name: string, body: () => void): void => {
    if (!onRealMaterialize()) return describe(name, body)
    recordSkip(`every test of "${name}"`, reason)
    describe.skip(skippedName(name, reason), body)
  }
}

/**
 * Assertions inside a test that runs on both, which only hold where the emulator scripts what
 * they check (e.g. a hydration delay): on a real Materialize they are skipped and listed.
 */
export async function emulatorOnlyChecks(
  reason: string,
  checks: () => void | Promise<void>
): Promise<void> {
  if (!onRealMaterialize()) return checks()
  recordSkip(`some checks of "${expect.getState().currentTestName ?? '?'}"`, reason)
}

/**
 * emulatorOnly for a test that runs on every backend of `slimBackends()`: on PostgreSQL it
 * always runs; only the real Materialize row skips it.
 */
export function itUnlessRealMaterialize(backend: Backend, reason: string) {
  return backend.target === 'mz' ? emulatorOnly(reason) : it
}

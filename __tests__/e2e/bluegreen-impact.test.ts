// The cutover impact guard and plan (issue 9, "Tests must show" 2 and 8), in order on one
// emulator (or the real Materialize), workspace and bucket: a view outside the deployment reads a production
// materialized view; the drop of the previous production must not take it along unless
// "allow-dependents" names it; the plan is in the summary and the `plan` output, and a dry run
// of a promote prints it and changes nothing.
import { describe, expect, it, jest } from '@jest/globals'
import { emulatorOnlyChecks } from './support/backends.js'
import {
  GREEN_CLUSTER,
  GREEN_SCHEMA,
  KEYS,
  PROD_CLUSTER,
  PROD_SCHEMA,
  blueGreenTarget,
  errorText,
  expectOutputs,
  greenLeftovers,
  objectsIn,
  placement,
  production,
  releaseIn,
  releaseModel,
  sql,
  swapAttempts,
  useBlueGreenSuite
} from './support/bluegreen.js'
import { startGitHubStub } from '../../dev/github-stub.js'
import { pullRequestEvent, type ActionRun } from './support/runner.js'
import { getObject, listKeys } from './support/s3.js'
import { expectExit } from './support/slim.js'

jest.setTimeout(900_000) // a bound for hung tests only: runs take minutes on a loaded machine

const VIEW = 'materialize.reporting.big_customers'
const PREVIOUS_KEY = 'prod/previous.json'

interface PlannedObject {
  name: string
  type: string
  cluster: string | null
  reason: string
}

interface Plan {
  dryRun: boolean
  swap: string[]
  sinks: unknown[]
  previous: { action: string; statements: string[]; blockedBy: string[]; accepted: string[] }
  dependents: PlannedObject[]
  sourcesAndTables: PlannedObject[]
  subscriptions: number
}

function planOf(run: ActionRun): Plan {
  return JSON.parse(run.outputs.plan ?? 'null') as Plan
}

const SWAP = [
  'BEGIN',
  `ALTER SCHEMA "${PROD_SCHEMA}" SWAP WITH "${GREEN_SCHEMA}"`,
  `ALTER CLUSTER "${PROD_CLUSTER}" SWAP WITH "${GREEN_CLUSTER}"`,
  'COMMIT'
]

describe(`the cutover impact guard and plan on ${blueGreenTarget()}`, () => {
  const suite = useBlueGreenSuite('bg-impact')
  const { run } = suite

  /** A view in a schema outside the deployment, reading production's materialized view. */
  async function createReportingView(): Promise<void> {
    // One statement per message: Materialize refuses DDL mixed in one implicit transaction.
    await sql(suite.mz, 'CREATE SCHEMA IF NOT EXISTS reporting')
    await sql(
      suite.mz,
      `CREATE VIEW reporting.big_customers AS
         SELECT customer_id FROM ${PROD_SCHEMA}.order_totals WHERE order_count > 0`
    )
  }

  async function reportingRows(): Promise<number> {
    const rows = await sql<{ n: string }>(
      suite.mz,
      'SELECT count(*) AS n FROM reporting.big_customers'
    )
    return Number(rows[0]!.n)
  }

  async function reportingViewExists(): Promise<boolean> {
    const rows = await sql(
      suite.mz,
      `SELECT 1 FROM mz_catalog.mz_views v JOIN mz_catalog.mz_schemas s ON s.id = v.schema_id
        WHERE s.name = 'reporting' AND v.name = 'big_customers'`
    )
    return rows.length === 1
  }

  it('2/8. a view outside the deployment on a production MV blocks "Drop previous production"; the plan names it', async () => {
    const mz = suite.mz
    await createReportingView()
    const rowsBefore = await reportingRows()
    expect(rowsBefore).toBeGreaterThan(0)
    const sha = suite.ws.commit('Release v2', releaseModel('v2'))

    const result = await run({ 'run-tests': 'false' })

    expectExit(result, 1)
    expectOutputs(result, { status: 'failed', promoted: 'true' })
    // The error names the view, keeps the previous production and says how to finish.
    const error = errorText(result)
    expect(error).toContain(VIEW)
    expect(error).toContain('The previous production is kept')
    expect(error).toContain('"phase: cleanup"')
    expect(error).toContain(`"allow-dependents: ${VIEW}"`)
    // The view still exists, still answers, and reads the previous production.
    expect(await reportingViewExists()).toBe(true)
    expect(await reportingRows()).toBe(rowsBefore)
    expect(await releaseIn(mz, PROD_SCHEMA)).toBe('v2')
    expect(await releaseIn(mz, GREEN_SCHEMA)).toBe('v1')
    // The promote itself finished: the manifest is published, the previous recorded as kept.
    expect((await getObject(suite.bucket, KEYS.manifest))?.metadata['git-sha']).toBe(sha)
    const keys = await listKeys(suite.bucket)
    expect(keys).toContain(PREVIOUS_KEY)
    expect(keys).not.toContain(KEYS.lock)

    // The plan: the swap, what the drop would have taken, and the dependent before the swap.
    const plan = planOf(result)
    expect(plan.swap).toEqual(SWAP)
    expect(plan.dryRun).toBe(false)
    expect(plan.previous).toMatchObject({ action: 'keep', blockedBy: [VIEW], accepted: [] })
    expect(plan.dependents).toEqual([
      {
        name: VIEW,
        type: 'view',
        cluster: null,
        reason: `reads materialize.${PROD_SCHEMA}.order_totals`
      }
    ])
    expect(plan.subscriptions).toBe(0)
    expect(result.summary).toContain('### Cutover plan')
    expect(result.summary).toContain(`ALTER SCHEMA "${PROD_SCHEMA}" SWAP WITH "${GREEN_SCHEMA}";`)
    expect(result.summary).toContain(VIEW)
  })

  it('2. "allow-dependents" naming the view lets the drop of the previous production take it', async () => {
    const mz = suite.mz
    // Back to a clean start: the kept previous dropped (the view with it, by hand first), and
    // the view recreated on the current production.
    await sql(mz, 'DROP VIEW reporting.big_customers')
    expectExit(await run({ phase: 'cleanup' }), 0)
    await createReportingView()
    suite.ws.commit('Release v3', releaseModel('v3'))

    const result = await run({ 'run-tests': 'false', 'allow-dependents': VIEW })

    expectExit(result, 0)
    expectOutputs(result, { status: 'promoted', promoted: 'true' })
    expect(await releaseIn(mz, PROD_SCHEMA)).toBe('v3')
    expect(await greenLeftovers(mz)).toEqual([])
    expect(await reportingViewExists()).toBe(false)
    expect(planOf(result).previous).toMatchObject({ blockedBy: [], accepted: [VIEW] })
    expect(result.summary).toContain('"allow-dependents"')
    expect(await listKeys(suite.bucket)).not.toContain(PREVIOUS_KEY)
  })

  it('8. a deploy staged from a PR shows the plan in its comment; dry-run on phase promote prints it and changes nothing', async () => {
    const mz = suite.mz
    suite.ws.commit('Release v4', releaseModel('v4'))
    const github = await startGitHubStub()
    const deployed = await run(
      { phase: 'deploy', 'run-tests': 'false' },
      {
        apiUrl: github.url,
        event: pullRequestEvent({ number: 48, action: 'synchronize', headSha: suite.ws.sha() })
      }
    ).finally(() => github.stop())
    expectExit(deployed, 0)
    expectOutputs(deployed, { status: 'staged', promoted: 'false' })
    expect(planOf(deployed)).toMatchObject({ dryRun: false, swap: SWAP, sinks: [] })
    const [comment, ...others] = github.comments()
    expect(others).toEqual([])
    expect(comment!.body).toContain('### Cutover plan')
    expect(comment!.body).toContain(`ALTER SCHEMA "${PROD_SCHEMA}" SWAP WITH "${GREEN_SCHEMA}";`)
    expect(comment!.body).toContain('No object outside the deployment reads production.')
    expect(deployed.summary).toContain('### Cutover plan')
    const productionBefore = await production(mz)
    const greenBefore = objectsIn(await placement(mz), GREEN_SCHEMA)
    const emulator = suite.warehouse.emulator
    const swapsBefore = emulator && (await swapAttempts(emulator))
    const keysBefore = await listKeys(suite.bucket)
    const etags = async (keys: string[]) =>
      Promise.all(keys.map(async (key) => [key, (await getObject(suite.bucket, key))?.etag]))
    const etagsBefore = await etags(keysBefore)

    const result = await run({ phase: 'promote', 'dry-run': 'true' })

    expectExit(result, 0)
    expectOutputs(result, { status: 'planned', promoted: 'false' })
    const plan = planOf(result)
    expect(plan).toMatchObject({ dryRun: true, swap: SWAP, sinks: [], dependents: [] })
    expect(plan.previous).toMatchObject({ action: 'drop', blockedBy: [], accepted: [] })
    // Printed in the log and the summary.
    expect(result.stdout).toContain(`ALTER CLUSTER "${PROD_CLUSTER}" SWAP WITH "${GREEN_CLUSTER}";`)
    expect(result.stdout).toContain(`DROP SCHEMA IF EXISTS "${GREEN_SCHEMA}" CASCADE;`)
    expect(result.summary).toContain('### Cutover plan')
    expect(result.summary).toContain('**Dry run**')
    // Nothing changed: production, green, the swap counter and every S3 object.
    expect(await production(mz)).toEqual(productionBefore)
    expect(await releaseIn(mz, GREEN_SCHEMA)).toBe('v4')
    expect(objectsIn(await placement(mz), GREEN_SCHEMA)).toEqual(greenBefore)
    await emulatorOnlyChecks('only the emulator counts swap attempts', async () =>
      expect(await swapAttempts(suite.emulator)).toBe(swapsBefore)
    )
    expect(await listKeys(suite.bucket)).toEqual(keysBefore)
    expect(await etags(keysBefore)).toEqual(etagsBefore)
  })

  it('a PR environment built on the production cluster refuses the deploy before deploy_init', async () => {
    const mz = suite.mz
    expectExit(await run({ phase: 'cleanup' }), 0)
    await sql(mz, 'CREATE SCHEMA pr_7')
    await sql(
      mz,
      `CREATE MATERIALIZED VIEW pr_7.order_totals IN CLUSTER ${PROD_CLUSTER} AS SELECT 1 AS n`
    )
    const before = await production(mz)
    const keysBefore = await listKeys(suite.bucket)
    suite.ws.commit('Release v5', releaseModel('v5'))

    const result = await run({ 'run-tests': 'false' })

    expectExit(result, 1)
    expectOutputs(result, { status: 'failed', deployed: 'false', promoted: 'false' })
    expect(errorText(result)).toMatch(
      /pull request environments on a production cluster.*materialize\.pr_7\.order_totals/
    )
    expect(result.stdout).not.toContain('::group::deploy_init')
    expect(await greenLeftovers(mz)).toEqual([])
    expect(await production(mz)).toEqual(before)
    expect(await listKeys(suite.bucket)).toEqual(keysBefore)
    await sql(mz, 'DROP SCHEMA pr_7 CASCADE')
  })
})

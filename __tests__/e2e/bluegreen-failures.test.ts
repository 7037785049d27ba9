// What must never reach production (issue 4, "Tests must show" 3, 4, 5 and 8): a failing dbt
// test, a stalled or failing cluster, swap conflicts, a cancelled or killed run. One emulator
// (or the real Materialize), one workspace, one bucket; production starts at release v1 and
// each test commits its own. All but the failing dbt test need a fault only the emulator has.
import { describe, expect, it, jest } from '@jest/globals'
import { startGitHubStub } from '../../dev/github-stub.js'
import { freePort } from '../../dev/net.js'
import { emulatorOnly } from './support/backends.js'
import {
  GREEN_CLUSTER,
  GREEN_SCHEMA,
  KEYS,
  blueGreenTarget,
  brokenReleaseModel,
  clusterIds,
  errorText,
  expectOutputs,
  greenLeftovers,
  hydrationWatch,
  inHydrationWait,
  objectsIn,
  placement,
  production,
  releaseIn,
  releaseGreen,
  releaseModel,
  scriptHydration,
  swapAttempts,
  useBlueGreenSuite,
  type ProductionSnapshot
} from './support/bluegreen.js'
import { duringRun } from './support/processes.js'
import { runPost, type ActionRun } from './support/runner.js'
import { getObject, listKeys } from './support/s3.js'
import { annotationsOf, errors, expectCanaryHidden, expectExit } from './support/slim.js'

// A bound for hung tests only: each test runs one to three blue/green runs, each slow on a
// loaded machine (see BLUE_GREEN_RUN_TIMEOUT_MS).
jest.setTimeout(1_200_000)

describe(`blue/green failures on ${blueGreenTarget()}`, () => {
  // A test that fails midway must not leave swap faults to the next test.
  const suite = useBlueGreenSuite('bg-failures', {
    afterEach: async ({ warehouse }) => warehouse.emulator?.control.failNextSwaps(0)
  })
  const { run } = suite
  const TIMED_OUT = /timed? ?out|await-timeout/i

  interface Snapshot {
    production: ProductionSnapshot
    keys: string[]
  }

  async function snapshot(): Promise<Snapshot> {
    return {
      production: await production(suite.mz),
      keys: await listKeys(suite.bucket)
    }
  }

  /** A run whose first drop of green's schema loses its connection mid-statement. */
  async function runCuttingGreenDrop(): Promise<ActionRun> {
    const { control } = suite.emulator
    control.dropConnectionOnNextQuery(new RegExp(`drop schema if exists "${GREEN_SCHEMA}"`))
    try {
      return await run()
    } finally {
      control.dropConnectionOnNextQuery(undefined)
    }
  }

  /** The run promoted `release` on a connection it had to open again. */
  async function expectPromotedAfterReconnect(result: ActionRun, release: string): Promise<void> {
    expectExit(result, 0)
    expectOutputs(result, { status: 'promoted', promoted: 'true' })
    expect(result.stdout).toContain('Reconnecting to Materialize.')
    expect(await releaseIn(suite.emulator, 'prod')).toBe(release)
  }

  /** A failed run that left production and S3 as they were, green dropped, no lock. */
  async function expectCleanFailure(result: ActionRun, before: Snapshot): Promise<void> {
    expectExit(result, 1)
    expectOutputs(result, { status: 'failed', promoted: 'false' })
    expect(await snapshot()).toEqual(before)
    expect(await greenLeftovers(suite.mz)).toEqual([])
  }

  it('3. a failing dbt test blocks promotion: production unchanged, green dropped', async () => {
    const before = await snapshot()
    expect(before.production.release).toBe('v1')
    suite.ws.commit('Duplicate the release row', brokenReleaseModel('v-broken'))
    await scriptHydration(suite.warehouse, 0)

    const result = await run()
    await expectCleanFailure(result, before)
    expect(result.outputs.deployed).not.toBe('true')
    expect(`${errorText(result)}\n${result.stdout}`).toMatch(/unique_release_version/)
  })

  emulatorOnly('a green that never hydrates is scripted through the control API')(
    '4. a stalled hydration hits await-timeout, naming the cluster and its progress',
    async () => {
      const before = await snapshot()
      suite.ws.commit('Release v-stalled', releaseModel('v-stalled'))
      await scriptHydration(suite.warehouse, 0, true)

      const result = await run({ 'await-timeout': '5s', 'run-tests': 'false' })
      await expectCleanFailure(result, before)
      const message = errorText(result)
      const progress = new RegExp(`${GREEN_CLUSTER}\\D*?(\\d+)\\s*/\\s*(\\d+)`).exec(message)
      expect(progress).not.toBeNull()
      expect(Number(progress![1])).toBeLessThan(Number(progress![2]))
      expect(message).toMatch(TIMED_OUT)
    }
  )

  /**
   * Starts a run whose green never hydrates and whose hydration wait would last far beyond
   * this test, breaks green's cluster once it exists, and awaits the run.
   */
  async function failGreenCluster(
    breakIt: () => Promise<void>,
    inputs: Record<string, string> = {}
  ): Promise<ActionRun> {
    await scriptHydration(suite.warehouse, 0, true)
    const pending = run({ 'await-timeout': '6h', 'run-tests': 'false', ...inputs })
    await duringRun(pending, 'the green cluster', async () => {
      return GREEN_CLUSTER in (await clusterIds(suite.emulator))
    })
    await breakIt()
    return pending
  }

  emulatorOnly('OOM kills are injected through the control API')(
    '4. a cluster with OOM-killed replicas fails fast, well before the timeout',
    async () => {
      const before = await snapshot()
      const result = await failGreenCluster(() =>
        suite.emulator.control.failReplicas(GREEN_CLUSTER, 3)
      )
      await expectCleanFailure(result, before)
      expect(errorText(result)).toContain(GREEN_CLUSTER)
      expect(errorText(result)).toMatch(/oom|problematic/i)
      expect(errorText(result)).not.toMatch(TIMED_OUT)
    }
  )

  emulatorOnly('holds green unhydrated and removes its replicas through the control API')(
    '4. a cluster without replicas fails after "replica-grace", not before, well before the timeout',
    async () => {
      const before = await snapshot()
      const result = await failGreenCluster(
        () => suite.emulator.control.setReplicationFactor(GREEN_CLUSTER, 0),
        { 'replica-grace': '3s' }
      )
      await expectCleanFailure(result, before)
      // First seen without a replica: waited for, with the reason; then failed with it.
      const waited = result.stdout.indexOf('no replica yet; fails after 3 s ("replica-grace")')
      expect(waited).toBeGreaterThan(-1)
      expect(result.stdout.indexOf('Green cannot become ready')).toBeGreaterThan(waited)
      expect(errorText(result)).toContain(GREEN_CLUSTER)
      expect(errorText(result)).toContain('no replica for 3 s ("replica-grace")')
      expect(errorText(result)).not.toMatch(TIMED_OUT)
    }
  )

  emulatorOnly('serialization failures on the swap are injected through the control API')(
    '5. a one-off 40001 on the swap is retried and the promote succeeds',
    async () => {
      suite.ws.commit('Release v5', releaseModel('v5'))
      await scriptHydration(suite.warehouse, 0)
      await suite.emulator.control.failNextSwaps(1)
      const attemptsBefore = await swapAttempts(suite.emulator)

      const result = await run({ 'run-tests': 'false' })
      expectExit(result, 0)
      expectOutputs(result, { status: 'promoted', promoted: 'true' })
      expect((await swapAttempts(suite.emulator)) - attemptsBefore).toBe(2)
      expect(await releaseIn(suite.emulator, 'prod')).toBe('v5')
      expect(await greenLeftovers(suite.emulator)).toEqual([])
      expect(await listKeys(suite.bucket)).toContain(KEYS.manifest)
      expect(await listKeys(suite.bucket)).not.toContain(KEYS.lock)
    }
  )

  emulatorOnly('serialization failures on the swap are injected through the control API')(
    '5. a persistent 40001 fails cleanly: production and green exactly as before the swap',
    async () => {
      const emulator = suite.emulator
      const before = await production(emulator)
      const manifestBefore = await getObject(suite.bucket, KEYS.manifest)
      suite.ws.commit('Release v6', releaseModel('v6'))
      await scriptHydration(suite.warehouse, 0)
      await emulator.control.failNextSwaps(10)
      const attemptsBefore = await swapAttempts(emulator)

      const inputs = { 'run-tests': 'false', 'swap-retries': '1', 'cleanup-on-failure': 'false' }
      const result = await run(inputs)
      expectExit(result, 1)
      expectOutputs(result, { status: 'failed', promoted: 'false' })
      expect((await swapAttempts(emulator)) - attemptsBefore).toBe(2) // one try, one retry
      expect(await production(emulator)).toEqual(before)
      // Green is whole and unswapped: the new release, its objects in the green cluster.
      expect(await releaseIn(emulator, GREEN_SCHEMA)).toBe('v6')
      const green = objectsIn(await placement(emulator), GREEN_SCHEMA)
      expect(green.order_totals?.cluster).toBe(GREEN_CLUSTER)
      expect(green.order_totals_customer_id_idx?.cluster).toBe(GREEN_CLUSTER)
      expect((await getObject(suite.bucket, KEYS.manifest))?.etag).toBe(manifestBefore?.etag)
      expect(await listKeys(suite.bucket)).not.toContain(KEYS.lock)

      // Kept for inspection (cleanup-on-failure: false); phase cleanup drops it.
      await emulator.control.failNextSwaps(0)
      const cleaned = await run({ phase: 'cleanup' })
      expectExit(cleaned, 0)
      expect(cleaned.outputs.status).toBe('cleaned-up')
      expect(await greenLeftovers(emulator)).toEqual([])
      expect(await production(emulator)).toEqual(before)
    }
  )

  emulatorOnly('holds green in the hydration wait and cuts connections through the control API')(
    'a connection dropped between two steps (in the hydration wait) is opened again and the run completes',
    async () => {
      suite.ws.commit('Release v-reconnect', releaseModel('v-reconnect'))
      await scriptHydration(suite.warehouse, 0, true)
      const watch = hydrationWatch()
      const pending = run({ 'await-timeout': '6h', 'run-tests': 'false' }, { onLine: watch.onLine })
      await inHydrationWait(pending, watch, suite.ws)
      // dbt is not running now: this cuts only the action's own connection.
      suite.emulator.control.dropConnections()
      await releaseGreen(suite.emulator)
      await expectPromotedAfterReconnect(await pending, 'v-reconnect')
      expect(await greenLeftovers(suite.emulator)).toEqual([])
    }
  )

  emulatorOnly('locks the emulated catalog through the control API')(
    'a catalog read that outlives statement-timeout is given up, the connection reopened, and the run completes',
    async () => {
      suite.ws.commit('Release v-statement-timeout', releaseModel('v-statement-timeout'))
      await scriptHydration(suite.warehouse, 0, true)
      const watch = hydrationWatch()
      let sawTimeout!: () => void
      const timedOut = new Promise<void>((resolve) => (sawTimeout = resolve))
      const onLine = (line: string): void => {
        watch.onLine(line)
        if (line.includes('longer than "statement-timeout"')) sawTimeout()
      }
      const pending = run(
        { 'await-timeout': '6h', 'run-tests': 'false', 'statement-timeout': '30s' },
        { onLine }
      )
      await inHydrationWait(pending, watch, suite.ws)
      // Every catalog read now waits on the lock, as on an overloaded catalog server.
      const control = suite.emulator.control
      await control.query('BEGIN')
      await control.query('LOCK TABLE mz_emulator.items IN ACCESS EXCLUSIVE MODE')
      try {
        await Promise.race([
          timedOut,
          pending.then(() => {
            throw new Error('the run ended while the catalog was locked')
          })
        ])
      } finally {
        await control.query('COMMIT')
      }
      await releaseGreen(suite.emulator)
      const result = await pending
      await expectPromotedAfterReconnect(result, 'v-statement-timeout')
      expect(annotationsOf(result, 'warning')).toMatch(
        /Readiness check failed \(retrying in [\d.]+ s\): A statement took longer than "statement-timeout"/
      )
    }
  )

  emulatorOnly('cuts a connection mid-statement through the control API')(
    "a connection cut during green's drop leaves green recorded, and the post step drops it",
    async () => {
      const emulator = suite.emulator
      const before = await production(emulator)
      suite.ws.commit('Release v-cut-drop', brokenReleaseModel('v-cut-drop'))
      await scriptHydration(suite.warehouse, 0)
      const main = await runCuttingGreenDrop()
      expectExit(main, 1) // the failing dbt test
      expect(annotationsOf(main, 'warning')).toMatch(/Could not undo green/)
      expect(await greenLeftovers(emulator)).toContain(`schema ${GREEN_SCHEMA}`)
      expect(await production(emulator)).toEqual(before)

      const post = await runPost(main)
      expectExit(post, 0)
      expectCanaryHidden(post)
      expect(post.stdout).toContain(`Dropped green`)
      expect(await greenLeftovers(emulator)).toEqual([])
      expect(await production(emulator)).toEqual(before)
    }
  )

  emulatorOnly('cuts a connection mid-statement through the control API')(
    'a connection cut while dropping the previous production: promoted and published, the run fails naming it, the next deploy drops what is left',
    async () => {
      const emulator = suite.emulator
      const sha = suite.ws.commit('Release v-cut-previous', releaseModel('v-cut-previous'))
      await scriptHydration(suite.warehouse, 0)
      // The first drop of a *_dbt_deploy schema in a clean run is the previous production's.
      const main = await runCuttingGreenDrop()
      expectExit(main, 1)
      expectOutputs(main, { status: 'failed', promoted: 'true' })
      expect(errorText(main)).toMatch(
        /Promoted: production runs the new release\. Dropping the previous production failed: .*recorded as the previous production; the next deploy drops it/
      )
      expect(await releaseIn(emulator, 'prod')).toBe('v-cut-previous')
      expect((await getObject(suite.bucket, KEYS.manifest))?.metadata['git-sha']).toBe(sha)
      expect(await greenLeftovers(emulator)).toContain(`schema ${GREEN_SCHEMA}`)
      expect(await listKeys(suite.bucket)).not.toContain(KEYS.lock)

      suite.ws.commit('Release v-after-cut', releaseModel('v-after-cut'))
      await scriptHydration(suite.warehouse, 0)
      const next = await run()
      expectExit(next, 0)
      expect(annotationsOf(next, 'notice')).toContain(
        'Dropped the previous production kept for rollback'
      )
      expect(await releaseIn(emulator, 'prod')).toBe('v-after-cut')
      expect(await greenLeftovers(emulator)).toEqual([])
    }
  )

  emulatorOnly('holds green in the hydration wait through the control API')(
    '8. SIGINT during the hydration wait: the action stops waiting, releases the lock and drops green',
    async () => {
      const before = await production(suite.emulator)
      const sha = suite.ws.commit('Release v7', releaseModel('v7'))
      await scriptHydration(suite.warehouse, 0, true)
      const watch = hydrationWatch()
      const github = await startGitHubStub()
      const pending = run(
        { 'await-timeout': '6h', 'run-tests': 'false' },
        { onLine: watch.onLine, apiUrl: github.url }
      )
      const pid = await inHydrationWait(pending, watch, suite.ws)
      expect(await getObject(suite.bucket, KEYS.lock)).toBeDefined()

      process.kill(pid, 'SIGINT')
      const result = await pending
      await github.stop()
      // The hydration check and the deployment say that the run was cancelled.
      const check = github.checkRuns().find((c) => c.headSha === sha)
      expect(check).toMatchObject({ status: 'completed', conclusion: 'cancelled' })
      const statuses = github.deployments().at(-1)?.statuses ?? []
      expect(statuses.at(-1)?.state).toBe('failure')
      expect(statuses).toContainEqual(
        expect.objectContaining({ state: 'failure', description: 'The run was cancelled.' })
      )
      // It stopped on the signal: green never hydrates, so the wait alone would last hours.
      expect(result.timedOut).toBe(false)
      expect(result.exitCode).not.toBe(0)
      expect(result.stdout).not.toMatch(/deploy_promote/)
      expect(await getObject(suite.bucket, KEYS.lock)).toBeUndefined()
      expect(await greenLeftovers(suite.emulator)).toEqual([])
      expect(await production(suite.emulator)).toEqual(before)
    }
  )

  emulatorOnly('holds green in the hydration wait through the control API')(
    '8. after a hard kill the post step removes what main created, and only warns when it cannot',
    async () => {
      const emulator = suite.emulator
      const before = await production(emulator)
      suite.ws.commit('Release v8', releaseModel('v8'))
      await scriptHydration(suite.warehouse, 0, true)
      const watch = hydrationWatch()
      const pending = run({ 'await-timeout': '6h', 'run-tests': 'false' }, { onLine: watch.onLine })
      process.kill(await inHydrationWait(pending, watch, suite.ws), 'SIGKILL')
      const main = await pending
      expect(main.signal).toBe('SIGKILL')
      const created = [`cluster ${GREEN_CLUSTER}`, `schema ${GREEN_SCHEMA}`]
      expect(await greenLeftovers(emulator)).toEqual(created)
      expect(await getObject(suite.bucket, KEYS.lock)).toBeDefined()

      // Neither Materialize nor S3 reachable: the post step warns and succeeds.
      const deadPort = String(await freePort())
      const unreachable = await runPost(main, {
        inputs: {
          ...main.options.inputs,
          's3-endpoint': `http://127.0.0.1:${deadPort}`,
          's3-max-attempts': '1'
        },
        env: { ...suite.warehouse.env, MZ_PORT: deadPort }
      })
      expectExit(unreachable, 0)
      expectCanaryHidden(unreachable)
      expect(errors(unreachable)).toEqual([])
      expect(annotationsOf(unreachable, 'warning')).not.toBe('')
      expect(await greenLeftovers(emulator)).toEqual(created)

      const post = await runPost(main)
      expectExit(post, 0)
      expectCanaryHidden(post)
      expect(await greenLeftovers(emulator)).toEqual([])
      expect(await getObject(suite.bucket, KEYS.lock)).toBeUndefined()
      expect(await production(emulator)).toEqual(before)
    }
  )
})

// Cutover safety (issue 9, "Tests must show" 1 and 11): a failure right after the swap commits
// never drops the previous production, and a run that lost its deploy lock stops before the
// swap without touching what the new holder owns. One emulator, one workspace, one bucket;
// production starts at release v1.
import { expect, it, jest } from '@jest/globals'
import { describeEmulatorOnly } from './support/backends.js'
import {
  GREEN_CLUSTER,
  GREEN_SCHEMA,
  KEYS,
  PROD_CLUSTER,
  PROD_SCHEMA,
  blueGreenTarget,
  clusterIds,
  errorText,
  expectOutputs,
  greenLeftovers,
  hydrationWatch,
  inHydrationWait,
  objectsIn,
  placement,
  production,
  releaseGreen,
  releaseIn,
  releaseModel,
  scriptHydration,
  swapAttempts,
  useBlueGreenSuite,
  type Placed
} from './support/bluegreen.js'
import { runPost, type ActionRun } from './support/runner.js'
import { getObject, listKeys, putObject } from './support/s3.js'
import { expectExit } from './support/slim.js'

// A bound for hung tests only: each test runs two or three blue/green runs, each slow on a
// loaded machine (see BLUE_GREEN_RUN_TIMEOUT_MS).
jest.setTimeout(1_200_000)

const SWAP_RECORD = 'prod/swap.json'

/** Object ids by name: what a swap keeps, whatever cluster name the objects now sit on. */
const idsOf = (objects: Record<string, Placed>): Record<string, string> =>
  Object.fromEntries(Object.entries(objects).map(([name, placed]) => [name, placed.id]))

/** Both sides as they are now: production's and green's object ids, cluster ids and releases. */
async function sides(suite: ReturnType<typeof useBlueGreenSuite>) {
  const all = await placement(suite.emulator)
  const clusters = await clusterIds(suite.emulator)
  return {
    production: {
      release: await releaseIn(suite.emulator, PROD_SCHEMA),
      objects: idsOf(objectsIn(all, PROD_SCHEMA)),
      cluster: clusters[PROD_CLUSTER]
    },
    green: {
      release: await releaseIn(suite.emulator, GREEN_SCHEMA),
      objects: idsOf(objectsIn(all, GREEN_SCHEMA)),
      cluster: clusters[GREEN_CLUSTER]
    }
  }
}

describeEmulatorOnly(
  'holds green unhydrated and drops the connection right after the swap, through the control API'
)(`blue/green cutover safety on ${blueGreenTarget()}`, () => {
  // A test that fails midway must not leave the connection fault to the next one.
  const suite = useBlueGreenSuite('bg-cutover', {
    afterEach: ({ emulator }) =>
      Promise.resolve(emulator.control.dropConnectionAfterNextSwap(false))
  })
  const { run } = suite

  /**
   * Starts a deploy whose green never hydrates; resolves once it polls in its hydration wait,
   * with the run still going (wrapped, so that awaiting this does not await the run).
   */
  async function deployUntilHydrationWait(
    version: string,
    inputs: Record<string, string> = {}
  ): Promise<{ pending: Promise<ActionRun> }> {
    suite.ws.commit(`Release ${version}`, releaseModel(version))
    await scriptHydration(suite.warehouse, 0, true)
    const watch = hydrationWatch()
    const pending = run(
      { 'await-timeout': '6h', 'run-tests': 'false', ...inputs },
      { onLine: watch.onLine }
    )
    await inHydrationWait(pending, watch, suite.ws)
    return { pending }
  }

  it('11. a run whose deploy lock is taken over stops before the swap, leaves what the new holder owns, and says why', async () => {
    const emulator = suite.emulator
    const before = await production(emulator)
    const attemptsBefore = await swapAttempts(emulator)
    // Renewed every ~3 s, so the run notices the takeover soon after it happens.
    const { pending } = await deployUntilHydrationWait('v11', { 'lock-ttl': '10s' })
    const green = (await sides(suite)).green
    expect(green.release).toBe('v11')

    // Another run took the lease over (as after an expiry) while this one waits for hydration.
    const now = Date.now()
    const foreign = {
      owner: 'acme/other run 99 (all)',
      runUrl: 'https://github.com/acme/other/actions/runs/99',
      nonce: 'the-other-runs-nonce',
      acquiredAt: new Date(now).toISOString(),
      expiresAt: new Date(now + 3_600_000).toISOString()
    }
    const foreignEtag = await putObject(suite.bucket, KEYS.lock, JSON.stringify(foreign))

    const result: ActionRun = await pending
    // It stopped on the takeover: green never hydrates, so the wait alone would last hours.
    expect(result.timedOut).toBe(false)
    expectExit(result, 1)
    expectOutputs(result, { status: 'failed', promoted: 'false' })
    const message = errorText(result)
    expect(message).toMatch(/deploy lock prod\/deploy\.lock was lost/)
    expect(message).toContain(foreign.owner)
    expect(message).toContain(foreign.runUrl)
    // Nothing swapped, production as before; green (now the other run's) and its lease intact.
    expect(await swapAttempts(emulator)).toBe(attemptsBefore)
    expect(await production(emulator)).toEqual(before)
    expect((await sides(suite)).green).toEqual(green)
    const lease = await getObject(suite.bucket, KEYS.lock)
    expect(lease?.etag).toBe(foreignEtag)
    expect(JSON.parse(lease!.body)).toEqual(foreign)
    expect(await listKeys(suite.bucket)).not.toContain(SWAP_RECORD)

    // The other run is gone and its lease expired: cleanup takes it over and drops green.
    const expired = { ...foreign, expiresAt: new Date(now - 1000).toISOString() }
    await putObject(suite.bucket, KEYS.lock, JSON.stringify(expired))
    const cleaned = await run({ phase: 'cleanup' })
    expectExit(cleaned, 0)
    expect(await greenLeftovers(emulator)).toEqual([])
    expect(await production(emulator)).toEqual(before)
    expect(await listKeys(suite.bucket)).not.toContain(KEYS.lock)
  })

  it('1. a failure right after the swap commits leaves the new production live and the previous one intact, through post and cleanup', async () => {
    const emulator = suite.emulator
    const { pending } = await deployUntilHydrationWait('v12')
    const before = await sides(suite)
    expect(before.production.release).toBe('v1')
    expect(before.green.release).toBe('v12')
    // deploy_promote's connection dies right after its swap commits, before it tags the schemas.
    emulator.control.dropConnectionAfterNextSwap()
    await releaseGreen(emulator)

    const main = await pending
    expectExit(main, 1)
    expectOutputs(main, { status: 'failed', promoted: 'true' })
    const message = errorText(main)
    expect(message).toMatch(/deploy_promote failed after the swap\. The swap committed/)
    expect(message).toContain(`intact under ${GREEN_SCHEMA}, ${GREEN_CLUSTER}`)
    expect(message).toMatch(/phase: rollback/)

    /** The new production live with green's former ids, the previous one whole under green's names. */
    const expectBothKept = async (): Promise<void> =>
      expect(await sides(suite)).toEqual({ production: before.green, green: before.production })
    await expectBothKept()
    const swap = JSON.parse((await getObject(suite.bucket, SWAP_RECORD))!.body) as {
      outcome: string
    }
    expect(swap.outcome).toBe('committed')
    expect(await listKeys(suite.bucket)).not.toContain(KEYS.lock)

    // The runner's post step does not drop it either.
    const post = await runPost(main)
    expectExit(post, 0)
    await expectBothKept()

    // Nor does a following "phase: cleanup": it fails naming the state and what to run next.
    const cleaned = await run({ phase: 'cleanup' })
    expectExit(cleaned, 1)
    expectOutputs(cleaned, { status: 'failed' })
    expect(errorText(cleaned)).toMatch(/"phase: cleanup" would touch the previous production/)
    expect(errorText(cleaned)).toMatch(/phase: rollback/)
    await expectBothKept()
    expect(await listKeys(suite.bucket)).not.toContain(KEYS.lock)
  })
})

// Blue/green against other actors (issue 4, "Tests must show" 6, 7 and 10): production changed
// between deploy and promote, two deploys at once, and a manifest published meanwhile. One
// emulator (or the real Materialize), one workspace, one bucket; production starts at release v1.
import { describe, expect, it, jest } from '@jest/globals'
import { randomBytes } from 'node:crypto'
import { emulatorOnly } from './support/backends.js'
import {
  GREEN_CLUSTER,
  GREEN_SCHEMA,
  KEYS,
  PROD_SCHEMA,
  blueGreenTarget,
  clusterIds,
  errorText,
  expectOutputs,
  greenLeftovers,
  hydrationWatch,
  inHydrationWait,
  production,
  releaseIn,
  releaseGreen,
  releaseModel,
  scriptHydration,
  sql,
  useBlueGreenSuite,
  type MaterializeSql
} from './support/bluegreen.js'
import { duringRun } from './support/processes.js'
import type { ActionRun } from './support/runner.js'
import { getObject, listKeys, putObject, type StoredObject } from './support/s3.js'
import { expectExit } from './support/slim.js'

// A bound for hung tests only: each test runs two or three blue/green runs, each slow on a
// loaded machine (see BLUE_GREEN_RUN_TIMEOUT_MS).
jest.setTimeout(1_200_000)

interface Lease {
  owner: string
  runUrl: string
  nonce: string
  acquiredAt: string
  expiresAt: string
}

/** Why a test needs the emulator: it holds green in the hydration wait by a script. */
const HOLDS_GREEN = 'holds green unhydrated through the control API'

describe(`blue/green with concurrent changes on ${blueGreenTarget()}`, () => {
  const suite = useBlueGreenSuite('bg-concurrency')
  const { run } = suite

  it('6. drift in production between deploy and promote is refused; force promotes anyway', async () => {
    const mz = suite.mz
    suite.ws.commit('Release v2', releaseModel('v2'))
    await scriptHydration(suite.warehouse, 0)
    const deployed = await run({ phase: 'deploy', 'run-tests': 'false' })
    expectExit(deployed, 0)
    expectOutputs(deployed, { status: 'staged', deployed: 'true', promoted: 'false' })

    // A hotfix lands in production while the deploy is staged.
    await sql(mz, `CREATE VIEW ${PROD_SCHEMA}.hotfix AS SELECT 1 AS fixed`)
    const drifted = await production(mz)

    const refused = await run({ phase: 'promote' })
    expectExit(refused, 1)
    expectOutputs(refused, { status: 'failed', promoted: 'false' })
    expect(errorText(refused)).toMatch(/changed since/)
    expect(await production(mz)).toEqual(drifted)
    // The staged deploy is still there to force or clean up; nothing was published.
    expect(await releaseIn(mz, GREEN_SCHEMA)).toBe('v2')
    const keys = await listKeys(suite.bucket)
    expect(keys).toEqual(expect.arrayContaining([KEYS.stagedDeployment, KEYS.stagedManifest]))
    expect(keys).not.toContain(KEYS.manifest)
    expect(keys).not.toContain(KEYS.lock)

    const forced = await run({ phase: 'promote', force: 'true' })
    expectExit(forced, 0)
    expectOutputs(forced, { status: 'promoted', promoted: 'true' })
    expect(await releaseIn(mz, PROD_SCHEMA)).toBe('v2')
    expect(await greenLeftovers(mz)).toEqual([])
    expect(await listKeys(suite.bucket)).toContain(KEYS.manifest)
  })

  /** deploy_init is done: green's schema and cluster both exist. */
  const greenExists = async (mz: MaterializeSql): Promise<boolean> =>
    (await greenLeftovers(mz)).length === 2

  async function leaseOf(pending: Promise<ActionRun>): Promise<Lease> {
    let lease: StoredObject | undefined
    await duringRun(pending, 'the deploy lock', async () => {
      lease = await getObject(suite.bucket, KEYS.lock)
      return lease !== undefined
    })
    return JSON.parse(lease!.body) as Lease
  }

  emulatorOnly(HOLDS_GREEN)(
    '7. two concurrent deploys: one promotes, the other waits, fails naming the holder, touches nothing',
    async () => {
      const emulator = suite.emulator
      const other = suite.ws.clone()
      try {
        suite.ws.commit('Release v3', releaseModel('v3'))
        other.commit('Release v3-other', releaseModel('v3-other'))
        // The first deploy holds the lock until its green may hydrate: after the second gave up.
        await scriptHydration(suite.warehouse, 0, true)

        const watch = hydrationWatch()
        const first = run({ 'run-tests': 'false' }, { onLine: watch.onLine })
        const holder = await leaseOf(first)
        expect(holder).toEqual(
          expect.objectContaining({
            owner: expect.any(String),
            runUrl: expect.any(String),
            nonce: expect.any(String),
            acquiredAt: expect.any(String),
            expiresAt: expect.any(String)
          })
        )
        // Start the second deploy once the first one's green exists, to see it stay intact.
        await duringRun(first, 'the green schema and cluster', () => greenExists(emulator))
        const greenCluster = (await clusterIds(emulator))[GREEN_CLUSTER]

        const second = await run(
          { 'run-tests': 'false', 'lock-timeout': '3s' },
          { workspace: other }
        )
        expectExit(second, 1)
        expectOutputs(second, { status: 'failed', promoted: 'false' })
        expect(second.durationMs).toBeGreaterThanOrEqual(3_000)
        expect(errorText(second)).toContain(holder.owner)
        expect(errorText(second)).toContain(holder.runUrl)
        expect(second.stdout).not.toMatch(/deploy_init|deploy_promote|deploy_cleanup/)
        // The first run's green is intact after the second gave up: same cluster, same schema.
        expect(await greenLeftovers(emulator)).toEqual([
          `cluster ${GREEN_CLUSTER}`,
          `schema ${GREEN_SCHEMA}`
        ])
        expect((await clusterIds(emulator))[GREEN_CLUSTER]).toBe(greenCluster)

        await inHydrationWait(first, watch, suite.ws)
        await releaseGreen(emulator)
        const winner = await first
        expectExit(winner, 0)
        expectOutputs(winner, { status: 'promoted', promoted: 'true' })
        expect(await releaseIn(emulator, PROD_SCHEMA)).toBe('v3')
        expect(await greenLeftovers(emulator)).toEqual([])
        expect(await listKeys(suite.bucket)).not.toContain(KEYS.lock)
      } finally {
        other.cleanup()
      }
    }
  )

  emulatorOnly(HOLDS_GREEN)(
    '10. a manifest published by a newer run meanwhile is never overwritten',
    async () => {
      const emulator = suite.emulator
      suite.ws.commit('Release v4', releaseModel('v4'))
      // The deploy cannot get past its hydration wait until the newer manifest is published.
      await scriptHydration(suite.warehouse, 0, true)
      const watch = hydrationWatch()
      const pending = run({ 'run-tests': 'false' }, { onLine: watch.onLine })
      await inHydrationWait(pending, watch, suite.ws)

      // A newer run publishes while this one is still deploying.
      const newerSha = randomBytes(20).toString('hex')
      const newerBody = JSON.stringify({ metadata: { generated_at: new Date().toISOString() } })
      const newerEtag = await putObject(suite.bucket, KEYS.manifest, newerBody, {
        'git-sha': newerSha
      })

      await releaseGreen(emulator)
      const result = await pending
      const manifest = await getObject(suite.bucket, KEYS.manifest)
      expect(manifest?.etag).toBe(newerEtag)
      expect(manifest?.metadata['git-sha']).toBe(newerSha)
      const problems = result.annotations.filter((a) => a.level !== 'notice')
      expect(problems.map((a) => a.message).join('\n')).toMatch(/manifest/i)
      expect(await listKeys(suite.bucket)).not.toContain(KEYS.lock)
    }
  )
})

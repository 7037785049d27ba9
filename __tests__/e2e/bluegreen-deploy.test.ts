// Blue/green happy paths (issue 4, "Tests must show" 1, 2, 9, and the rollback refusal of 11),
// in order on one emulator (or the real Materialize), one workspace and one bucket: production
// starts at release v1, each test commits the next release and deploys it. `npm test` runs this
// file a second time on the oldest dbt-materialize blue/green supports (E2E_DBT_MATERIALIZE).
import { describe, expect, it, jest } from '@jest/globals'
import { freePort } from '../../dev/net.js'
import { emulatorOnlyChecks } from './support/backends.js'
import {
  GREEN_CLUSTER,
  GREEN_SCHEMA,
  KEYS,
  blueGreenTarget,
  dbtMaterializeUnderTest,
  PROD_CLUSTER,
  PROD_SCHEMA,
  errorText,
  expectOutputs,
  fingerprint,
  greenLeftovers,
  objectsIn,
  placement,
  production,
  progressOf,
  releaseIn,
  releaseModel,
  scriptHydration,
  useBlueGreenSuite
} from './support/bluegreen.js'
import type { ActionRun } from './support/runner.js'
import { getObject, listKeys } from './support/s3.js'
import { expectExit } from './support/slim.js'

jest.setTimeout(900_000) // a bound for hung tests only: runs take minutes on a loaded machine

describe(`blue/green deploys on ${blueGreenTarget()}`, () => {
  const suite = useBlueGreenSuite('bg-deploy')
  const { run } = suite

  function expectNoStagingLeft(keys: string[]): void {
    expect(keys).not.toContain(KEYS.lock)
    expect(keys).not.toContain(KEYS.stagedDeployment)
    expect(keys).not.toContain(KEYS.stagedManifest)
  }

  it('1. phase all waits through a scripted hydration delay, tests, promotes and cleans up', async () => {
    const mz = suite.mz
    const before = await production(mz)
    expect(before.release).toBe('v1')
    const sha = suite.ws.commit('Release v2', releaseModel('v2'))
    await scriptHydration(suite.warehouse, 8)

    const result = await run()
    expectExit(result, 0)
    expectOutputs(result, { status: 'promoted', deployed: 'true', promoted: 'true' })
    expect(JSON.parse(result.outputs['green-schemas'] ?? 'null')).toEqual([GREEN_SCHEMA])
    expect(JSON.parse(result.outputs['green-clusters'] ?? 'null')).toEqual([GREEN_CLUSTER])
    // It reported progress while hydrating, and the summary has the cluster's progress.
    const progress = progressOf(result.stdout, GREEN_CLUSTER)
    expect(progress.some(([hydrated, total]) => hydrated === total && total > 0)).toBe(true)
    await emulatorOnlyChecks('a hydration delay is scripted through the control API', () => {
      // The delay counts from each object's creation during `dbt run`, so some of it is left.
      expect(Number(result.outputs['hydration-seconds'])).toBeGreaterThanOrEqual(1)
      expect(progress.some(([hydrated, total]) => hydrated < total)).toBe(true)
    })
    expect(result.summary).toContain(GREEN_CLUSTER)
    // dbt test ran the fixture's tests against green.
    expect(result.stdout).toMatch(/unique_release_version/)
    // On the dbt-materialize release under test (the pinned one, or E2E_DBT_MATERIALIZE's).
    expect(result.stdout).toContain(`Registered adapter: materialize=${dbtMaterializeUnderTest()}`)

    // Production serves the new objects: new ids under the production names and cluster.
    const after = await production(mz)
    expect(after.release).toBe('v2')
    expect(Object.keys(after.objects).sort()).toEqual(Object.keys(before.objects).sort())
    for (const [name, object] of Object.entries(after.objects)) {
      expect(object.id).not.toBe(before.objects[name]!.id)
      expect(object.cluster).toBe(before.objects[name]!.cluster)
    }
    expect(after.objects.order_totals!.cluster).toBe(PROD_CLUSTER)
    expect(after.clusters[PROD_CLUSTER]).not.toBe(before.clusters[PROD_CLUSTER])
    expect(await greenLeftovers(mz)).toEqual([])

    const keys = await listKeys(suite.bucket)
    expect(keys).toEqual(expect.arrayContaining([KEYS.manifest, KEYS.archive(sha)]))
    expectNoStagingLeft(keys)
    expect((await getObject(suite.bucket, KEYS.manifest))?.metadata['git-sha']).toBe(sha)
  })

  it('11. rollback without a kept previous production is refused before any SQL', async () => {
    const mz = suite.mz
    const before = await production(mz)
    const manifestBefore = await getObject(suite.bucket, KEYS.manifest)
    const keysBefore = await listKeys(suite.bucket)
    // Materialize unreachable: a run that tried SQL first would fail on the connection instead.
    const result = await run({ phase: 'rollback' }, { env: { MZ_PORT: String(await freePort()) } })

    expectExit(result, 1)
    expect(errorText(result)).toMatch(/keep-previous/)
    expect(errorText(result)).not.toMatch(/ECONNREFUSED/)
    expect(await production(mz)).toEqual(before)
    expect(await listKeys(suite.bucket)).toEqual(keysBefore)
    expect((await getObject(suite.bucket, KEYS.manifest))?.etag).toBe(manifestBefore?.etag)
  })

  it('2. phase deploy stages green; phase promote in a fresh workspace swaps it in', async () => {
    const mz = suite.mz
    const manifestBefore = await getObject(suite.bucket, KEYS.manifest)
    const sha = suite.ws.commit('Release v3', releaseModel('v3'))
    await scriptHydration(suite.warehouse, 2)

    const deployed = await run({ phase: 'deploy' })
    expectExit(deployed, 0)
    expectOutputs(deployed, { status: 'staged', deployed: 'true', promoted: 'false' })
    expect(await releaseIn(mz, PROD_SCHEMA)).toBe('v2')
    expect(await releaseIn(mz, GREEN_SCHEMA)).toBe('v3')
    const staged = await listKeys(suite.bucket)
    expect(staged).toEqual(expect.arrayContaining([KEYS.stagedDeployment, KEYS.stagedManifest]))
    expect(staged).not.toContain(KEYS.lock)
    // The manifest is published only by the promote.
    expect((await getObject(suite.bucket, KEYS.manifest))?.etag).toBe(manifestBefore?.etag)
    const stagedManifest = await getObject(suite.bucket, KEYS.stagedManifest)

    const fresh = suite.ws.clone()
    let promoted: ActionRun
    try {
      promoted = await run({ phase: 'promote' }, { workspace: fresh })
    } finally {
      fresh.cleanup()
    }
    expectExit(promoted, 0)
    expectOutputs(promoted, { status: 'promoted', promoted: 'true' })
    // The swap plan is in the summary.
    expect(promoted.summary).toContain(GREEN_SCHEMA)
    expect(promoted.summary).toContain(GREEN_CLUSTER)
    expect(await releaseIn(mz, PROD_SCHEMA)).toBe('v3')
    expect(await greenLeftovers(mz)).toEqual([])

    const keys = await listKeys(suite.bucket)
    expectNoStagingLeft(keys)
    expect(keys).toContain(KEYS.archive(sha))
    const published = await getObject(suite.bucket, KEYS.manifest)
    expect(published?.metadata['git-sha']).toBe(sha)
    expect(fingerprint(published)).toBe(fingerprint(stagedManifest))
  })

  it('9. rollback after keep-previous restores the previous objects under the production names', async () => {
    const mz = suite.mz
    const previous = await production(mz)
    expect(previous.release).toBe('v3')
    const previousManifest = await getObject(suite.bucket, KEYS.manifest)
    const sha = suite.ws.commit('Release v4', releaseModel('v4'))
    await scriptHydration(suite.warehouse, 1)

    const promoted = await run({ 'keep-previous': 'true', 'run-tests': 'false' })
    expectExit(promoted, 0)
    expectOutputs(promoted, { status: 'promoted', promoted: 'true' })
    expect(await releaseIn(mz, PROD_SCHEMA)).toBe('v4')
    // The previous production is kept, whole, under the green names.
    expect(await releaseIn(mz, GREEN_SCHEMA)).toBe('v3')
    const kept = objectsIn(await placement(mz), GREEN_SCHEMA)
    const renamed = (cluster: string | null) => (cluster === PROD_CLUSTER ? GREEN_CLUSTER : cluster)
    expect(kept).toEqual(
      Object.fromEntries(
        Object.entries(previous.objects).map(([name, o]) => [
          name,
          { ...o, cluster: renamed(o.cluster) }
        ])
      )
    )
    expect((await getObject(suite.bucket, KEYS.manifest))?.metadata['git-sha']).toBe(sha)

    const rolledBack = await run({ phase: 'rollback' })
    expectExit(rolledBack, 0)
    expect(rolledBack.outputs.status).toBe('rolled-back')
    const after = await production(mz)
    expect(after.release).toBe('v3')
    expect(after.objects).toEqual(previous.objects)
    expect(after.clusters[PROD_CLUSTER]).toBe(previous.clusters[PROD_CLUSTER])
    const restored = await getObject(suite.bucket, KEYS.manifest)
    expect(fingerprint(restored)).toBe(fingerprint(previousManifest))
    expect(restored?.metadata['git-sha']).toBe(previousManifest?.metadata['git-sha'])
    expect(await listKeys(suite.bucket)).not.toContain(KEYS.lock)
  })
})

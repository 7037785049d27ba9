// Issue 13: blue/green keeps one parse state per vars set (production's and green's target
// paths) in the Actions cache (a local stand-in of the service, driven by the real
// @actions/cache). The next deploy, in a fresh checkout, restores both and dbt re-parses only
// the changed release; the upload comes after the swap, never between readiness and promote.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import { startCacheStub, type CacheStub } from '../../dev/cache-stub.js'
import {
  blueGreenTarget,
  expectOutputs,
  production,
  releaseModel,
  useBlueGreenSuite
} from './support/bluegreen.js'
import type { ActionRun } from './support/runner.js'
import { expectExit, FULL_PARSE } from './support/slim.js'
import type { Workspace } from './support/workspace.js'

jest.setTimeout(900_000) // a bound for hung tests only: runs take minutes on a loaded machine

const SAVED = "dbt's parse state saved to the cache"

describe(`dbt's parse state in the Actions cache, blue/green on ${blueGreenTarget()}`, () => {
  const suite = useBlueGreenSuite('bg-parse-cache')
  const checkouts: Workspace[] = []
  let cache: CacheStub

  /** Commits `version` and deploys it from a fresh checkout, as each CI run has: no target/. */
  const deploy = async (version: string): Promise<ActionRun> => {
    suite.ws.commit(`Release ${version}`, releaseModel(version))
    const checkout = suite.ws.clone()
    checkouts.push(checkout)
    const result = await suite.run({}, { workspace: checkout, env: cache.env })
    expectExit(result, 0)
    expectOutputs(result, { status: 'promoted', promoted: 'true' })
    return result
  }

  beforeAll(async () => {
    cache = await startCacheStub()
  })

  afterAll(async () => {
    checkouts.forEach((ws) => ws.cleanup())
    await cache?.stop()
  })

  it('the next deploy restores both parse states, re-parses only the change, and saves after the swap', async () => {
    const first = await deploy('v2')
    expect(first.stdout).toMatch(/No cached parse state for dbt-parse-/)
    expect(first.stdout).toMatch(FULL_PARSE)
    const swap = first.stdout.indexOf('deploy_promote (atomic swap)')
    expect(swap).toBeGreaterThan(-1)
    expect(first.stdout.indexOf(SAVED)).toBeGreaterThan(swap)
    expect(cache.entries.filter((e) => e.archive)).toHaveLength(1)

    const second = await deploy('v3')
    expect(second.stdout).toContain(
      `dbt's parse state restored from the cache (${cache.entries[0]!.key})`
    )
    // Neither production's nor green's dbt parsed in full, and green still built the change.
    expect(second.stdout).not.toMatch(FULL_PARSE)
    expect((await production(suite.mz)).release).toBe('v3')
    expect(cache.entries.filter((e) => e.archive)).toHaveLength(2)
  })
})

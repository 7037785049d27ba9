// Issue 13: dbt's partial parse state goes through the Actions cache (a local stand-in of the
// cache service, driven by the real @actions/cache). A second push of a PR, in a fresh checkout,
// restores the first push's parse state and re-parses only what changed: the changed model is
// still built with its new SQL. A re-run of the same commit hits its exact key and saves nothing.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import { startCacheStub, type CacheStub } from '../../dev/cache-stub.js'
import { postgres } from './support/warehouse.js'
import { pullRequestEvent, runAction, type ActionRun } from './support/runner.js'
import { createBucket } from './support/s3.js'
import {
  calendarWith,
  expectCanaryHidden,
  expectExit,
  FULL_PARSE,
  slimInputs
} from './support/slim.js'
import { createWorkspace, type Workspace } from './support/workspace.js'

jest.setTimeout(900_000) // a bound for hung tests only: runs take minutes on a loaded machine

const PR = 181

describe("dbt's parse state in the Actions cache", () => {
  let cache: CacheStub
  let bucket: string
  const workspaces: Workspace[] = []

  /** A fresh checkout of the PR head, as each CI run has: no target/ directory. */
  const checkout = (day: string): Workspace => {
    const [base] = workspaces
    const ws = base!.clone()
    ws.commit(`Calendar with ${day}`, { 'models/marts/calendar.sql': calendarWith(4, day) })
    workspaces.push(ws)
    return ws
  }

  const push = async (ws: Workspace): Promise<ActionRun> => {
    const result = await runAction({
      workspace: ws.dir,
      event: pullRequestEvent({ number: PR, action: 'synchronize', headSha: ws.sha() }),
      inputs: slimInputs(bucket, { 'pr-comment': 'false' }),
      env: cache.env
    })
    expectCanaryHidden(result)
    expectExit(result, 0)
    return result
  }

  const thursday = async () =>
    postgres.query<{ day_name: string }>(
      `select day_name from pr_${PR}.calendar where day_of_week = 4`
    )

  beforeAll(async () => {
    cache = await startCacheStub()
    bucket = await createBucket('parse-cache')
    workspaces.push(createWorkspace())
    await postgres.execute(`drop schema if exists pr_${PR} cascade`)
  })

  afterAll(async () => {
    workspaces.forEach((ws) => ws.cleanup())
    await postgres.execute(`drop schema if exists pr_${PR} cascade`)
    await cache?.stop()
  })

  it('a second push restores the first push’s parse state, and the changed model is built', async () => {
    const first = await push(checkout('Thursday'))
    expect(first.stdout).toMatch(/No cached parse state for dbt-parse-/)
    expect(first.stdout).toMatch(/dbt's parse state saved to the cache/)
    expect(cache.entries.filter((e) => e.archive)).toHaveLength(1)
    expect(await thursday()).toEqual([{ day_name: 'Thursday' }])

    const second = await push(checkout('Donnerstag'))
    const firstKey = cache.entries[0]!.key
    expect(second.stdout).toContain(`dbt's parse state restored from the cache (${firstKey})`)
    // dbt took the restored state (no full parse) and still saw the changed file.
    expect(second.stdout).not.toMatch(FULL_PARSE)
    expect(await thursday()).toEqual([{ day_name: 'Donnerstag' }])
    expect(cache.entries.filter((e) => e.archive)).toHaveLength(2)
  })

  it('a re-run of the same commit hits its exact key and saves nothing', async () => {
    const head = workspaces.at(-1)!
    const rerun = head.clone()
    workspaces.push(rerun)
    const before = cache.entries.length
    const result = await push(rerun)
    const exactKey = cache.entries.at(-1)!.key
    expect(result.stdout).toContain(`dbt's parse state restored from the cache (${exactKey})`)
    expect(result.stdout).not.toMatch(FULL_PARSE)
    expect(result.stdout).not.toMatch(/parse state saved/)
    expect(cache.entries).toHaveLength(before)
  })
})

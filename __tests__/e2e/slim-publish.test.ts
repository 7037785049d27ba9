// Publishing the production manifest when S3 or another merge gets in the way: a write S3
// committed but answered with a 500 (the SDK's retry then gets 412), and two merges racing in
// both orders, decided by commit ancestry from git or, when the checkout cannot tell, from
// the GitHub API (the stub, answering from the repository's history). The order of the runs is
// set by holding one run's manifest write at the fault proxy, never by timing.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { startGitHubStub, type GitHubStub } from '../../dev/github-stub.js'
import { pushEvent, runAction, type ActionRun } from './support/runner.js'
import { forKey, startFaultProxy, type FaultProxy } from './support/s3-faults.js'
import { createBucket, getObject, listKeys, putObject, s3Endpoint } from './support/s3.js'
import {
  annotationsOf,
  calendarWith,
  expectCanaryHidden,
  expectExit,
  parsedManifest,
  slimInputs
} from './support/slim.js'
import { createWorkspace, type Workspace } from './support/workspace.js'

jest.setTimeout(900_000) // a bound for hung tests only: runs take minutes on a loaded machine

const PROD_ENV = { E2E_PROD_SCHEMA: 'analytics_publish' }
const MANIFEST = 'prod/manifest.json'
const MANIFEST_PUT = forKey(MANIFEST, 'PUT')

let stub: GitHubStub
/** The repository: P (production at the start of every race), its child A, A's child B. */
let origin: Workspace
let shaP: string
let shaA: string
let shaB: string
/** `dbt parse` of P, the production manifest every race starts from. */
let manifestP: string
/** Cloned when A was the newest commit: B does not exist in it. */
let aOnly: Workspace
const workspaces: Workspace[] = []

function track(workspace: Workspace): Workspace {
  workspaces.push(workspace)
  return workspace
}

/** A checkout of the repository: at B (full or shallow), or at A with or without B fetched. */
const checkouts = {
  fullB: () => track(origin.clone()),
  shallowB: () => track(origin.clone({ depth: 1 })),
  aWithB: () => {
    const workspace = track(origin.clone())
    workspace.checkout(shaA)
    return workspace
  },
  aOnly: () => aOnly
}

/** A bucket whose production manifest is P's; returns it with that object's ETag. */
async function productionAtP(label: string): Promise<{ bucket: string; etag: string }> {
  const bucket = await createBucket(label)
  const etag = await putObject(bucket, MANIFEST, manifestP, { 'git-sha': shaP })
  return { bucket, etag }
}

/** A push to main of the workspace's HEAD, talking to S3 through `proxyUrl` when given. */
async function push(workspace: Workspace, bucket: string, proxyUrl?: string): Promise<ActionRun> {
  const endpoint: Record<string, string> = proxyUrl ? { 's3-endpoint': proxyUrl } : {}
  const result = await runAction({
    workspace: workspace.dir,
    event: pushEvent({ sha: workspace.sha(), before: shaP }),
    inputs: slimInputs(bucket, endpoint),
    apiUrl: stub.url,
    env: PROD_ENV
  })
  expectCanaryHidden(result)
  return result
}

function builtManifest(workspace: Workspace): string {
  return readFileSync(path.join(workspace.dir, 'target', 'manifest.json'), 'utf8')
}

/** Compare requests the stub received since `from`. */
function compares(from: number): string[] {
  return stub.requests
    .slice(from)
    .filter((r) => r.path.includes('/compare/'))
    .map((r) => r.path)
}

beforeAll(async () => {
  stub = await startGitHubStub()
  origin = createWorkspace()
  shaP = origin.sha()
  manifestP = parsedManifest(origin, PROD_ENV)
  shaA = origin.commit('Add the extra model', { 'models/marts/extra.sql': 'select 1 as id\n' })
  aOnly = track(origin.clone())
  shaB = origin.commit('Add Thursday', { 'models/marts/calendar.sql': calendarWith(4, 'Thursday') })
  stub.serveHistory(origin.dir)
})

afterAll(async () => {
  await stub?.stop()
  for (const workspace of [origin, ...workspaces]) workspace?.cleanup()
})

describe('a manifest write that S3 committed but answered with a 500', () => {
  let proxy: FaultProxy

  beforeAll(async () => {
    proxy = await startFaultProxy(s3Endpoint())
  })

  afterAll(() => proxy?.stop())

  it('succeeds: S3 holds this run manifest, and the per-commit archive is written', async () => {
    const { bucket, etag } = await productionAtP('lost-answer')
    const workspace = checkouts.fullB()
    proxy.loseAnswers(1, 500, MANIFEST_PUT)
    const result = await push(workspace, bucket, proxy.url)

    expectExit(result, 0)
    expect(result.outputs.status).toBe('success')
    expect(result.outputs['manifest-uploaded']).toBe('true')
    const puts = proxy.requests.filter(MANIFEST_PUT)
    // The first write took effect but was answered 500; the SDK's retry was refused (412).
    expect(puts.map((r) => r.outcome)).toEqual([500, 412])
    expect(puts.map((r) => r.headers['if-match'])).toEqual([etag, etag])
    expect(result.stdout).toContain('first attempt had succeeded')
    const manifest = await getObject(bucket, MANIFEST)
    expect(manifest?.body).toBe(builtManifest(workspace))
    expect(manifest?.metadata['git-sha']).toBe(shaB)
    expect((await getObject(bucket, `prod/manifests/${shaB}.json`))?.body).toBe(manifest?.body)
    expect(annotationsOf(result, 'error')).toBe('')
    expect(result.summary).toContain(`Manifest of ${shaB} published to s3://${bucket}/${MANIFEST}.`)
  })
})

interface Race {
  name: string
  /** Which commit's run publishes first; the other run's write is held until it has. */
  first: 'A' | 'B'
  checkoutA: () => Workspace
  checkoutB: () => Workspace
  /** Who orders A and B for the run that finds the other's manifest. */
  decidedBy: 'git' | 'the GitHub API'
}

const RACES: Race[] = [
  {
    name: 'A publishes first; B, with A in its history, replaces it',
    first: 'A',
    checkoutA: () => checkouts.aOnly(),
    checkoutB: () => checkouts.fullB(),
    decidedBy: 'git'
  },
  {
    name: 'A publishes first; B, a shallow clone without A, replaces it on the API answer',
    first: 'A',
    checkoutA: () => checkouts.aOnly(),
    checkoutB: () => checkouts.shallowB(),
    decidedBy: 'the GitHub API'
  },
  {
    name: 'B publishes first; A, with B fetched, is refused',
    first: 'B',
    checkoutA: () => checkouts.aWithB(),
    checkoutB: () => checkouts.fullB(),
    decidedBy: 'git'
  },
  {
    name: 'B publishes first; A, a checkout without B, is refused on the API answer',
    first: 'B',
    checkoutA: () => checkouts.aOnly(),
    checkoutB: () => checkouts.fullB(),
    decidedBy: 'the GitHub API'
  }
]

describe.each(RACES)('two merges racing: $name', (race) => {
  let proxy: FaultProxy
  let bucket: string
  let etagP: string
  let runA: ActionRun
  let runB: ActionRun
  let workspaceB: Workspace
  let comparesFrom: number

  beforeAll(async () => {
    ;({ bucket, etag: etagP } = await productionAtP(`race-${race.first}`))
    proxy = await startFaultProxy(s3Endpoint())
    const workspaceA = race.checkoutA()
    workspaceB = race.checkoutB()
    expect([workspaceA.sha(), workspaceB.sha()]).toEqual([shaA, shaB])
    const [firstWorkspace, heldWorkspace] =
      race.first === 'A' ? [workspaceA, workspaceB] : [workspaceB, workspaceA]
    comparesFrom = stub.requests.length

    // The held run reads P, builds, and is parked at its manifest write; only then does the
    // other run start, so it too reads P, and it publishes first.
    const release = proxy.hold(MANIFEST_PUT)
    try {
      const held = push(heldWorkspace, bucket, proxy.url)
      await Promise.race([
        proxy.arrival(MANIFEST_PUT),
        held.then((r) =>
          Promise.reject(new Error(`the held run ended before publishing: ${r.stdout}`))
        )
      ])
      const first = await push(firstWorkspace, bucket)
      expectExit(first, 0)
      release()
      const second = await held
      ;[runA, runB] = race.first === 'A' ? [first, second] : [second, first]
    } finally {
      release()
      await proxy.stop()
    }
  })

  it('both runs read P: the held write was conditioned on P manifest', () => {
    const held = proxy.requests.filter(MANIFEST_PUT)
    expect(held[0]?.headers['if-match']).toBe(etagP)
  })

  it('S3 ends with B manifest, and both published commits are archived', async () => {
    expectExit(runB, 0)
    expect(runB.outputs['manifest-uploaded']).toBe('true')
    const manifest = await getObject(bucket, MANIFEST)
    expect(manifest?.metadata['git-sha']).toBe(shaB)
    expect(manifest?.body).toBe(builtManifest(workspaceB))
    const archives = await listKeys(bucket, 'prod/manifests/')
    const expected = race.first === 'A' ? [shaA, shaB] : [shaB]
    expect(archives).toEqual(expected.map((sha) => `prod/manifests/${sha}.json`).sort())
  })

  it(`the ancestry was decided by ${race.decidedBy}`, () => {
    const [stored, ours] = race.first === 'A' ? [shaA, shaB] : [shaB, shaA]
    const expected =
      race.decidedBy === 'git' ? [] : [`/repos/acme/analytics/compare/${stored}...${ours}`]
    expect(compares(comparesFrom)).toEqual(expected)
  })

  it('every message names the commits as they are', () => {
    const uri = `s3://${bucket}/${MANIFEST}`
    if (race.first === 'A') {
      expectExit(runA, 0)
      expect(runA.summary).toContain(`Manifest of ${shaA} published to ${uri}.`)
      expect(annotationsOf(runB, 'notice')).toContain(
        `While this run was deploying, ${uri} was replaced by the manifest of ${shaA}, an ancestor of this run's commit ${shaB} (according to ${race.decidedBy}). This run's newer manifest replaces it.`
      )
      expect(runB.summary).toContain(
        `Manifest of ${shaB} published to ${uri}, replacing the manifest of ${shaA} published meanwhile.`
      )
      expect(annotationsOf(runB, 'error')).toBe('')
      return
    }
    expectExit(runA, 1)
    expect(runA.outputs.status).toBe('failed')
    expect(runA.outputs['manifest-uploaded']).toBe('false')
    const refusal =
      `This run's manifest (commit ${shaA}) was not published: while this run was deploying, ${uri} was replaced by the manifest of ${shaB}, a newer commit (${shaA} is its ancestor, according to ${race.decidedBy}). S3 keeps the manifest of ${shaB}. ` +
      `This run changed production, possibly after the deploy of ${shaB} did, so production may hold objects built from the older commit ${shaA}: re-run the deploy of ${shaB} (or of the newest commit) to restore them.`
    expect(annotationsOf(runA, 'error')).toContain(refusal)
    expect(runA.summary).toContain(`Manifest not published: ${refusal}`)
    expect(runB.summary).toContain(`Manifest of ${shaB} published to ${uri}.`)
    for (const run of [runA, runB]) {
      expect(`${run.stdout}\n${run.summary}`).not.toMatch(new RegExp(`${shaA}[^.]{0,40}newer`))
    }
  })
})

import { jest, describe, it, expect, beforeEach } from '@jest/globals'
import { mkdtempSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import * as core from '../../__fixtures__/core.js'
import { MemoryStore, manifestJson } from '../../__fixtures__/store.js'

jest.unstable_mockModule('@actions/core', () => core)
const { fetchProductionState, locateProductionState, publishCondition, readableState } =
  await import('../../src/slim/state.js')
const { publishManifest, wantsUpload } = await import('../../src/store/publish.js')

const location = { uri: 's3://b/prod', bucket: 'b', prefix: 'prod' }
/** The installed dbt, as dbt-core 1.11 answers: it reads manifests v4 to v12. */
const dbt111 = async () => ({
  dbtVersion: '1.11.7',
  versions: [12, 4, 5, 6, 7, 8, 9, 10, 11],
  exhaustive: true
})
const dir = mkdtempSync(path.join(os.tmpdir(), 'publish-'))
const newManifest = manifestJson({ 'model.p.a': 'new' })

beforeEach(() => {
  core.resetCore()
  process.env.RUNNER_TEMP = dir
})

describe('locateProductionState', () => {
  it('answers from one HEAD request: the commit and dbt version of the stored manifest', async () => {
    const store = new MemoryStore()
    await store.put('prod/manifest.json', manifestJson(), undefined, {
      'git-sha': 'abc1234',
      'dbt-version': '1.11.7'
    })
    store.get = () => Promise.reject(new Error('the body must not be downloaded'))
    expect(await locateProductionState(store, location, 'fail')).toEqual({
      kind: 'present',
      gitSha: 'abc1234',
      dbtVersion: '1.11.7'
    })
    expect(store.heads).toEqual(['prod/manifest.json'])
  })

  it('takes a manifest published before the dbt version was stored as present, without one', async () => {
    const store = new MemoryStore()
    await store.put('prod/manifest.json', manifestJson(), undefined, { 'git-sha': 'abc1234' })
    expect(await locateProductionState(store, location, 'fail')).toEqual({
      kind: 'present',
      gitSha: 'abc1234',
      dbtVersion: undefined
    })
  })

  it('reports a missing manifest with a notice, and a failed HEAD under on-state-error', async () => {
    expect(await locateProductionState(new MemoryStore(), location, 'fail')).toEqual({
      kind: 'missing'
    })
    expect(core.notice).toHaveBeenCalledWith(expect.stringContaining('full build'))
    const failing = new MemoryStore()
    failing.failGet = new Error('S3 answered 503')
    await expect(locateProductionState(failing, location, 'fail')).rejects.toThrow(/503/)
    expect(await locateProductionState(failing, location, 'full-build')).toMatchObject({
      kind: 'unusable'
    })
  })
})

describe('fetchProductionState', () => {
  it('reports a missing manifest with a notice', async () => {
    const state = await fetchProductionState(new MemoryStore(), location, 'fail')
    expect(state.kind).toBe('missing')
    expect(core.notice).toHaveBeenCalledWith(expect.stringContaining('full build'))
  })

  it('downloads the manifest, remembers its ETag and git sha, and records the directory for post', async () => {
    const store = new MemoryStore()
    await store.put('prod/manifest.json', manifestJson({ 'model.p.a': 'c1' }), undefined, {
      'git-sha': 'abc1234'
    })
    const state = await fetchProductionState(store, location, 'fail')
    expect(state).toMatchObject({ kind: 'found', etag: '"v1"', gitSha: 'abc1234' })
    expect(state.kind === 'found' && state.nodes.get('model.p.a')?.checksum).toBe('c1')
    expect(JSON.parse(core.saved.resources ?? '[]')).toEqual([
      { kind: 'directory', path: expect.stringContaining('dbt-state-') }
    ])
  })

  it('fails on an unparsable manifest unless full-build is allowed', async () => {
    const store = new MemoryStore()
    await store.put('prod/manifest.json', '{"not": "a manifest"}')
    await expect(fetchProductionState(store, location, 'fail')).rejects.toThrow(
      /not a dbt manifest[\s\S]*on-state-error/
    )
    expect(await fetchProductionState(store, location, 'full-build')).toEqual({
      kind: 'unusable',
      etag: '"v1"',
      reason: expect.any(String)
    })
    expect(core.warning).toHaveBeenCalled()
  })

  it('fails or falls back when S3 itself fails', async () => {
    const store = new MemoryStore()
    store.failGet = new Error('S3 answered HTTP 503')
    await expect(fetchProductionState(store, location, 'fail')).rejects.toThrow(/503/)
    expect(await fetchProductionState(store, location, 'full-build')).toMatchObject({
      kind: 'unusable',
      etag: undefined
    })
  })
})

describe('readableState: the manifest version against the installed dbt', () => {
  /** A manifest from dbt 1.12, whose schema v13 dbt-core 1.11 cannot read. */
  async function newerState() {
    const store = new MemoryStore()
    const metadata = {
      dbt_schema_version: 'https://schemas.getdbt.com/dbt/manifest/v13.json',
      dbt_version: '1.12.0'
    }
    await store.put('prod/manifest.json', JSON.stringify({ metadata, nodes: {} }))
    return fetchProductionState(store, location, 'fail')
  }

  it('fetching alone never asks dbt, so a run that skips dbt does not pay for it', async () => {
    expect((await newerState()).kind).toBe('found')
  })

  it('fails before dbt runs, naming both versions, by default', async () => {
    await expect(readableState(await newerState(), location, 'fail', dbt111)).rejects.toThrow(
      /v13 \(written by dbt 1\.12\.0\)[\s\S]*1\.11\.7[\s\S]*v4 to v12[\s\S]*full-build/
    )
  })

  it('builds everything with a warning under full-build', async () => {
    const state = await readableState(await newerState(), location, 'full-build', dbt111)
    expect(state).toMatchObject({ kind: 'unusable', etag: '"v1"' })
    expect(core.warning).toHaveBeenCalledWith(expect.stringMatching(/builds everything[\s\S]*v13/))
  })

  it('keeps a manifest the installed dbt reads', async () => {
    const store = new MemoryStore()
    await store.put('prod/manifest.json', manifestJson({ 'model.p.a': 'c1' }))
    const state = await fetchProductionState(store, location, 'fail')
    expect(await readableState(state, location, 'fail', dbt111)).toBe(state)
  })

  it('refuses a manifest without a schema version before any version check', async () => {
    const store = new MemoryStore()
    await store.put('prod/manifest.json', JSON.stringify({ metadata: {}, nodes: {} }))
    await expect(fetchProductionState(store, location, 'fail')).rejects.toThrow(
      /no metadata\.dbt_schema_version/
    )
  })

  it('does not ask dbt when there is no manifest', async () => {
    const query = jest.fn(dbt111)
    await readableState({ kind: 'missing' }, location, 'fail', query)
    expect(query).not.toHaveBeenCalled()
  })

  it('leaves the check to dbt when the installed version cannot be told', async () => {
    const state = await readableState(await newerState(), location, 'fail', async () => undefined)
    expect(state.kind).toBe('found')
    expect(core.info).toHaveBeenCalledWith(expect.stringMatching(/dbt checks the manifest itself/))
  })
})

describe('publishManifest', () => {
  it('creates the first manifest only if none exists, and archives it per sha', async () => {
    const store = new MemoryStore()
    await publishManifest(
      store,
      location,
      newManifest,
      publishCondition({ kind: 'missing' }),
      'sha1'
    )
    expect(store.objects.get('prod/manifest.json')?.metadata).toMatchObject({
      'git-sha': 'sha1',
      'dbt-version': '1.11.7'
    })
    expect(store.objects.get('prod/manifests/sha1.json')?.metadata['git-sha']).toBe('sha1')
  })

  it('without a commit history, refuses to replace a manifest that changed since the run read it', async () => {
    const store = new MemoryStore()
    await store.put('prod/manifest.json', manifestJson(), undefined, { 'git-sha': 'old' })
    const state = await fetchProductionState(store, location, 'fail')
    await store.put('prod/manifest.json', manifestJson(), undefined, { 'git-sha': 'newer' })
    await expect(
      publishManifest(store, location, newManifest, publishCondition(state), 'older-run')
    ).rejects.toThrow(
      "This run's manifest (commit older-run) was not published: while this run was deploying, s3://b/prod/manifest.json was replaced by the manifest of newer, which this run does not replace."
    )
    expect(store.objects.get('prod/manifest.json')?.metadata['git-sha']).toBe('newer')
    expect(store.objects.has('prod/manifests/older-run.json')).toBe(false)
  })

  it('will not publish when the current manifest could not be read', async () => {
    await expect(
      publishManifest(
        new MemoryStore(),
        location,
        newManifest,
        publishCondition({ kind: 'unusable', reason: 'S3 down' }),
        's'
      )
    ).rejects.toThrow(/cannot prove/)
  })

  it.each([
    ['auto', true, true],
    ['auto', false, false],
    ['true', false, true],
    ['false', true, false]
  ] as const)('upload-manifest %s on a default-branch push=%s → %s', (policy, push, expected) => {
    expect(wantsUpload(policy, push)).toBe(expected)
  })
})

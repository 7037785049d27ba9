import { jest, describe, it, expect, beforeEach } from '@jest/globals'
import * as core from '../../__fixtures__/core.js'
import { MemoryStore } from '../../__fixtures__/store.js'

jest.unstable_mockModule('@actions/core', () => core)
const { misfit, parseRecord } = await import('../../src/store/shape.js')
const { readRecord, STAGED_SHAPE, PREVIOUS_SHAPE } = await import('../../src/store/records.js')
const { createdResources } = await import('../../src/state.js')

const staged = {
  sha: 'abc',
  target: 'prod',
  schemas: ['prod_dbt_deploy'],
  clusters: ['analytics_dbt_deploy'],
  fingerprint: 'f',
  manifestEtag: null,
  stagedAt: '2026-11-29T00:00:00Z'
}

beforeEach(() => core.resetCore())

describe('record shapes', () => {
  it('accepts what the action writes, optional fields absent or present', () => {
    expect(misfit(staged, STAGED_SHAPE)).toBeUndefined()
    expect(misfit({ ...staged, previousSha: 'x', runUrl: 'u' }, STAGED_SHAPE)).toBeUndefined()
    expect(misfit({ replacedBy: 'b', keptAt: 't' }, PREVIOUS_SHAPE)).toBeUndefined()
  })

  it('names the first field that is missing or of the wrong type', () => {
    expect(misfit({ ...staged, schemas: 'prod' }, STAGED_SHAPE)).toBe('schemas')
    expect(misfit({ ...staged, clusters: [1] }, STAGED_SHAPE)).toBe('clusters')
    expect(misfit({ ...staged, manifestEtag: undefined }, STAGED_SHAPE)).toBe('manifestEtag')
    expect(misfit({ ...staged, runUrl: 5 }, STAGED_SHAPE)).toBe('runUrl')
    expect(misfit([staged], STAGED_SHAPE)).toBe('(not an object)')
    expect(misfit(null, PREVIOUS_SHAPE)).toBe('(not an object)')
  })

  it('a corrupt record gives an error naming the key and the field', async () => {
    const store = new MemoryStore()
    await store.put('prod/staged/deployment.json', JSON.stringify({ ...staged, sha: 7 }))
    await expect(
      readRecord(store, 'prod/staged/deployment.json', 'staged deploy', STAGED_SHAPE)
    ).rejects.toThrow(/staged deploy at prod\/staged\/deployment\.json[\s\S]*field "sha"/)
    await store.put('prod/previous.json', '{oops')
    await expect(
      readRecord(store, 'prod/previous.json', 'kept previous production', PREVIOUS_SHAPE)
    ).rejects.toThrow(/prod\/previous\.json.*not valid JSON/)
    expect(await readRecord(store, 'prod/none.json', 'x', PREVIOUS_SHAPE)).toBeUndefined()
    expect(() => parseRecord('"text"', PREVIOUS_SHAPE, 'x', 'k')).toThrow(/not an object/)
  })
})

describe('saved state read by the post step', () => {
  it('keeps only the resources that fit their kind, and warns about the rest', () => {
    const good = [
      { kind: 'directory', path: '/tmp/x' },
      { kind: 'lock', key: 'prod/deploy.lock', nonce: 'n' },
      { kind: 'green', schemas: ['a_dbt_deploy'], clusters: [] }
    ]
    core.saved.resources = JSON.stringify([
      ...good,
      { kind: 'green', schemas: 'all' },
      { kind: 'database', name: 'materialize' }
    ])
    expect(createdResources()).toEqual(good)
    expect(core.warning).toHaveBeenCalledWith(expect.stringContaining('unreadable'))
  })

  it('reads well-formed state without a warning', () => {
    core.saved.resources = JSON.stringify([{ kind: 'directory', path: '/tmp/x' }])
    expect(createdResources()).toHaveLength(1)
    expect(core.warning).not.toHaveBeenCalled()
  })
})

// The lifecycle of what the *_dbt_deploy names hold: what a deploy, a promote and a rollback
// decide from the records in S3 and the names that exist, and the state `phase: status` shows.
import { jest, describe, it, expect } from '@jest/globals'
import * as core from '../../__fixtures__/core.js'

jest.unstable_mockModule('@actions/core', () => core)
const { deployRefusal, greenOccupant, keptAfterRollback, nothingToPromote, previousToRollBack } =
  await import('../../src/bluegreen/lifecycle.js')
const { stateSection } = await import('../../src/bluegreen/phases/status.js')
const { misfit } = await import('../../src/store/shape.js')
const { PREVIOUS_SHAPE } = await import('../../src/store/records.js')

const URI = 's3://bucket/prod'
const GREEN = { schemas: ['prod_dbt_deploy'], clusters: ['analytics_dbt_deploy'] }
const NONE = { schemas: [], clusters: [] }
const staged = {
  sha: 'c3c3c3c3c3c3c3c3',
  target: 'prod',
  ...GREEN,
  fingerprint: 'f',
  manifestEtag: null,
  stagedAt: '2026-11-29T10:00:00Z',
  runUrl: 'https://github.com/acme/analytics/actions/runs/3'
}
const previous = {
  sha: 'a1a1a1a1a1a1a1a1',
  replacedBy: 'b2b2b2b2b2b2b2b2',
  keptAt: '2026-11-29T09:00:00Z'
}

describe('what the green names hold', () => {
  it('nothing, listing records that describe names that are gone', () => {
    expect(greenOccupant({}, NONE)).toEqual({ kind: 'nothing', staleRecords: [] })
    expect(greenOccupant({ staged, previous }, NONE)).toEqual({
      kind: 'nothing',
      staleRecords: ['staged', 'previous']
    })
  })

  it('a staged deploy, a kept previous, or something no record explains', () => {
    const names = ['prod_dbt_deploy', 'analytics_dbt_deploy']
    expect(greenOccupant({ staged }, GREEN)).toEqual({ kind: 'staged', staged, names })
    expect(greenOccupant({ previous }, GREEN)).toEqual({ kind: 'kept-previous', previous, names })
    expect(greenOccupant({}, GREEN)).toEqual({ kind: 'unrecorded', names })
  })

  it('a kept previous of which only a cluster is left is still the kept previous', () => {
    const occupant = greenOccupant({ previous }, { schemas: [], clusters: GREEN.clusters })
    expect(occupant).toEqual({ kind: 'kept-previous', previous, names: GREEN.clusters })
  })
})

describe('a new deploy', () => {
  it('goes ahead over nothing and over a kept previous (which it drops)', () => {
    expect(deployRefusal(greenOccupant({}, NONE))).toBeUndefined()
    expect(deployRefusal(greenOccupant({ previous }, GREEN))).toBeUndefined()
  })

  it('refuses a staged deploy, offering promote or cleanup and never a rollback', () => {
    const refusal = deployRefusal(greenOccupant({ staged }, GREEN))!
    expect(refusal).toContain('commit c3c3c3c3c3c3')
    expect(refusal).toContain(staged.runUrl)
    expect(refusal).toMatch(/"phase: promote".*"phase: cleanup"/)
    expect(refusal).not.toMatch(/roll/)
  })

  it('refuses names no record explains, offering cleanup only', () => {
    const refusal = deployRefusal(greenOccupant({}, GREEN))!
    expect(refusal).toContain('prod_dbt_deploy, analytics_dbt_deploy')
    expect(refusal).toContain('"phase: cleanup"')
    expect(refusal).not.toMatch(/promote|roll/)
  })
})

describe('a rollback', () => {
  it('swaps back the kept previous', () => {
    expect(previousToRollBack({ previous }, URI)).toBe(previous)
  })

  it('refuses a staged deploy, offering promote or cleanup', () => {
    expect(() => previousToRollBack({ staged, previous }, URI)).toThrow(
      /staged deploy of commit c3c3c3c3c3c3.*"phase: promote".*"phase: cleanup"/
    )
  })

  it('refuses when nothing was kept, saying how to keep one', () => {
    expect(() => previousToRollBack({}, URI)).toThrow(
      `no previous production was kept (nothing at ${URI}/previous.json)`
    )
    expect(() => previousToRollBack({}, URI)).toThrow(/"keep-previous: true"/)
  })

  it('keeps the release it rolls back as the next previous, so a second rollback re-applies it', () => {
    const at = new Date('2026-11-29T11:00:00Z')
    const kept = keptAfterRollback(previous, at)
    expect(kept).toEqual({
      sha: previous.replacedBy,
      replacedBy: previous.sha,
      keptAt: '2026-11-29T11:00:00.000Z',
      keptBy: 'rollback'
    })
    expect(misfit(kept, PREVIOUS_SHAPE)).toBeUndefined()
    // Rolled back twice: the first kept previous again, in the same shape.
    expect(keptAfterRollback(kept, at)).toEqual({
      ...kept,
      sha: previous.sha,
      replacedBy: previous.replacedBy
    })
  })
})

describe('a promote with nothing staged', () => {
  it('offers a deploy, and a rollback only when a previous production is kept', () => {
    expect(nothingToPromote(undefined, URI)).toBe(
      `No staged deploy at ${URI}/staged/: run "phase: deploy" first.`
    )
    const withPrevious = nothingToPromote(previous, URI)
    expect(withPrevious).toContain(
      'the previous production kept for rollback (commit a1a1a1a1a1a1, replaced by commit b2b2b2b2b2b2, kept 2026-11-29T09:00:00Z)'
    )
    expect(withPrevious).toMatch(
      /"phase: deploy".*drops that previous production.*"phase: rollback"/
    )
  })
})

describe('the status summary', () => {
  it('shows production, what green holds, the staged deploy, the kept previous and the lock', () => {
    const section = stateSection({
      production: {
        ...{ schemas: ['prod'], clusters: [] },
        missing: ['analytics'],
        manifestSha: 'b2b2'
      },
      green: { holds: 'kept-previous', ...GREEN },
      staged: null,
      previous: { ...previous, keptBy: 'rollback' },
      lock: {
        owner: 'acme/analytics run 7 (deploy)',
        runUrl: 'https://github.com/acme/analytics/actions/runs/7',
        acquiredAt: '2026-11-29T12:00:00Z',
        expiresAt: '2026-11-29T12:30:00Z',
        expired: false
      }
    })
    expect(section).toContain(
      '| Production | `prod`; missing: `analytics`; manifest of commit `b2b2` |'
    )
    expect(section).toContain(
      '| Green names hold | kept-previous: `prod_dbt_deploy`, `analytics_dbt_deploy` |'
    )
    expect(section).toContain('| Staged deploy | none |')
    expect(section).toContain(
      '| Kept previous | commit `a1a1a1a1a1a1a1a1`, rolled back to `b2b2b2b2b2b2b2b2`, kept 2026-11-29T09:00:00Z |'
    )
    expect(section).toContain(
      '| Deploy lock | held by acme/analytics run 7 (deploy) (https://github.com/acme/analytics/actions/runs/7) since 2026-11-29T12:00:00Z, expires 2026-11-29T12:30:00Z |'
    )
  })

  it('says when the lock is free or not one this action wrote', () => {
    const base = {
      production: { schemas: ['prod'], clusters: ['analytics'], missing: [], manifestSha: null },
      green: { holds: 'nothing' as const, schemas: [], clusters: [] },
      staged: null,
      previous: null
    }
    expect(stateSection({ ...base, lock: null })).toContain('| Deploy lock | free |')
    expect(stateSection({ ...base, lock: { unreadable: true } })).toContain('did not write')
    expect(stateSection({ ...base, lock: null })).toContain('manifest of commit `none published`')
  })
})

// What the `*_dbt_deploy` names hold between runs, and what each phase does about it. The names
// hold at most one thing: a staged deploy (staged/deployment.json), the previous production kept
// for rollback (previous.json), or something no record explains. A kept previous lives until
// the next deploy starts, which drops it: the rollback window never blocks the pipeline.
import * as core from '@actions/core'
import { ActionError } from '../errors.js'
import {
  PREVIOUS_SHAPE,
  STAGED_SHAPE,
  readRecord,
  type PreviousProduction,
  type StagedDeployment
} from '../store/records.js'
import type { EnvironmentNames } from '../warehouse/environment.js'
import type { BlueGreenRun } from './run.js'
import { stagedKeys } from '../store/layout.js'
import { guardGreenDrop } from './guard.js'

export interface GreenRecords {
  staged?: StagedDeployment
  previous?: PreviousProduction
}

export type GreenOccupant =
  | { kind: 'nothing'; staleRecords: Array<keyof GreenRecords> }
  | { kind: 'staged'; staged: StagedDeployment; names: string[] }
  | { kind: 'kept-previous'; previous: PreviousProduction; names: string[] }
  | { kind: 'unrecorded'; names: string[] }

const listed = (names: EnvironmentNames): string[] => [...names.schemas, ...names.clusters]

/** What the green names hold, from the records in S3 and the names that exist. */
export function greenOccupant(records: GreenRecords, existing: EnvironmentNames): GreenOccupant {
  const names = listed(existing)
  if (names.length === 0) {
    const staleRecords = (['staged', 'previous'] as const).filter((r) => records[r] !== undefined)
    return { kind: 'nothing', staleRecords }
  }
  // A staged deploy is written after the kept previous was dropped, so it is the newer truth.
  if (records.staged) return { kind: 'staged', staged: records.staged, names }
  if (records.previous) return { kind: 'kept-previous', previous: records.previous, names }
  return { kind: 'unrecorded', names }
}

const commit = (sha: string | undefined): string =>
  sha ? `commit ${sha.slice(0, 12)}` : 'commit unknown'

export function describeStaged(staged: StagedDeployment): string {
  const run = staged.runUrl ? `, run ${staged.runUrl}` : ''
  return `the staged deploy of ${commit(staged.sha)} (staged ${staged.stagedAt}${run})`
}

export function describePrevious(previous: PreviousProduction): string {
  const [what, how] =
    previous.keptBy === 'rollback'
      ? ['the rolled-back release', 'rolled back to']
      : ['the previous production', 'replaced by']
  return `${what} kept for rollback (${commit(previous.sha)}, ${how} ${commit(previous.replacedBy)}, kept ${previous.keptAt})`
}

/** Why a new deploy cannot start, with only the actions that work in that state. */
export function deployRefusal(occupant: GreenOccupant): string | undefined {
  switch (occupant.kind) {
    case 'staged':
      return (
        `The green names (${occupant.names.join(', ')}) hold ${describeStaged(occupant.staged)}. ` +
        'Promote it with "phase: promote", or drop it with "phase: cleanup"; then deploy again.'
      )
    case 'unrecorded':
      return (
        `${occupant.names.join(', ')} exist, but no staged deploy or kept previous production is recorded for them ` +
        '(a run that stopped with "cleanup-on-failure: false", or objects made by hand). ' +
        'Check what they hold, then drop them with "phase: cleanup".'
      )
    default:
      return undefined
  }
}

/**
 * What `phase: rollback` swaps back, or a refusal with the actions that work instead; decided
 * on the records alone, before any SQL.
 */
export function previousToRollBack(records: GreenRecords, uri: string): PreviousProduction {
  if (records.staged) {
    throw new ActionError(
      `Input "phase" is "rollback", but the green names hold ${describeStaged(records.staged)}, not a previous production: ` +
        'the deploy that staged it dropped the one kept for rollback. Promote it with "phase: promote", or drop it with "phase: cleanup".'
    )
  }
  if (!records.previous) {
    throw new ActionError(
      `Input "phase" is "rollback", but no previous production was kept (nothing at ${uri}/previous.json). ` +
        'Deploy and promote with "keep-previous: true" to keep one for the next rollback.'
    )
  }
  return records.previous
}

/** Why `phase: promote` found nothing to promote, with the actions that work instead. */
export function nothingToPromote(previous: PreviousProduction | undefined, uri: string): string {
  const none = `No staged deploy at ${uri}/staged/`
  if (!previous) return `${none}: run "phase: deploy" first.`
  return (
    `${none}: the green names hold ${describePrevious(previous)}. ` +
    'Run "phase: deploy" to stage a new release (it drops that previous production first), or "phase: rollback" to swap it back.'
  )
}

/**
 * previous.json after a rollback that keeps the release it rolled back: a second rollback
 * swaps that release back in, the next deploy drops it.
 */
export function keptAfterRollback(restored: PreviousProduction, at: Date): PreviousProduction {
  return {
    sha: restored.replacedBy,
    replacedBy: restored.sha,
    keptAt: at.toISOString(),
    keptBy: 'rollback'
  }
}

export async function readGreenRecords(run: BlueGreenRun): Promise<GreenRecords> {
  const { store } = run.clients
  return {
    staged: await readRecord(store, run.keys.staged, 'staged deploy', STAGED_SHAPE),
    previous: await readRecord(store, run.keys.previous, 'kept previous production', PREVIOUS_SHAPE)
  }
}

/**
 * The one way a kept previous production is dropped: the release under the green names and
 * then its record, so a drop that stops half-way is still recorded and retried by the next
 * deploy. The lock must be held.
 */
export async function dropKeptPrevious(
  run: BlueGreenRun,
  previous: PreviousProduction
): Promise<void> {
  const existing = await run.existingGreen()
  await guardGreenDrop(run, describePrevious(previous))
  await run.verifyLease()
  await run.dropGreen()
  await run.clients.store.delete(run.keys.previous)
  const message = `Dropped ${describePrevious(previous)}: ${listed(existing).join(', ') || 'nothing was left of it'}.`
  core.notice(message)
  run.notes.push(message)
}

async function forgetStaleRecords(
  run: BlueGreenRun,
  stale: Array<keyof GreenRecords>
): Promise<void> {
  if (stale.length === 0) return
  const keys = stale.flatMap((r) => (r === 'staged' ? stagedKeys(run.keys) : [run.keys.previous]))
  for (const key of keys) await run.clients.store.delete(key)
  const message = `No *_dbt_deploy names exist, so the records ${keys.join(', ')} described nothing and were removed.`
  core.notice(message)
  run.notes.push(message)
}

/**
 * Before a new deploy builds green: drops a kept previous production (the rollback window
 * closes when the next deploy starts), forgets records of names that are gone, and refuses
 * when the names hold a staged deploy or something unrecorded. The lock must be held.
 */
export async function makeRoomForGreen(run: BlueGreenRun): Promise<void> {
  const occupant = greenOccupant(await readGreenRecords(run), await run.existingGreen())
  const refusal = deployRefusal(occupant)
  if (refusal) throw new ActionError(refusal)
  if (occupant.kind === 'kept-previous') await dropKeptPrevious(run, occupant.previous)
  if (occupant.kind === 'nothing') await forgetStaleRecords(run, occupant.staleRecords)
}

// Blue/green's records in S3 (the staged deploy, the kept previous production and the swap),
// with the shapes they are checked against when read back.
import { ActionError } from '../errors.js'
import type { ObjectStore } from './s3.js'
import { parseRecord, type Shape } from './shape.js'

export interface StagedDeployment {
  sha: string
  target: string
  schemas: string[]
  clusters: string[]
  /** Production's fingerprint before deploy_init; promote refuses if it changed. */
  fingerprint: string
  /** ETag of the production manifest when the deploy started; null when there was none. */
  manifestEtag: string | null
  /** Commit of the production being replaced, when its manifest says. */
  previousSha?: string
  stagedAt: string
  runUrl?: string
  /** The GitHub deployment the promote carries on, when the deploy could write one. */
  deploymentId?: number
}

export const STAGED_SHAPE: Shape<StagedDeployment> = {
  sha: 'string',
  target: 'string',
  schemas: 'string[]',
  clusters: 'string[]',
  fingerprint: 'string',
  manifestEtag: 'string|null',
  previousSha: 'string?',
  stagedAt: 'string',
  runUrl: 'string?',
  deploymentId: 'number?'
}

/**
 * The release kept under the `*_dbt_deploy` names for `phase: rollback`: the production a
 * promote replaced, or the release a rollback took out of production. The next deploy drops it.
 */
export interface PreviousProduction {
  /** Commit of the kept release, whose manifest is archived under manifests/<sha>.json. */
  sha?: string
  /** Commit of the release that replaced it in production, when known. */
  replacedBy?: string
  keptAt: string
  /** `promote` (absent in records written before rollbacks kept anything) or `rollback`. */
  keptBy?: string
}

export const PREVIOUS_SHAPE: Shape<PreviousProduction> = {
  sha: 'string?',
  replacedBy: 'string?',
  keptAt: 'string',
  keptBy: 'string?'
}

/**
 * The schemas and clusters on both sides of a swap, with their catalog ids before it ran.
 * Green's names are production's with `_dbt_deploy`; the id lists follow `schemas`/`clusters`.
 */
export interface SwapSides {
  schemas: string[]
  clusters: string[]
  productionSchemaIds: string[]
  greenSchemaIds: string[]
  productionClusterIds: string[]
  greenClusterIds: string[]
}

export const SWAP_SIDES_SHAPE: Shape<SwapSides> = {
  schemas: 'string[]',
  clusters: 'string[]',
  productionSchemaIds: 'string[]',
  greenSchemaIds: 'string[]',
  productionClusterIds: 'string[]',
  greenClusterIds: 'string[]'
}

/** `about-to-swap` until a run decides from the catalog's ids what became of the swap. */
export const SWAP_OUTCOMES = ['about-to-swap', 'committed', 'not-committed', 'unclear'] as const
export type SwapOutcome = (typeof SWAP_OUTCOMES)[number]

/** A swap about to run (written before deploy_promote), then what became of it. */
export interface SwapRecord extends SwapSides {
  /** Commit being promoted, and the commit of the production it replaces when known. */
  sha: string
  previousSha?: string
  target: string
  runUrl?: string
  recordedAt: string
  outcome: SwapOutcome
  decidedAt?: string
}

export const SWAP_SHAPE: Shape<SwapRecord> = {
  ...SWAP_SIDES_SHAPE,
  sha: 'string',
  previousSha: 'string?',
  target: 'string',
  runUrl: 'string?',
  recordedAt: 'string',
  outcome: 'string',
  decidedAt: 'string?'
}

/** Whether each id list has one id per name. */
export function sidesAligned(sides: SwapSides): boolean {
  const { schemas, clusters } = sides
  return (
    sides.productionSchemaIds.length === schemas.length &&
    sides.greenSchemaIds.length === schemas.length &&
    sides.productionClusterIds.length === clusters.length &&
    sides.greenClusterIds.length === clusters.length
  )
}

/** The swap record at `key`, checked like the others plus its outcome and id lists. */
export async function readSwapRecord(
  store: ObjectStore,
  key: string
): Promise<SwapRecord | undefined> {
  const record = await readRecord(store, key, 'swap record', SWAP_SHAPE)
  if (!record) return undefined
  const problem = !SWAP_OUTCOMES.includes(record.outcome)
    ? `its outcome "${record.outcome}" is not one of ${SWAP_OUTCOMES.join(', ')}`
    : !sidesAligned(record)
      ? 'its id lists do not match its schemas and clusters'
      : undefined
  if (problem)
    throw new ActionError(`The swap record at ${key} is not one this action wrote: ${problem}.`)
  return record
}

/** Writes a record the way readRecord reads it back: the one writer of blue/green's records. */
export async function writeRecord<T>(store: ObjectStore, key: string, record: T): Promise<void> {
  await store.put(key, JSON.stringify(record, null, 2))
}

/** The record at `key`, checked against its shape, or undefined when there is none. */
export async function readRecord<T>(
  store: ObjectStore,
  key: string,
  what: string,
  shape: Shape<T>
): Promise<T | undefined> {
  const object = await store.get(key)
  if (!object) return undefined
  return parseRecord(object.body, shape, what, `${key} (run phase "cleanup" to start over)`)
}

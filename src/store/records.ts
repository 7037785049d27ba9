// Blue/green's records in S3 (the staged deploy and the kept previous production), with the
// shapes they are checked against when read back.
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
  runUrl: 'string?'
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

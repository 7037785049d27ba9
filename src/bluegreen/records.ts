// Blue/green state kept in S3 beside the manifest, so that phases can run in separate jobs
// on fresh runners: the lock, the staged deploy, and the previous production kept for rollback.
import type { StateLocation } from '../inputs.js'
import type { ObjectStore } from '../store/s3.js'
import { objectKey } from '../slim/state.js'
import { ActionError } from '../errors.js'

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

export interface PreviousProduction {
  /** Commit of the kept production, whose manifest is archived under manifests/<sha>.json. */
  sha?: string
  replacedBy: string
  keptAt: string
}

export const keys = (location: StateLocation) => ({
  lock: objectKey(location, 'deploy.lock'),
  staged: objectKey(location, 'staged/deployment.json'),
  stagedManifest: objectKey(location, 'staged/manifest.json'),
  previous: objectKey(location, 'previous.json')
})

export async function readJson<T>(
  store: ObjectStore,
  key: string,
  what: string
): Promise<T | undefined> {
  const object = await store.get(key)
  if (!object) return undefined
  try {
    return JSON.parse(object.body) as T
  } catch {
    throw new ActionError(
      `The ${what} at ${key} is not valid JSON; run phase "cleanup" to start over.`
    )
  }
}

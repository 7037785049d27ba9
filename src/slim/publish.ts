// Publishing the new production manifest, with a conditional write so that a run that
// started earlier can never replace the manifest of a run that finished before it.
import * as core from '@actions/core'
import type { StateLocation, UploadPolicy } from '../inputs.js'
import type { ObjectStore, WriteCondition } from '../store/s3.js'
import { ConditionalWriteRefused } from '../store/s3.js'
import { ActionError } from '../errors.js'
import { archiveKey, manifestKey } from './state.js'

export function wantsUpload(policy: UploadPolicy, onDefaultBranchPush: boolean): boolean {
  return policy === 'true' || (policy === 'auto' && onDefaultBranchPush)
}

/**
 * Writes manifest.json on the condition read when the run started (undefined: the run could
 * not read the manifest, so it cannot prove it is not replacing a newer one), then the archive.
 */
export async function publishManifest(
  store: ObjectStore,
  location: StateLocation,
  body: string,
  condition: WriteCondition | undefined,
  gitSha: string
): Promise<void> {
  if (!condition) {
    throw new ActionError(
      'The manifest is not published: this run could not read the current one, so it cannot prove it is not overwriting a newer one.'
    )
  }
  const metadata = { 'git-sha': gitSha, 'github-run-id': process.env.GITHUB_RUN_ID ?? '' }
  try {
    await store.put(manifestKey(location), body, condition, metadata)
  } catch (error) {
    if (!(error instanceof ConditionalWriteRefused)) throw error
    throw new ActionError(
      `A newer production manifest was published to ${location.uri}/manifest.json while this run was deploying, so this run's manifest was not uploaded. ` +
        'Production may now hold objects from this older commit: re-run the newest deploy to restore it.'
    )
  }
  await store.put(archiveKey(location, gitSha), body, undefined, metadata)
  core.info(`Published ${location.uri}/manifest.json and the archive manifests/${gitSha}.json.`)
}

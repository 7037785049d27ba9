// Where the action keeps its state under the state URI, in one place: the production manifest
// and its per-commit archive (slim and blue/green), and blue/green's lock, staged deploy and
// kept previous production and the swap in progress (so phases can run in separate jobs on fresh runners).
import type { StateLocation } from '../inputs.js'

function objectKey(location: StateLocation, name: string): string {
  return location.prefix ? `${location.prefix}/${name}` : name
}

/**
 * Metadata stored with each published manifest, so that a run can decide from one HEAD request
 * (the commit it was built from, and the dbt that wrote it) without downloading it.
 */
export const GIT_SHA = 'git-sha'
export const DBT_VERSION = 'dbt-version'

export const manifestKey = (location: StateLocation): string => objectKey(location, 'manifest.json')

export const archiveKey = (location: StateLocation, sha: string): string =>
  objectKey(location, `manifests/${sha}.json`)

export const blueGreenKeys = (location: StateLocation) => ({
  lock: objectKey(location, 'deploy.lock'),
  staged: objectKey(location, 'staged/deployment.json'),
  stagedManifest: objectKey(location, 'staged/manifest.json'),
  /** The data diff of the staged green, which the promote compares its own with. */
  stagedDiff: objectKey(location, 'staged/diff.json'),
  previous: objectKey(location, 'previous.json'),
  swap: objectKey(location, 'swap.json')
})

/** What a staged deploy keeps in S3, removed together when it is promoted or dropped. */
export const stagedKeys = (keys: ReturnType<typeof blueGreenKeys>): string[] => [
  keys.staged,
  keys.stagedManifest,
  keys.stagedDiff
]

// Publishing the new production manifest. The write is conditional on the manifest the run
// read when it started. When S3 refuses it, the run reads what S3 holds now and decides: its
// own content (S3 had committed a write whose answer was lost, and the retry was refused), an
// older commit's manifest (replaced), or a newer or unrelated one (left alone, with a message
// that says what that means for production).
import * as core from '@actions/core'
import type { StateLocation, UploadPolicy } from '../inputs.js'
import type { ObjectStore, StoredObject, WriteCondition } from './s3.js'
import { ConditionalWriteRefused } from './s3.js'
import { ActionError } from '../errors.js'
import type { CommitHistory, Ordering } from './ancestry.js'
import { archiveKey, DBT_VERSION, GIT_SHA, manifestKey } from './layout.js'

/** Writes tried before giving up on a manifest that keeps changing under this run. */
const MAX_WRITES = 5

export function wantsUpload(policy: UploadPolicy, onDefaultBranchPush: boolean): boolean {
  return policy === 'true' || (policy === 'auto' && onDefaultBranchPush)
}

export interface PublishOptions {
  /** Orders the commit of a manifest published meanwhile; without it, that one is never replaced. */
  history?: CommitHistory
  /** This run changed production's objects, so a refusal leaves production ahead of S3 or behind it. */
  changedProduction?: boolean
}

/** What the run knows about the manifest another run published while it was deploying. */
export interface StoredManifestFacts {
  manifestUri: string
  /** This run's commit. */
  ours: string
  /** The commit the stored manifest was built from, when its metadata says. */
  stored?: string
  /** How `stored` relates to `ours`; undefined when this publish does not compare commits. */
  ordering?: Ordering
  changedProduction: boolean
}

export type Verdict = { replace: true; notice: string } | { replace: false; message: string }

/** Replace a manifest of an ancestor (or of the same commit); refuse anything else, saying why. */
export function judgeStoredManifest(facts: StoredManifestFacts): Verdict {
  const { manifestUri: uri, ours, stored, ordering } = facts
  const storedName = stored ?? 'an unknown commit'
  const notPublished = `This run's manifest (commit ${ours}) was not published: while this run was deploying, ${uri} was replaced by the manifest of ${storedName}`
  const unsettled = facts.changedProduction
    ? ` Production may hold objects built from ${ours} while S3 describes ${storedName}: re-run the deploy of the commit that belongs in production.`
    : ''
  switch (ordering?.order) {
    case 'ancestor':
      return {
        replace: true,
        notice: `While this run was deploying, ${uri} was replaced by the manifest of ${stored}, an ancestor of this run's commit ${ours} (according to ${ordering.how}). This run's newer manifest replaces it.`
      }
    case 'identical':
      return {
        replace: true,
        notice: `While this run was deploying, another run published a manifest of the same commit ${ours} to ${uri}. This run's manifest replaces it.`
      }
    case 'descendant':
      return {
        replace: false,
        message:
          `${notPublished}, a newer commit (${ours} is its ancestor, according to ${ordering.how}). S3 keeps the manifest of ${stored}.` +
          (facts.changedProduction
            ? ` This run changed production, possibly after the deploy of ${stored} did, so production may hold objects built from the older commit ${ours}: re-run the deploy of ${stored} (or of the newest commit) to restore them.`
            : '')
      }
    case 'diverged':
      return {
        replace: false,
        message: `${notPublished}, and neither commit is an ancestor of the other (according to ${ordering.how}), so this run cannot tell which is newer and leaves S3 as it is.${unsettled}`
      }
    case 'unknown':
      return {
        replace: false,
        message: `${notPublished}. This run cannot tell whether that commit is newer or older than ${ours}: ${ordering.how}. It leaves S3 as it is.${unsettled}`
      }
    default:
      return {
        replace: false,
        message: `${notPublished}, which this run does not replace.${unsettled}`
      }
  }
}

/**
 * Writes manifest.json on the condition read when the run started (undefined: the run could
 * not read the manifest, so it cannot prove it is not replacing a newer one), then the archive.
 * Returns a sentence for the report.
 */
export async function publishManifest(
  store: ObjectStore,
  location: StateLocation,
  body: string,
  condition: WriteCondition | undefined,
  gitSha: string,
  options: PublishOptions = {}
): Promise<string> {
  if (!condition) {
    throw new ActionError(
      'The manifest is not published: this run could not read the current one, so it cannot prove it is not overwriting a newer one.'
    )
  }
  const metadata = {
    [GIT_SHA]: gitSha,
    [DBT_VERSION]: writtenBy(body) ?? '',
    'github-run-id': process.env.GITHUB_RUN_ID ?? ''
  }
  const replaced = await writeManifest(
    { store, location, body, gitSha, metadata, options },
    condition
  )
  await store.put(archiveKey(location, gitSha), body, undefined, metadata)
  core.info(`Published ${location.uri}/manifest.json and the archive manifests/${gitSha}.json.`)
  const replacing = replaced ? `, replacing the manifest of ${replaced} published meanwhile` : ''
  return `Manifest of ${gitSha} published to ${location.uri}/manifest.json${replacing}.`
}

/**
 * The dbt version in the manifest's metadata, which dbt writes first: read from the head of the
 * text, since parsing all of a large manifest for one field costs seconds.
 */
function writtenBy(body: string): string | undefined {
  return /"dbt_version"\s*:\s*"([^"]{1,64})"/.exec(body.slice(0, 4096))?.[1]
}

interface Publication {
  store: ObjectStore
  location: StateLocation
  body: string
  gitSha: string
  metadata: Record<string, string>
  options: PublishOptions
}

/** Writes manifest.json, deciding again after each refusal; returns the commit it replaced. */
async function writeManifest(
  publication: Publication,
  condition: WriteCondition
): Promise<string | undefined> {
  const { store, location, body, metadata } = publication
  const key = manifestKey(location)
  let replaced: string | undefined
  for (let write = 1; ; write++) {
    try {
      await store.put(key, body, condition, metadata)
      return replaced
    } catch (error) {
      if (!(error instanceof ConditionalWriteRefused)) throw error
    }
    const current = await store.get(key)
    if (current?.body === body) {
      core.info(
        `S3 refused a retried write of ${location.uri}/manifest.json, but holds this run's manifest: the first attempt had succeeded.`
      )
      return replaced
    }
    if (write === MAX_WRITES) {
      throw new ActionError(
        `The manifest was not published: ${location.uri}/manifest.json kept changing while this run wrote it (${MAX_WRITES} attempts).`
      )
    }
    const next = await conditionAfterRefusal(publication, current, condition)
    replaced = next.replacing ?? replaced
    condition = next.condition
  }
}

/** The condition of the next write, or an ActionError when the stored manifest must stay. */
async function conditionAfterRefusal(
  { location, gitSha: ours, options }: Publication,
  current: StoredObject | undefined,
  condition: WriteCondition
): Promise<{ condition: WriteCondition; replacing?: string }> {
  if (!current) return { condition: { ifNoneMatch: '*' } } // deleted meanwhile: nothing to protect
  // A conflicting write in flight (409) that did not land: the object is still the one read.
  if (condition && 'ifMatch' in condition && condition.ifMatch === current.etag)
    return { condition }
  const stored = current.metadata[GIT_SHA] || undefined
  const verdict = judgeStoredManifest({
    manifestUri: `${location.uri}/manifest.json`,
    ours,
    stored,
    ordering: options.history && (await orderingOf(options.history, stored, ours)),
    changedProduction: options.changedProduction ?? false
  })
  if (!verdict.replace) throw new ActionError(verdict.message)
  core.notice(verdict.notice)
  return { condition: { ifMatch: current.etag }, replacing: stored }
}

async function orderingOf(
  history: CommitHistory,
  stored: string | undefined,
  ours: string
): Promise<Ordering> {
  if (stored) return history(stored, ours)
  return { order: 'unknown', how: 'that manifest does not say which commit it was built from' }
}

// Production state: the manifest of the last successful deploy, downloaded from the store.
import * as core from '@actions/core'
import { mkdtempSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { StateErrorPolicy, StateLocation } from '../inputs.js'
import type { ObjectStore, WriteCondition } from '../store/s3.js'
import { DBT_VERSION, GIT_SHA, manifestKey } from '../store/layout.js'
import { parseManifest, type NodeIndex } from '../dbt/artifacts.js'
import {
  readableRange,
  unreadableManifest,
  type ManifestSupport,
  type ManifestVersion
} from '../dbt/manifest-versions.js'
import { ActionError, errorMessage } from '../errors.js'
import { recordCreated } from '../state.js'

export type ProductionState =
  | {
      kind: 'found'
      dir: string
      etag: string
      gitSha?: string
      nodes: NodeIndex
      /** The manifest's own schema and dbt versions, checked before dbt reads it. */
      version: ManifestVersion
    }
  | { kind: 'missing' }
  /** Present but unusable; etag is known only when the object itself was read. */
  | { kind: 'unusable'; etag?: string; reason: string }

/** The write condition that keeps an older run from replacing a newer manifest. */
export function publishCondition(state: ProductionState): WriteCondition | undefined {
  if (state.kind === 'found') return { ifMatch: state.etag }
  if (state.kind === 'missing') return { ifNoneMatch: '*' }
  return state.etag ? { ifMatch: state.etag } : undefined
}

function stateDirectory(): string {
  const dir = mkdtempSync(path.join(process.env.RUNNER_TEMP || os.tmpdir(), 'dbt-state-'))
  recordCreated({ kind: 'directory', path: dir })
  return dir
}

/** What the installed dbt reads, asked only once a manifest is found. */
export type ManifestSupportQuery = () => Promise<ManifestSupport | undefined>

/** Production state as one HEAD request shows it: enough to decide whether dbt can be skipped. */
export interface StateHead {
  kind: 'present'
  gitSha?: string
  dbtVersion?: string
}

/** Production state before the download: present, or already final. */
export type LocatedState = StateHead | Exclude<ProductionState, { kind: 'found' }>

/**
 * Looks the production manifest up without downloading it. A missing or unreadable one is
 * final here; a present one is downloaded by `fetchProductionState` only when dbt runs.
 */
export async function locateProductionState(
  store: ObjectStore,
  location: StateLocation,
  onError: StateErrorPolicy
): Promise<LocatedState> {
  let head
  try {
    head = await store.head(manifestKey(location))
  } catch (error) {
    return unusable(onError, errorMessage(error))
  }
  if (!head) return missing(location)
  return {
    kind: 'present',
    gitSha: head.metadata[GIT_SHA] || undefined,
    dbtVersion: head.metadata[DBT_VERSION] || undefined
  }
}

function manifestUri(location: StateLocation): string {
  return `s3://${location.bucket}/${manifestKey(location)}`
}

function missing(location: StateLocation): { kind: 'missing' } {
  core.notice(
    `No production manifest at ${manifestUri(location)} yet: this run builds everything (a full build).`
  )
  return { kind: 'missing' }
}

export async function fetchProductionState(
  store: ObjectStore,
  location: StateLocation,
  onError: StateErrorPolicy
): Promise<ProductionState> {
  const uri = manifestUri(location)
  let object
  try {
    object = await store.get(manifestKey(location))
  } catch (error) {
    return unusable(onError, errorMessage(error))
  }
  if (!object) return missing(location)
  let manifest
  try {
    manifest = parseManifest(object.body, uri)
  } catch (error) {
    return unusable(onError, errorMessage(error), object.etag)
  }
  const dir = stateDirectory()
  writeFileSync(path.join(dir, 'manifest.json'), object.body)
  const gitSha = object.metadata[GIT_SHA]
  core.info(
    `Production manifest ${uri} (${manifest.nodes.size} nodes, built from ${gitSha ?? 'an unknown commit'}).`
  )
  const { schemaVersion, dbtVersion } = manifest
  return {
    kind: 'found',
    dir,
    etag: object.etag,
    gitSha,
    nodes: manifest.nodes,
    version: { schemaVersion, dbtVersion }
  }
}

/**
 * The state dbt is about to read, checked against the manifest versions the installed dbt
 * reads (asked only now: a run that skips dbt never pays for it). A manifest from a newer dbt
 * falls under `on-state-error`.
 */
export async function readableState(
  state: ProductionState,
  location: StateLocation,
  onError: StateErrorPolicy,
  manifestSupport: ManifestSupportQuery
): Promise<ProductionState> {
  if (state.kind !== 'found') return state
  const support = await manifestSupport()
  if (!support) {
    core.info(
      'Could not tell which manifest versions dbt reads, so dbt checks the manifest itself.'
    )
    return state
  }
  core.info(`dbt-core ${support.dbtVersion} reads manifest versions ${readableRange(support)}.`)
  const unreadable = unreadableManifest(state.version, support, manifestUri(location))
  return unreadable ? unusable(onError, unreadable, state.etag) : state
}

function unusable(
  onError: StateErrorPolicy,
  reason: string,
  etag?: string
): Extract<ProductionState, { kind: 'unusable' }> {
  if (onError === 'fail') {
    throw new ActionError(
      `${reason}\nSet "on-state-error: full-build" to build everything instead when the state cannot be used.`
    )
  }
  core.warning(
    `Production state is unusable, so this run builds everything ("on-state-error: full-build"): ${reason}`
  )
  return { kind: 'unusable', etag, reason }
}

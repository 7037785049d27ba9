// What main created, saved for the post step so that it undoes exactly that.
import * as core from '@actions/core'
import { misfit, type Shape } from './store/shape.js'
import { SWAP_SIDES_SHAPE, type SwapSides } from './store/records.js'

/**
 * A swap about to run, with the ids on both sides: after any failure the catalog tells
 * whether it committed, and then green's names hold the previous production.
 */
export interface SwapResource extends SwapSides {
  kind: 'swap'
  /** Its S3 record, and where a kept previous production is recorded. */
  key: string
  previousKey: string
}

export type CreatedResource =
  | { kind: 'directory'; path: string }
  /** A deploy lease in S3, released only if it still carries this nonce. */
  | { kind: 'lock'; key: string; nonce: string }
  /** Green schemas and clusters created by this run (names only, never credentials). */
  | { kind: 'green'; schemas: string[]; clusters: string[] }
  | SwapResource

const RESOURCES = 'resources'
const CLEANUP_CONTEXT = 'cleanup-context'

/**
 * How the post step reaches what main created: the store and the profile location as main
 * used them, never credentials (the post step reads those again from the same environment).
 */
export interface CleanupContext {
  bucket: string
  endpoint?: string
  region: string
  maxAttempts: number
  timeoutMs: number
  projectDir: string
  profilesDir?: string
  target?: string
  /** The connection came from the `materialize-url` input rather than the profile. */
  materializeUrl: boolean
}

const CLEANUP_CONTEXT_SHAPE: Shape<CleanupContext> = {
  bucket: 'string',
  endpoint: 'string?',
  region: 'string',
  maxAttempts: 'number',
  timeoutMs: 'number',
  projectDir: 'string',
  profilesDir: 'string?',
  target: 'string?',
  materializeUrl: 'boolean'
}

export function saveCleanupContext(context: CleanupContext): void {
  core.saveState(CLEANUP_CONTEXT, JSON.stringify(context))
}

/** What main saved for the post step, or undefined when it saved nothing readable. */
export function cleanupContext(): CleanupContext | undefined {
  try {
    const saved: unknown = JSON.parse(core.getState(CLEANUP_CONTEXT) || 'null')
    return misfit(saved, CLEANUP_CONTEXT_SHAPE) === undefined
      ? (saved as CleanupContext)
      : undefined
  } catch {
    return undefined
  }
}

let created: CreatedResource[] = []

function save(): void {
  core.saveState(RESOURCES, JSON.stringify(created))
}

export function recordCreated(resource: CreatedResource): void {
  created.push(resource)
  save()
}

/** Forgets resources that no longer need undoing (released, promoted, or kept on purpose). */
export function forgetCreated(kind: CreatedResource['kind']): void {
  created = created.filter((resource) => resource.kind !== kind)
  save()
}

/** Resources recorded in this process (main), for cleanup on failure or cancellation. */
export function recordedHere(): CreatedResource[] {
  return [...created]
}

type ResourceShapes = {
  [K in CreatedResource['kind']]: Shape<Extract<CreatedResource, { kind: K }>>
}

const RESOURCE_SHAPES: ResourceShapes = {
  directory: { kind: 'string', path: 'string' },
  lock: { kind: 'string', key: 'string', nonce: 'string' },
  green: { kind: 'string', schemas: 'string[]', clusters: 'string[]' },
  swap: { kind: 'string', key: 'string', previousKey: 'string', ...SWAP_SIDES_SHAPE }
}

function isResource(value: unknown): value is CreatedResource {
  const kind = (value as { kind?: unknown } | null)?.kind
  return (
    typeof kind === 'string' &&
    Object.hasOwn(RESOURCE_SHAPES, kind) &&
    misfit(value, RESOURCE_SHAPES[kind as CreatedResource['kind']]) === undefined
  )
}

/** Resources the main step recorded, read back in the post step; anything else is skipped. */
export function createdResources(): CreatedResource[] {
  const saved = core.getState(RESOURCES)
  if (!saved) return []
  let parsed: unknown
  try {
    parsed = JSON.parse(saved)
  } catch {
    parsed = undefined
  }
  const list: unknown[] = Array.isArray(parsed) ? parsed : []
  const resources = list.filter(isResource)
  if (!Array.isArray(parsed) || resources.length < list.length) {
    core.warning(
      "Part of the main step's saved state is unreadable; only the readable part is cleaned up."
    )
  }
  return resources
}

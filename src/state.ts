// What main created, saved for the post step so that it undoes exactly that.
import * as core from '@actions/core'

export type CreatedResource =
  | { kind: 'directory'; path: string }
  /** A deploy lease in S3, released only if it still carries this nonce. */
  | { kind: 'lock'; key: string; nonce: string }
  /** Green schemas and clusters created by this run (names only, never credentials). */
  | { kind: 'green'; schemas: string[]; clusters: string[] }

const RESOURCES = 'resources'

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

/** Resources the main step recorded, read back in the post step. */
export function createdResources(): CreatedResource[] {
  const saved = core.getState(RESOURCES)
  if (!saved) return []
  try {
    return JSON.parse(saved) as CreatedResource[]
  } catch {
    core.warning('The saved state of the main step is unreadable; nothing to clean up.')
    return []
  }
}

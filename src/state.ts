// What main created, saved for the post step so that it undoes exactly that.
import * as core from '@actions/core'

export type CreatedResource = { kind: 'directory'; path: string }

const RESOURCES = 'resources'

const created: CreatedResource[] = []

export function recordCreated(resource: CreatedResource): void {
  created.push(resource)
  core.saveState(RESOURCES, JSON.stringify(created))
}

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

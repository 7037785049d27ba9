// The post step: remove exactly what the main step recorded as created.
import * as core from '@actions/core'
import { rmSync } from 'node:fs'
import { createdResources, type CreatedResource } from './state.js'
import { errorMessage } from './errors.js'

type Remover = {
  [K in CreatedResource['kind']]: (resource: Extract<CreatedResource, { kind: K }>) => Promise<void>
}

const removers: Remover = {
  directory: async ({ path }) => rmSync(path, { recursive: true, force: true })
}

export async function cleanup(): Promise<void> {
  const resources = createdResources()
  if (resources.length === 0) return
  await core.group('Clean up', async () => {
    for (const resource of resources.reverse()) {
      try {
        await removers[resource.kind](resource)
        core.info(`Removed ${resource.kind} ${resource.path}.`)
      } catch (error) {
        core.warning(`Could not remove ${resource.kind} ${resource.path}: ${errorMessage(error)}`)
      }
    }
  })
}

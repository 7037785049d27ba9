// Undoing what a run created, newest first: used by the main step on failure and
// cancellation, and by the post step for whatever main could not finish. A failing removal
// only warns.
import * as core from '@actions/core'
import { rmSync } from 'node:fs'
import type { CreatedResource } from './state.js'
import { errorMessage } from './errors.js'
import { S3Lease } from './store/lock.js'
import type { ObjectStore } from './store/s3.js'
import type { Warehouse } from './warehouse/pg.js'
import { dropEnvironment } from './warehouse/environment.js'

/** Clients opened only when a resource needs them. */
export interface CleanupClients {
  store(): Promise<ObjectStore>
  warehouse(): Promise<Warehouse>
}

type Removers = {
  [K in CreatedResource['kind']]: (
    resource: Extract<CreatedResource, { kind: K }>,
    clients: CleanupClients
  ) => Promise<string>
}

const removers: Removers = {
  directory: ({ path }) => {
    rmSync(path, { recursive: true, force: true })
    return Promise.resolve(`Removed ${path}.`)
  },
  lock: async ({ key, nonce }, clients) => {
    const released = await S3Lease.releaseRecorded(await clients.store(), key, nonce)
    return released
      ? `Released the deploy lock ${key}.`
      : `The deploy lock ${key} was no longer ours.`
  },
  green: async ({ schemas, clusters }, clients) => {
    const dropped = await dropEnvironment(await clients.warehouse(), { schemas, clusters }, 'exact')
    return dropped.length > 0
      ? `Dropped green ${dropped.join(', ')}.`
      : 'No green environment was left.'
  }
}

function remove<K extends CreatedResource['kind']>(
  resource: Extract<CreatedResource, { kind: K }>,
  clients: CleanupClients
): Promise<string> {
  const removeThis: Removers[K] = removers[resource.kind]
  return removeThis(resource, clients)
}

/** Undoes resources newest first (green before the lock that protects it). */
export async function undoResources(
  resources: CreatedResource[],
  clients: CleanupClients
): Promise<void> {
  for (const resource of [...resources].reverse()) {
    try {
      core.info(await remove(resource, clients))
    } catch (error) {
      core.warning(`Could not undo ${resource.kind}: ${errorMessage(error)}`)
    }
  }
}

// Undoing what a run created: on failure and cancellation in the main step, and in the post
// step for whatever main could not finish. A failing removal only warns.
import * as core from '@actions/core'
import { rmSync } from 'node:fs'
import { createdResources, type CreatedResource } from './state.js'
import { errorMessage } from './errors.js'
import { getInputs } from './inputs.js'
import { readProject } from './dbt/project.js'
import { S3Lease } from './store/lock.js'
import { S3ObjectStore, type ObjectStore } from './store/s3.js'
import { PgWarehouse, type Warehouse } from './warehouse/pg.js'
import { materializeTarget } from './bluegreen/connection.js'
import { dropEnvironment } from './bluegreen/catalog.js'

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
  directory: async ({ path }) => {
    rmSync(path, { recursive: true, force: true })
    return `Removed ${path}.`
  },
  lock: async ({ key, nonce }, clients) => {
    const released = await S3Lease.releaseRecorded(await clients.store(), key, nonce)
    return released
      ? `Released the deploy lock ${key}.`
      : `The deploy lock ${key} was no longer ours.`
  },
  green: async ({ schemas, clusters }, clients) => {
    await dropEnvironment(await clients.warehouse(), { schemas, clusters })
    return `Dropped green schemas ${schemas.join(', ')} and clusters ${clusters.join(', ')}.`
  }
}

function remove<K extends CreatedResource['kind']>(
  resource: Extract<CreatedResource, { kind: K }>,
  clients: CleanupClients
): Promise<string> {
  return (removers[resource.kind as K] as Removers[K])(resource, clients)
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

/** Clients built from the step's inputs, for the post step. */
function clientsFromInputs(): CleanupClients & { close(): Promise<void> } {
  let store: S3ObjectStore | undefined
  let warehouse: Warehouse | undefined
  const blueGreen = () => {
    const inputs = getInputs()
    if (inputs.mode !== 'blue-green')
      throw new Error('only blue/green runs create locks and green environments')
    return inputs
  }
  return {
    store: async () => {
      const inputs = blueGreen()
      store ??= S3ObjectStore.create(inputs.s3, inputs.state.bucket)
      return store
    },
    warehouse: async () => {
      const inputs = blueGreen()
      warehouse ??= await PgWarehouse.connect(
        materializeTarget(inputs, readProject(inputs.dbt.projectDir))
      )
      return warehouse
    },
    close: async () => {
      store?.close()
      await warehouse?.close()
    }
  }
}

/** The post step. */
export async function cleanup(): Promise<void> {
  const resources = createdResources()
  if (resources.length === 0) return
  const clients = clientsFromInputs()
  try {
    await core.group('Clean up', () => undoResources(resources, clients))
  } finally {
    await clients.close()
  }
}

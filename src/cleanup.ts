// The post step: undoes whatever the main step recorded and could not finish.
import * as core from '@actions/core'
import { createdResources } from './state.js'
import { getInputs } from './inputs.js'
import { readProject } from './dbt/project.js'
import { S3ObjectStore } from './store/s3.js'
import { PgWarehouse, type Warehouse } from './warehouse/pg.js'
import { materializeTarget } from './bluegreen/connection.js'
import { undoResources, type CleanupClients } from './undo.js'

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

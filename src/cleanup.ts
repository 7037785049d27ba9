// The post step: undoes whatever the main step recorded and could not finish, reaching S3 and
// Materialize exactly as main saved it (a change of inputs cannot point it elsewhere).
import * as core from '@actions/core'
import { cleanupContext, createdResources, type CleanupContext } from './state.js'
import { materializeUrl } from './inputs.js'
import { readProject } from './dbt/project.js'
import { S3ObjectStore } from './store/s3.js'
import { PgWarehouse, type Warehouse } from './warehouse/pg.js'
import { materializeTarget } from './bluegreen/connection.js'
import { undoResources, type CleanupClients } from './undo.js'

/** Clients opened from main's saved context, only when a resource needs them. */
function clientsFrom(context: CleanupContext | undefined): CleanupClients & {
  close(): Promise<void>
} {
  let store: S3ObjectStore | undefined
  let warehouse: Warehouse | undefined
  const saved = (): CleanupContext => {
    if (!context) throw new Error('the main step saved no S3 or Materialize settings')
    return context
  }
  return {
    store: () => {
      const { bucket, ...settings } = saved()
      store ??= S3ObjectStore.create(settings, bucket)
      return Promise.resolve(store)
    },
    warehouse: async () => {
      const { projectDir, profilesDir, target } = saved()
      const url = saved().materializeUrl ? materializeUrl() : undefined
      warehouse ??= await PgWarehouse.connect(
        materializeTarget({ projectDir, profilesDir, target }, url, readProject(projectDir))
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
  const clients = clientsFrom(cleanupContext())
  try {
    await core.group('Clean up', () => undoResources(resources, clients))
  } finally {
    await clients.close()
  }
}

// The post step: undoes whatever the main step recorded and could not finish, reaching S3 and
// Materialize exactly as main saved it (a change of inputs cannot point it elsewhere).
import * as core from '@actions/core'
import {
  cleanupContext,
  createdResources,
  type CleanupContext,
  type CreatedResource
} from './state.js'
import { materializeUrl } from './inputs.js'
import { readProject } from './dbt/project.js'
import { S3ObjectStore } from './store/s3.js'
import { PgWarehouse, type Warehouse } from './warehouse/pg.js'
import { materializeTarget } from './bluegreen/connection.js'
import { describeResource, undoResources, type CleanupClients } from './undo.js'

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
    const left = await core.group('Clean up', () => undoResources(resources, clients))
    if (left.length > 0) await reportLeftovers(left)
  } finally {
    await clients.close()
  }
}

/** The post step's last word when even its retry failed: a warning and a summary of what is left. */
async function reportLeftovers(left: CreatedResource[]): Promise<void> {
  const items = left.filter((r) => r.kind !== 'swap').map(describeResource)
  core.warning(`The cleanup could not undo: ${items.join('; ')}.`)
  if (!process.env.GITHUB_STEP_SUMMARY) return
  const markdown = [
    '### dbt-materialize-deploy: left behind',
    'The main step and this post step both failed to undo these; the log above says why.',
    items.map((item) => `- ${item}`).join('\n')
  ].join('\n\n')
  await core.summary.addRaw(`${markdown}\n`).write()
}

// phase: rollback — swap the previous production (kept by keep-previous) back in.
import { ActionError } from '../../errors.js'
import { archiveKey, manifestKey } from '../../store/layout.js'
import { publishManifest } from '../../store/publish.js'
import { PREVIOUS_SHAPE, readRecord, type PreviousProduction } from '../../store/records.js'
import { swapBack } from '../swap.js'
import type { BlueGreenRun } from '../run.js'

async function restoreManifest(run: BlueGreenRun, previous: PreviousProduction): Promise<void> {
  const { store } = run.clients
  const archived = previous.sha
    ? await store.get(archiveKey(run.inputs.state, previous.sha))
    : undefined
  if (!archived || !previous.sha) {
    run.notes.push(
      'No archived manifest of the previous production; manifest.json was left as it is.'
    )
    return
  }
  const current = await store.get(manifestKey(run.inputs.state))
  const condition = current ? { ifMatch: current.etag } : ({ ifNoneMatch: '*' } as const)
  await publishManifest(store, run.inputs.state, archived.body, condition, previous.sha)
}

export async function rollbackPhase(run: BlueGreenRun): Promise<string> {
  const previous = await readRecord(
    run.clients.store,
    run.keys.previous,
    'kept previous production',
    PREVIOUS_SHAPE
  )
  if (!previous) {
    throw new ActionError(
      `Input "phase" is "rollback", but no previous production was kept (nothing at ${run.inputs.state.uri}/previous.json). ` +
        'Promote with "keep-previous: true" to keep one.'
    )
  }
  await run.step('Check production', () => run.requireProduction())
  await run.step('Acquire deploy lock', () => run.lock())
  await run.step('Check kept previous', async () => {
    const kept = await run.existingGreen()
    if (
      kept.schemas.length < run.config.schemas.length ||
      kept.clusters.length < run.config.clusters.length
    ) {
      throw new ActionError(
        'The kept previous production (the *_dbt_deploy schemas and clusters) is gone, so there is nothing to roll back to.'
      )
    }
  })
  await swapBack(run)
  await run.step('Restore manifest', () => restoreManifest(run, previous))
  if (!run.inputs.blueGreen.keepPrevious)
    await run.step('Drop rolled-back deploy', () => run.dropGreen())
  await run.clients.store.delete(run.keys.previous)
  await run.unlock()
  return 'rolled-back'
}

// phase: promote — swap a deploy staged by an earlier job into production.
import { ActionError } from '../../errors.js'
import { STAGED_SHAPE, readRecord, type StagedDeployment } from '../../store/records.js'
import { nothingToPromote, readGreenRecords } from '../lifecycle.js'
import { promoteGreen } from '../swap.js'
import { planOnly } from '../guard.js'
import type { BlueGreenRun } from '../run.js'

async function stagedDeployment(
  run: BlueGreenRun
): Promise<{ staged: StagedDeployment; manifest: string }> {
  const staged = await readRecord(run.clients.store, run.keys.staged, 'staged deploy', STAGED_SHAPE)
  const manifest = await run.clients.store.get(run.keys.stagedManifest)
  if (!staged || !manifest) {
    const { previous } = await readGreenRecords(run)
    throw new ActionError(nothingToPromote(previous, run.inputs.state.uri))
  }
  if (staged.target !== run.config.target) {
    throw new ActionError(
      `The staged deploy is for target "${staged.target}", not "${run.config.target}" (input "target").`
    )
  }
  return { staged, manifest: manifest.body }
}

export async function promotePhase(run: BlueGreenRun): Promise<string> {
  await run.step('Check production', () => run.requireProduction())
  if (run.inputs.blueGreen.dryRun) return planOnly(run, (await stagedDeployment(run)).manifest)
  await run.step('Acquire deploy lock', () => run.lock())
  const { staged, manifest } = await run.step('Read staged deploy', () => stagedDeployment(run))
  run.deployment.id = staged.deploymentId // the deploy job's record, carried on
  await run.deployment.status('in_progress', { description: 'Promoting.' })
  await promoteGreen(run, staged, manifest)
  await run.clients.store.delete(run.keys.staged)
  await run.clients.store.delete(run.keys.stagedManifest)
  await run.unlock()
  await run.recordPromoted()
  return 'promoted'
}

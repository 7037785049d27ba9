// phase: promote — swap a deploy staged by an earlier job into production.
import * as core from '@actions/core'
import { ActionError } from '../../errors.js'
import { HYDRATION_CHECK } from '../../github/checks.js'
import { STAGED_SHAPE, readRecord, type StagedDeployment } from '../../store/records.js'
import { nothingToPromote, readGreenRecords } from '../lifecycle.js'
import { promoteGreen } from '../swap.js'
import { planOnly } from '../guard.js'
import type { BlueGreenRun } from '../run.js'
import { stagedKeys } from '../../store/layout.js'
import { diffStagedGreen } from '../diff.js'

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

/** With "require-hydration-check", the staged commit's hydration check must have succeeded. */
async function requireHydrationCheck(run: BlueGreenRun): Promise<void> {
  if (!run.inputs.blueGreen.requireHydrationCheck) return
  const { staged } = await stagedDeployment(run)
  if (!run.clients.checks)
    throw new ActionError(
      `"require-hydration-check" needs "github-token" to read the "${HYDRATION_CHECK}" check of ${staged.sha}.`
    )
  const conclusion = await run.clients.checks.conclusionOf(staged.sha)
  if (conclusion !== 'success')
    throw new ActionError(
      `The "${HYDRATION_CHECK}" check of ${staged.sha} is ${conclusion ?? 'missing'}, not success ("require-hydration-check"): nothing was promoted.`
    )
  core.info(`The "${HYDRATION_CHECK}" check of ${staged.sha} succeeded.`)
}

export async function promotePhase(run: BlueGreenRun): Promise<string> {
  await run.step('Check hydration', () => requireHydrationCheck(run))
  await run.step('Check production', () => run.requireProduction())
  if (run.inputs.blueGreen.dryRun) return planOnly(run, (await stagedDeployment(run)).manifest)
  await run.step('Acquire deploy lock', () => run.lock())
  const { staged, manifest } = await run.step('Read staged deploy', () => stagedDeployment(run))
  run.deployment.carryOn(staged.deploymentId)
  await run.deployment.status('in_progress', { description: 'Promoting.' })
  if (run.inputs.diff.mode !== 'off')
    await run.step('Data diff', () => diffStagedGreen(run, manifest))
  await promoteGreen(run, staged, manifest)
  for (const key of stagedKeys(run.keys)) await run.clients.store.delete(key)
  await run.unlock()
  await run.recordPromoted()
  return 'promoted'
}

// Promoting a staged green environment: readiness again, a drift check, the atomic swap by
// deploy_promote, then dropping (or keeping) the previous production and publishing state.
import * as core from '@actions/core'
import { ActionError } from '../errors.js'
import { forgetCreated } from '../state.js'
import { manifestKey } from '../store/layout.js'
import { publishManifest } from '../store/publish.js'
import { commitHistory } from '../store/ancestry.js'
import { green } from './config.js'
import { productionFingerprint } from './catalog.js'
import { checkReadiness, describeReadiness } from './readiness.js'
import { awaitHydration } from './stage.js'
import { blockingDependents, dependentsError, planCutover } from './guard.js'
import { swapStatements } from './plan.js'
import type { PreviousProduction, StagedDeployment } from '../store/records.js'
import type { BlueGreenRun } from './run.js'

export function swapPlan(run: BlueGreenRun): string[] {
  return swapStatements(run.config)
}

async function ensureReady(run: BlueGreenRun): Promise<void> {
  const { blueGreen } = run.inputs
  const readiness = await checkReadiness(
    await run.warehouse(),
    run.config.clusters.map(green),
    blueGreen.lagThresholdSeconds
  )
  readiness.forEach((r) => core.info(describeReadiness(r)))
  if (readiness.every((r) => r.status === 'ready')) return
  if (readiness.some((r) => r.status === 'failing')) {
    throw new ActionError(
      `Green is not promotable: ${readiness
        .filter((r) => r.status === 'failing')
        .map(describeReadiness)
        .join('; ')}.`
    )
  }
  run.hydration = await awaitHydration(run)
}

async function refuseDrift(run: BlueGreenRun, staged: StagedDeployment): Promise<void> {
  const changes: string[] = []
  if ((await productionFingerprint(await run.warehouse(), run.config)) !== staged.fingerprint) {
    changes.push('production schemas, clusters or objects were replaced or changed')
  }
  const manifest = await run.clients.store.get(manifestKey(run.inputs.state))
  if ((manifest?.etag ?? null) !== staged.manifestEtag)
    changes.push('another deploy published a newer production manifest')
  if (changes.length === 0) return
  const message = `Production changed since this deploy was staged (${staged.stagedAt}): ${changes.join('; ')}.`
  if (!run.inputs.blueGreen.force) {
    throw new ActionError(
      `${message} Promoting would overwrite those changes; re-deploy, or set "force: true" to promote anyway.`
    )
  }
  core.warning(`${message} Promoting anyway ("force: true").`)
}

async function swap(run: BlueGreenRun, what: string): Promise<void> {
  run.plan = swapPlan(run)
  const args = { max_retries: run.inputs.blueGreen.swapRetries, retry_backoff: 1 }
  await run.dbtOk(
    run.clients.dbt,
    'run-operation',
    ['deploy_promote', '--args', JSON.stringify(args)],
    what
  )
}

async function keepPrevious(run: BlueGreenRun, staged: StagedDeployment): Promise<void> {
  const previous: PreviousProduction = {
    sha: staged.previousSha,
    replacedBy: staged.sha,
    keptAt: new Date().toISOString()
  }
  await run.clients.store.put(run.keys.previous, JSON.stringify(previous))
  run.notes.push(
    `The previous production is kept under ${run.config.schemas.map(green).join(', ')} for "phase: rollback".`
  )
}

/**
 * Drops the previous production unless "keep-previous" keeps it or the drop would take objects
 * outside the deployment: then it is kept, and the run fails once the phase has finished.
 */
async function keepOrDropPrevious(run: BlueGreenRun, staged: StagedDeployment): Promise<void> {
  if (!run.inputs.blueGreen.keepPrevious) {
    const blocking = await run.step('Check what the drop takes', () => blockingDependents(run))
    if (blocking.length === 0) return run.step('Drop previous production', () => run.dropGreen())
    run.blockedDrop = dependentsError(
      run,
      blocking,
      'the previous production',
      'The previous production is kept under those names (so "phase: rollback" can also swap it back).'
    )
  }
  await keepPrevious(run, staged)
}

/** Swaps a staged green into production; the lock must be held. */
export async function promoteGreen(
  run: BlueGreenRun,
  staged: StagedDeployment,
  manifestBody: string
): Promise<void> {
  await run.step('Cutover plan', () => planCutover(run, manifestBody))
  await run.step('Check readiness', () => ensureReady(run))
  await run.step('Check drift', () => refuseDrift(run, staged))
  await run.step('deploy_promote (atomic swap)', () =>
    swap(run, 'deploy_promote (the atomic swap)')
  )
  // The green names now hold the previous production: never drop it as "green" on failure.
  forgetCreated('green')
  core.setOutput('promoted', 'true')
  await keepOrDropPrevious(run, staged)
  const condition = staged.manifestEtag
    ? { ifMatch: staged.manifestEtag }
    : ({ ifNoneMatch: '*' } as const)
  await run.step('Publish manifest', () =>
    publishManifest(run.clients.store, run.inputs.state, manifestBody, condition, staged.sha, {
      history: commitHistory(run.inputs.dbt.projectDir, run.inputs.report.githubToken, run.context),
      changedProduction: true
    })
  )
}

/** Swaps the kept previous production back; the lock must be held. */
export async function swapBack(run: BlueGreenRun): Promise<void> {
  await run.step('deploy_promote (swap back)', () =>
    swap(run, 'deploy_promote (the rollback swap)')
  )
}

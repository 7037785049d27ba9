// Promoting a staged green environment: readiness again, a drift check, the swap recorded
// (S3 and saved state) and run by deploy_promote, the cutover verified by catalog ids, then
// dropping (or keeping) the previous production and publishing state.
import * as core from '@actions/core'
import { ActionError, errorMessage } from '../errors.js'
import { cancelled } from '../cancel.js'
import { forgetCreated, recordCreated } from '../state.js'
import { manifestKey } from '../store/layout.js'
import { publishManifest } from '../store/publish.js'
import { commitHistory } from '../store/ancestry.js'
import { green } from './config.js'
import { greenNames, productionFingerprint } from './catalog.js'
import { checkReadiness, describeReadiness } from './readiness.js'
import { awaitHydration } from './stage.js'
import { blockingDependents, dependentsError, planCutover } from './guard.js'
import { swapStatements } from './plan.js'
import {
  readSwapRecord,
  writeRecord,
  type PreviousProduction,
  type StagedDeployment,
  type SwapRecord,
  type SwapSides
} from '../store/records.js'
import {
  catalogIds,
  cutoverMismatches,
  decideSwap,
  describeSwapped,
  holdsPrevious,
  markSwap,
  nextSteps,
  previousNames,
  settleSwap,
  sinkMismatches,
  swapSides,
  type SinkMismatch
} from './cutover.js'
import type { BlueGreenRun } from './run.js'

async function ensureReady(run: BlueGreenRun): Promise<void> {
  const { blueGreen } = run.inputs
  const readiness = await checkReadiness(
    await run.warehouse(),
    run.config.clusters.map(green),
    run.config.schemas,
    {
      lagThresholdSeconds: blueGreen.lagThresholdSeconds,
      replicaGraceSeconds: blueGreen.replicaGraceSeconds
    }
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
  run.plan = swapStatements(run.config)
  const args = { max_retries: run.inputs.blueGreen.swapRetries, retry_backoff: 1 }
  await run.dbtOk(
    run.clients.dbt,
    'run-operation',
    ['deploy_promote', '--args', JSON.stringify(args)],
    what
  )
}

/**
 * Fails while green's names hold the previous production because a run failed after its swap
 * committed: `what` would otherwise swap or drop it as if it were green.
 */
export async function refuseWhileSwapUnsettled(run: BlueGreenRun, what: string): Promise<void> {
  const record = await readSwapRecord(run.clients.store, run.keys.swap)
  if (!record || record.outcome === 'not-committed') return
  const now = await catalogIds(await run.warehouse(), record)
  if (!holdsPrevious(record, now)) return
  const outcome = record.outcome === 'about-to-swap' ? decideSwap(record, now) : record.outcome
  throw new ActionError(
    `${what} would touch the previous production: the promote of ${record.sha} (${record.runUrl ?? 'an earlier run'}) failed after its swap. ` +
      `${describeSwapped(record, outcome === 'not-committed' ? 'unclear' : outcome)} ${nextSteps(record)}`
  )
}

/** Records, in S3 and for the post step, that the swap is about to run and the ids on both sides. */
async function recordSwap(run: BlueGreenRun, staged: StagedDeployment): Promise<SwapSides> {
  const sides = await swapSides(await run.warehouse(), run.config)
  const record: SwapRecord = {
    ...sides,
    sha: staged.sha,
    previousSha: staged.previousSha,
    target: run.config.target,
    runUrl: run.context.runUrl,
    recordedAt: new Date().toISOString(),
    outcome: 'about-to-swap'
  }
  await writeRecord(run.clients.store, run.keys.swap, record)
  recordCreated({ kind: 'swap', key: run.keys.swap, previousKey: run.keys.previous, ...sides })
  core.info(
    `Recorded the swap at ${run.keys.swap}: ${sides.schemas.join(', ')} and ${sides.clusters.join(', ')} with their ids on both sides.`
  )
  return sides
}

/** After deploy_promote failed: the error to report, once the catalog told what became of the swap. */
async function afterFailedSwap(run: BlueGreenRun, sides: SwapSides, error: unknown) {
  let outcome: Awaited<ReturnType<typeof settleSwap>>
  try {
    outcome = await settleSwap(run.clients.store, await run.warehouse(), run.keys, sides)
  } catch (settling) {
    // The undo tries again, and leaves green alone while it cannot tell either.
    core.warning(`Could not tell whether the swap committed: ${errorMessage(settling)}`)
    return error
  }
  forgetCreated('swap')
  if (outcome === 'not-committed') return error
  // Green's names hold the previous production now: never drop them as "green".
  forgetCreated('green')
  if (outcome === 'committed') core.setOutput('promoted', 'true')
  return new ActionError(
    `deploy_promote failed after the swap. ${describeSwapped(sides, outcome)} ${nextSteps(sides)} The production manifest was not published.\n${errorMessage(error)}`
  )
}

async function swapRecorded(run: BlueGreenRun, sides: SwapSides): Promise<void> {
  await run.verifyLease()
  try {
    await swap(run, 'deploy_promote (the atomic swap)')
  } catch (error) {
    throw await afterFailedSwap(run, sides, error)
  }
  // The green names now hold the previous production: never drop it as "green" on failure.
  forgetCreated('green')
  forgetCreated('swap')
}

/**
 * The swap committed but a planned sink does not read the new production: the previous
 * production is kept (recorded for "phase: rollback"), since what still reads it must not go.
 */
async function unrepointedSinks(
  run: BlueGreenRun,
  sides: SwapSides,
  sinks: SinkMismatch[]
): Promise<ActionError> {
  await settleSwap(run.clients.store, await run.warehouse(), run.keys, sides)
  core.setOutput('promoted', 'true')
  return new ActionError(
    `The swap committed, but ${sinks.length} sink(s) do not read the new production: ${sinks.map((s) => s.problem).join('; ')}. ` +
      `Nothing was dropped: the previous production is kept under ${previousNames(sides)}, and the production manifest was not published. ` +
      `Repoint each sink (${sinks.map((s) => `${s.repoint.statement};`).join(' ')}), then: ${nextSteps(sides)}`
  )
}

/**
 * Production's names must now carry green's former ids, green's names production's, and each
 * sink deploy_promote repointed must read its new production object.
 */
async function verifyCutover(run: BlueGreenRun, sides: SwapSides): Promise<void> {
  const sql = await run.warehouse()
  const mismatches = cutoverMismatches(sides, await catalogIds(sql, sides))
  if (mismatches.length > 0) {
    await settleSwap(run.clients.store, sql, run.keys, sides)
    throw new ActionError(
      `The cutover does not match the swap: ${mismatches.join('; ')}. Nothing was dropped; the previous production is kept as it is. ${nextSteps(sides)}`
    )
  }
  const planned = run.cutover?.sinks ?? []
  const sinks = await sinkMismatches(sql, planned)
  if (sinks.length > 0) throw await unrepointedSinks(run, sides, sinks)
  await markSwap(run.clients.store, run.keys.swap, sides, 'committed')
  core.info(
    'Cutover verified: production resolves to the green ids, green to the previous production' +
      (planned.length > 0
        ? `, and each sink reads its new production object (${planned.map((s) => `${s.sink} from ${s.from}`).join(', ')}).`
        : '.')
  )
}

/** Records the previous production under the *_dbt_deploy names: the next deploy drops it. */
async function recordPrevious(run: BlueGreenRun, staged: StagedDeployment): Promise<void> {
  const previous: PreviousProduction = {
    sha: staged.previousSha,
    replacedBy: staged.sha,
    keptAt: new Date().toISOString()
  }
  await writeRecord(run.clients.store, run.keys.previous, previous)
}

async function keepPrevious(run: BlueGreenRun, staged: StagedDeployment): Promise<void> {
  await recordPrevious(run, staged)
  run.notes.push(
    `The previous production is kept under ${run.config.schemas.map(green).join(', ')} for "phase: rollback".`
  )
}

/**
 * Production is the new release by now. A drop that fails part way (a lost connection, a
 * timeout) leaves what is left of the previous production recorded, so that the next deploy or
 * "phase: cleanup" drops it; the run publishes the manifest, then fails with the cause.
 */
async function dropPrevious(run: BlueGreenRun, staged: StagedDeployment): Promise<void> {
  try {
    await run.step('Drop previous production', () => run.dropGreen())
  } catch (error) {
    if (cancelled.aborted) throw error
    await recordPrevious(run, staged)
    const { schemas, clusters } = greenNames(run.config)
    const names = [...schemas, ...clusters].join(', ')
    run.blockedDrop = new ActionError(
      `Promoted: production runs the new release. Dropping the previous production failed: ${errorMessage(error)}. ` +
        `What is left of it (${names}) is recorded as the previous production; the next deploy drops it, "phase: cleanup" does so now.`
    )
  }
}

/**
 * Drops the previous production unless "keep-previous" keeps it or the drop would take objects
 * outside the deployment: then it is kept, and the run fails once the phase has finished.
 */
async function keepOrDropPrevious(run: BlueGreenRun, staged: StagedDeployment): Promise<void> {
  if (!run.inputs.blueGreen.keepPrevious) {
    const blocking = await run.step('Check what the drop takes', () => blockingDependents(run))
    if (blocking.length === 0) {
      await run.step('Check deploy lock', () => run.verifyLease())
      return dropPrevious(run, staged)
    }
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
  await run.step('Check earlier swap', () => refuseWhileSwapUnsettled(run, 'Promoting'))
  await run.step('Cutover plan', () => planCutover(run, manifestBody))
  await run.step('Check readiness', () => ensureReady(run))
  await run.step('Check drift', () => refuseDrift(run, staged))
  const sides = await run.step('Record swap', () => recordSwap(run, staged))
  await run.step('deploy_promote (atomic swap)', () => swapRecorded(run, sides))
  await run.step('Verify cutover', () => verifyCutover(run, sides))
  core.setOutput('promoted', 'true')
  await keepOrDropPrevious(run, staged)
  const condition = staged.manifestEtag
    ? { ifMatch: staged.manifestEtag }
    : ({ ifNoneMatch: '*' } as const)
  await run.step('Publish manifest', async () => {
    await run.verifyLease()
    await publishManifest(
      run.clients.store,
      run.inputs.state,
      manifestBody,
      condition,
      staged.sha,
      {
        history: commitHistory(
          run.inputs.dbt.projectDir,
          run.inputs.report.githubToken,
          run.context
        ),
        changedProduction: true
      }
    )
  })
  // Done: a kept previous production is described by its own record from here on.
  await run.clients.store.delete(run.keys.swap)
}

/** Swaps the kept previous production back; the lock must be held. */
export async function swapBack(run: BlueGreenRun): Promise<void> {
  await run.step('deploy_promote (swap back)', () =>
    swap(run, 'deploy_promote (the rollback swap)')
  )
}

// phase: rollback — swap the previous production (kept by keep-previous) back in. With
// keep-previous, the release it takes out of production is kept in turn, so a second rollback
// re-applies it; without, that release is dropped.
import { ActionError } from '../../errors.js'
import { archiveKey, manifestKey } from '../../store/layout.js'
import { publishManifest } from '../../store/publish.js'
import { writeRecord, type PreviousProduction } from '../../store/records.js'
import { green } from '../config.js'
import {
  describePrevious,
  dropKeptPrevious,
  keptAfterRollback,
  previousToRollBack,
  readGreenRecords
} from '../lifecycle.js'
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

async function requireKeptPrevious(run: BlueGreenRun, previous: PreviousProduction): Promise<void> {
  const kept = await run.existingGreen()
  if (
    kept.schemas.length < run.config.schemas.length ||
    kept.clusters.length < run.config.clusters.length
  ) {
    throw new ActionError(
      `previous.json records ${describePrevious(previous)}, but its *_dbt_deploy schemas and clusters are gone, so there is nothing to roll back to. ` +
        'The next deploy drops what is left of it with its record; "phase: cleanup" does so now.'
    )
  }
}

/**
 * Records the release the swap just took out of production, before anything else can fail:
 * previous.json then always describes what the *_dbt_deploy names hold.
 */
async function recordRolledBack(
  run: BlueGreenRun,
  restored: PreviousProduction
): Promise<PreviousProduction> {
  const rolledBack = keptAfterRollback(restored, new Date())
  await writeRecord(run.clients.store, run.keys.previous, rolledBack)
  return rolledBack
}

async function keepOrDropRolledBack(
  run: BlueGreenRun,
  rolledBack: PreviousProduction
): Promise<void> {
  if (!run.inputs.blueGreen.keepPrevious) {
    await run.step('Drop rolled-back release', () => dropKeptPrevious(run, rolledBack))
    return
  }
  run.notes.push(
    `The rolled-back release is kept under ${run.config.schemas.map(green).join(', ')}: a second "phase: rollback" re-applies it, the next deploy drops it.`
  )
}

/** A deployment of the restored release, which supersedes the rolled-back one. */
async function recordRollback(run: BlueGreenRun, restored: PreviousProduction): Promise<void> {
  const sha = restored.sha ?? run.context.sha
  await run.deployment.start({
    sha,
    environment: run.environment,
    transient: false,
    description: `dbt blue/green rollback of target ${run.config.target} to ${sha.slice(0, 7)}`,
    payload: { rollbackTo: restored.sha ?? null }
  })
  await run.recordPromoted('Rolled back.')
}

const keptPrevious = async (run: BlueGreenRun): Promise<PreviousProduction> =>
  previousToRollBack(await readGreenRecords(run), run.inputs.state.uri)

export async function rollbackPhase(run: BlueGreenRun): Promise<string> {
  // Checked in S3 alone first, so a refusal touches no SQL.
  await keptPrevious(run)
  await run.step('Check production', () => run.requireProduction())
  await run.step('Acquire deploy lock', () => run.lock())
  // Read again under the lock: a rollback that ran meanwhile rewrote the record.
  const previous = await keptPrevious(run)
  await run.step('Check kept previous', () => requireKeptPrevious(run, previous))
  await swapBack(run)
  const rolledBack = await recordRolledBack(run, previous)
  await run.step('Restore manifest', () => restoreManifest(run, previous))
  await keepOrDropRolledBack(run, rolledBack)
  await run.unlock()
  await recordRollback(run, previous)
  return 'rolled-back'
}

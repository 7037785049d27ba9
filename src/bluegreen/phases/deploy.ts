// phase: deploy — stage a validated green environment for a later `promote` job.
import { forgetCreated } from '../../state.js'
import { writeRecord } from '../../store/records.js'
import { stageGreen } from '../stage.js'
import type { BlueGreenRun } from '../run.js'

export async function deployPhase(run: BlueGreenRun): Promise<string> {
  await run.step('Check production', () => run.requireProduction())
  await run.step('Acquire deploy lock', () => run.lock())
  const { staged, manifest } = await stageGreen(run)
  await run.step('Store staged deploy', async () => {
    await run.clients.store.put(run.keys.stagedManifest, manifest)
    await writeRecord(run.clients.store, run.keys.staged, staged)
  })
  // Green now belongs to the staged deploy, which `promote` or `cleanup` will finish.
  forgetCreated('green')
  await run.unlock()
  run.notes.push(`Staged at ${run.inputs.state.uri}/staged/: promote it with "phase: promote".`)
  return 'staged'
}

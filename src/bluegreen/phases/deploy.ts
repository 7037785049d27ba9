// phase: deploy — stage a validated green environment for a later `promote` job, with the
// cutover plan that promote would run, so a PR's comment shows it before anyone promotes.
import { forgetCreated } from '../../state.js'
import { writeRecord } from '../../store/records.js'
import { planCutover } from '../guard.js'
import { stageGreen } from '../stage.js'
import { saveParseState } from '../../dbt/parse-cache.js'
import type { BlueGreenRun } from '../run.js'
import { diffResult } from '../../diff/render.js'

export async function deployPhase(run: BlueGreenRun): Promise<string> {
  await run.step('Check production', () => run.requireProduction())
  await run.step('Acquire deploy lock', () => run.lock())
  const { staged, manifest, parseState } = await stageGreen(run)
  await run.step('Cutover plan', () => planCutover(run, manifest))
  await run.step('Store staged deploy', async () => {
    await run.clients.store.put(run.keys.stagedManifest, manifest)
    if (run.diff) await run.clients.store.put(run.keys.stagedDiff, diffResult(run.diff))
    await writeRecord(run.clients.store, run.keys.staged, staged)
  })
  // Green now belongs to the staged deploy, which `promote` or `cleanup` will finish.
  forgetCreated('green')
  await run.unlock()
  await run.deployment.status('queued', { description: 'Staged: waiting for phase: promote.' })
  await saveParseState(parseState)
  run.notes.push(
    `Staged at ${run.inputs.state.uri}/staged/: promote it with "phase: promote".`,
    'The cutover plan below is what the promote would run against production as it is now; the promote plans again before it swaps.'
  )
  return 'staged'
}

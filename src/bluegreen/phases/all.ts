// phase: all — deploy and promote in one run, under one lock.
import { stageGreen } from '../stage.js'
import { promoteGreen } from '../swap.js'
import { saveParseState } from '../../dbt/parse-cache.js'
import type { BlueGreenRun } from '../run.js'

export async function allPhase(run: BlueGreenRun): Promise<string> {
  await run.step('Check production', () => run.requireProduction())
  await run.step('Acquire deploy lock', () => run.lock())
  const { staged, manifest, parseState } = await stageGreen(run)
  await promoteGreen(run, staged, manifest)
  await run.unlock()
  await run.recordPromoted()
  // After the swap: an upload must not stand between readiness and the promote.
  await saveParseState(parseState)
  return 'promoted'
}

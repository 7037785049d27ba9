// phase: all — deploy and promote in one run, under one lock.
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { stageGreen } from '../stage.js'
import { promoteGreen } from '../swap.js'
import type { BlueGreenRun } from '../run.js'

export async function allPhase(run: BlueGreenRun): Promise<string> {
  await run.step('Check production', () => run.requireProduction())
  await run.step('Acquire deploy lock', () => run.lock())
  const staged = await stageGreen(run)
  const manifest = readFileSync(
    path.join(run.project.dir, run.project.targetPath, 'manifest.json'),
    'utf8'
  )
  await promoteGreen(run, staged, manifest)
  await run.unlock()
  return 'promoted'
}

// phase: cleanup — drop green, which aborts a staged deploy or discards a kept previous; never
// the previous production a failed promote left under green's names after its swap committed.
import { guardGreenDrop } from '../guard.js'
import { refuseWhileSwapUnsettled } from '../swap.js'
import type { BlueGreenRun } from '../run.js'
import { stagedKeys } from '../../store/layout.js'

export async function cleanupPhase(run: BlueGreenRun): Promise<string> {
  await run.step('Acquire deploy lock', () => run.lock())
  await run.step('Check earlier swap', () => refuseWhileSwapUnsettled(run, '"phase: cleanup"'))
  await run.step('Drop green', async () => {
    await guardGreenDrop(run, 'the *_dbt_deploy names')
    await run.dropGreen()
    for (const key of [...stagedKeys(run.keys), run.keys.previous, run.keys.swap])
      await run.clients.store.delete(key)
  })
  await run.unlock()
  return 'cleaned-up'
}

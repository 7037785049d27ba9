// phase: cleanup — drop green, which aborts a staged deploy or discards a kept previous.
import { guardGreenDrop } from '../guard.js'
import type { BlueGreenRun } from '../run.js'

export async function cleanupPhase(run: BlueGreenRun): Promise<string> {
  await run.step('Acquire deploy lock', () => run.lock())
  await run.step('Drop green', async () => {
    await guardGreenDrop(run, 'the *_dbt_deploy names')
    await run.dropGreen()
    for (const key of [run.keys.staged, run.keys.stagedManifest, run.keys.previous])
      await run.clients.store.delete(key)
  })
  await run.unlock()
  return 'cleaned-up'
}

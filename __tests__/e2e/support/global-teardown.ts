// Stops the servers global-setup started and removes the suite's temp dirs; jest runs this
// whether or not tests failed.
import { rmSync } from 'node:fs'

export default async function globalTeardown(): Promise<void> {
  const servers = globalThis.__E2E_SERVERS__ ?? []
  globalThis.__E2E_SERVERS__ = undefined
  const results = await Promise.allSettled(servers.map((server) => server.stop()))
  const root = process.env.E2E_TMP_ROOT
  if (root) rmSync(root, { recursive: true, force: true })
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
  if (failed) throw failed.reason
}

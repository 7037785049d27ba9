// Stops the servers global-setup started and removes the suite's temp dirs; jest runs this
// whether or not tests failed.
import { rmSync } from 'node:fs'

export default async function globalTeardown(): Promise<void> {
  const servers = globalThis.__E2E_SERVERS__ ?? []
  globalThis.__E2E_SERVERS__ = undefined
  // Last started, first stopped: the emulator before the PostgreSQL it runs on. Every server
  // gets its stop even when an earlier one fails.
  const failures: unknown[] = []
  for (const server of [...servers].reverse()) await server.stop().catch((e) => failures.push(e))
  const root = process.env.E2E_TMP_ROOT
  if (root) rmSync(root, { recursive: true, force: true })
  if (failures.length > 0) throw failures[0]
}

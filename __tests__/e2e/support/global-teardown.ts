// Stops the servers global-setup started and removes the suite's temp dirs; jest runs this
// whether or not tests failed. Before that, it prints the emulator-only tests a real
// Materialize skipped (see backends.ts), so a skip is never read as a pass.
import { appendFileSync, existsSync, readFileSync, rmSync } from 'node:fs'
import path from 'node:path'

/** Same name as backends.ts's SKIPPED_ON_REAL_MATERIALIZE (this file loads without ts-jest). */
const SKIPPED_FILE = 'skipped-on-real-materialize.txt'

function reportSkips(root: string): void {
  const file = path.join(root, SKIPPED_FILE)
  if (!existsSync(file)) return
  const lines = readFileSync(file, 'utf8').trim().split('\n')
  const report = [
    `${lines.length} emulator-only e2e tests or checks did NOT run on this real Materialize:`,
    ...lines.map((line) => `  - ${line}`)
  ].join('\n')
  console.warn(`\n${report}\n`)
  const summary = process.env.GITHUB_STEP_SUMMARY
  if (summary) appendFileSync(summary, `\n\`\`\`\n${report}\n\`\`\`\n`)
}

export default async function globalTeardown(): Promise<void> {
  const servers = globalThis.__E2E_SERVERS__ ?? []
  globalThis.__E2E_SERVERS__ = undefined
  const root = process.env.E2E_TMP_ROOT
  if (root) reportSkips(root)
  // Last started, first stopped: the emulator before the PostgreSQL it runs on. Every server
  // gets its stop even when an earlier one fails.
  const failures: unknown[] = []
  for (const server of [...servers].reverse()) await server.stop().catch((e) => failures.push(e))
  if (root) rmSync(root, { recursive: true, force: true })
  if (failures.length > 0) throw failures[0]
}

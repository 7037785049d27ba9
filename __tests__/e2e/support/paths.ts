// Locations the e2e harness relies on, resolved from this file so the cwd does not matter.
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..')
export const venvBin = path.join(repoRoot, '.venv', 'bin')
export const dbtBinary = path.join(venvBin, 'dbt')
export const node24 = path.join(repoRoot, 'node_modules', '.bin', 'node')
export const mainBundle = path.join(repoRoot, 'dist', 'index.js')
export const postBundle = path.join(repoRoot, 'dist', 'post.js')
export const actionYml = path.join(repoRoot, 'action.yml')
export const fixturesDir = path.join(repoRoot, '__tests__', 'e2e', 'fixtures')

/** The canary PostgreSQL password: it must never leak out of the action. */
export const CANARY_PASSWORD = 'canary-pg-Zx81Qw-secret'

/**
 * Parent for the suite's temp dirs: global-setup creates it and global-teardown removes it,
 * so nothing is left behind even when a test dies before its own cleanup.
 */
export function tempRoot(): string {
  return process.env.E2E_TMP_ROOT ?? tmpdir()
}

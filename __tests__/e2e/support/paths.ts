// Locations the e2e harness relies on, resolved from this file so the cwd does not matter.
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..')
export const venvBin = path.join(repoRoot, '.venv', 'bin')
export const dbtBinary = path.join(venvBin, 'dbt')
export const node24 = path.join(repoRoot, 'node_modules', '.bin', 'node')
export const distDir = path.join(repoRoot, 'dist')
export const mainBundle = path.join(distDir, 'index.js')
export const postBundle = path.join(distDir, 'post.js')
export const actionYml = path.join(repoRoot, 'action.yml')
export const fixturesDir = path.join(repoRoot, '__tests__', 'e2e', 'fixtures')

/** The canary PostgreSQL password: it must never leak out of the action. */
export const CANARY_PASSWORD = 'canary-pg-Zx81Qw-secret'

/**
 * The bundle a run executes: global-setup's copy of dist/ (E2E_DIST_DIR), so that a rebuild
 * of dist/ while the suite runs cannot mix two builds within one run.
 */
export function bundle(entry: 'main' | 'post'): string {
  const dir = process.env.E2E_DIST_DIR ?? distDir
  return path.join(dir, entry === 'post' ? 'post.js' : 'index.js')
}

/**
 * Parent for the suite's temp dirs: global-setup creates it and global-teardown removes it,
 * so nothing is left behind even when a test dies before its own cleanup.
 */
export function tempRoot(): string {
  return process.env.E2E_TMP_ROOT ?? tmpdir()
}

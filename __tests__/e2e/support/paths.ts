// Locations the e2e harness relies on, resolved from source files so the cwd does not matter.
// The repository's own locations come from dev/runner.ts, which runs the action.
import { tmpdir } from 'node:os'
import path from 'node:path'
import { bundlePath, distDir, node24, repoRoot, venvBin } from '../../../dev/runner.js'

export { distDir, node24, venvBin }
export const dbtBinary = path.join(venvBin, 'dbt')
export const mainBundle = bundlePath('main')
export const postBundle = bundlePath('post')
export const fixturesDir = path.join(repoRoot, '__tests__', 'e2e', 'fixtures')

/** The canary PostgreSQL password: it must never leak out of the action. */
export const CANARY_PASSWORD = 'canary-pg-Zx81Qw-secret'

/**
 * The dist dir a run executes: global-setup's copy of dist/ (E2E_DIST_DIR), so that a rebuild
 * of dist/ while the suite runs cannot mix two builds within one run.
 */
export function actionDistDir(): string {
  return process.env.E2E_DIST_DIR ?? distDir
}

/**
 * Parent for the suite's temp dirs: global-setup creates it and global-teardown removes it,
 * so nothing is left behind even when a test dies before its own cleanup.
 */
export function tempRoot(): string {
  return process.env.E2E_TMP_ROOT ?? tmpdir()
}

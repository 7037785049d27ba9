// The e2e suite's way of running the bundled action: dev/runner.ts does it exactly as the
// GitHub runner does; this only adds the suite's defaults. Every run executes global-setup's
// copy of dist/ in a new runner directory under the suite's temp root, with moto's AWS
// credentials, the PostgreSQL and Materialize coordinates global-setup published, a 150 s
// timeout, and its transcript on stderr when E2E_VERBOSE is set.
import { mkdtempSync } from 'node:fs'
import path from 'node:path'
import {
  postOptions,
  runAction as runInRunner,
  type ActionRun,
  type RunOptions
} from '../../../dev/runner.js'
import { CANARY_PASSWORD, actionDistDir, tempRoot } from './paths.js'

export {
  pullRequestEvent,
  pushEvent,
  workflowDispatchEvent,
  type ActionRun,
  type Annotation,
  type GitHubEvent
} from '../../../dev/runner.js'

/** A bound for hung runs only, far above a slim run on a loaded machine. */
const DEFAULT_TIMEOUT_MS = 480_000
/** What the runner substitutes for `${{ github.token }}` in input defaults. */
const DEFAULT_TOKEN = 'ghs_e2eDefaultInstallationToken0000'

/** A run's options; `env` is merged over the suite's environment. The runner dir is always new. */
export type ActionOptions = Omit<RunOptions, 'runDir'>

/**
 * The PostgreSQL and Materialize coordinates global-setup published, as the fixture profile
 * reads them. Passwords travel as DBT_ENV_SECRET_* so that dbt, and the action, treat them
 * as secrets.
 */
export function profileEnv(): Record<string, string> {
  return {
    E2E_PG_HOST: process.env.E2E_PG_HOST ?? '127.0.0.1',
    E2E_PG_PORT: process.env.E2E_PG_PORT ?? '5432',
    DBT_ENV_SECRET_PG_PASSWORD: process.env.E2E_PG_PASSWORD ?? CANARY_PASSWORD,
    E2E_MZ_HOST: process.env.E2E_MZ_HOST ?? '127.0.0.1',
    E2E_MZ_PORT: process.env.E2E_MZ_PORT ?? '6875',
    E2E_MZ_USER: process.env.E2E_MZ_USER ?? 'materialize',
    E2E_MZ_DATABASE: process.env.E2E_MZ_DATABASE ?? 'materialize',
    DBT_ENV_SECRET_MZ_PASSWORD: process.env.E2E_MZ_PASSWORD ?? ''
  }
}

function suiteEnv(): Record<string, string> {
  return {
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_REGION: 'us-east-1',
    AWS_EC2_METADATA_DISABLED: 'true',
    ...profileEnv()
  }
}

export async function runAction(options: ActionOptions): Promise<ActionRun> {
  const run = await runInRunner({
    defaultToken: DEFAULT_TOKEN,
    distDir: actionDistDir(),
    ...options,
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    // Runner dirs outlive the run (paths in outputs stay readable); global teardown removes them.
    runDir: mkdtempSync(path.join(tempRoot(), 'e2e-run-')),
    env: { ...suiteEnv(), ...options.env }
  })
  if (process.env.E2E_VERBOSE) {
    // Debugging aid: E2E_VERBOSE=1 shows each run's transcript.
    process.stderr.write(`\n=== ${run.bundle} in ${options.workspace} (exit ${run.exitCode})\n`)
    process.stderr.write(`${run.stdout}\n--- stderr ---\n${run.stderr}\n`)
  }
  // Keep the caller's options, so that runPost's overrides apply over them, not over ours.
  return { ...run, options }
}

/** Runs dist/post.js after `main` like the runner does, with the suite's defaults. */
export function runPost(
  main: ActionRun,
  overrides: Partial<ActionOptions> = {}
): Promise<ActionRun> {
  return runAction(postOptions(main, overrides))
}

// Building green: deploy_init, dbt run into the green schemas and clusters, the hydration
// wait, and validation with dbt test. Production is not touched.
import * as core from '@actions/core'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { recordCreated } from '../state.js'
import { GIT_SHA, manifestKey } from '../store/layout.js'
import { parseScope, restoreParseState, type ParseCacheEntry } from '../dbt/parse-cache.js'
import { headSha } from '../util/git.js'
import { cancelled, sleep } from '../cancel.js'
import { greenNames, productionFingerprint } from './catalog.js'
import { checkProductionSide } from './impact.js'
import { makeRoomForGreen } from './lifecycle.js'
import { preflight, type GreenBuildPlan } from './preflight.js'
import { progressSummary, waitForHydration, type HydrationResult } from './readiness.js'
import { HydrationCheck } from '../github/checks.js'
import { diffGreen } from './diff.js'
import { errorMessage } from '../errors.js'
import { redact } from '../secrets.js'
import type { StagedDeployment } from '../store/records.js'
import type { BlueGreenRun } from './run.js'

async function awaitWithDbt(run: BlueGreenRun): Promise<HydrationResult> {
  const { blueGreen } = run.inputs
  const started = Date.now()
  const args = {
    poll_interval: Math.max(1, Math.round(blueGreen.pollIntervalMs / 1000)),
    lag_threshold: `${blueGreen.lagThresholdSeconds}s`
  }
  await run.dbtOk(
    run.clients.dbt,
    'run-operation',
    ['deploy_await', '--args', JSON.stringify(args)],
    'deploy_await',
    { timeoutMs: blueGreen.awaitTimeoutMs }
  )
  return { seconds: (Date.now() - started) / 1000, final: [], samples: [] }
}

/** Waits for green to hydrate; with a check, shows the progress on the deployed commit. */
export async function awaitHydration(
  run: BlueGreenRun,
  check?: HydrationCheck
): Promise<HydrationResult> {
  const { blueGreen } = run.inputs
  await check?.start()
  try {
    const result =
      blueGreen.awaitWith === 'dbt'
        ? await awaitWithDbt(run)
        : await waitForHydration(run.sql, greenNames(run.config).clusters, {
            productionSchemas: run.config.schemas,
            lagThreshold: blueGreen.lagThresholdSeconds,
            replicaGraceSeconds: blueGreen.replicaGraceSeconds,
            pollIntervalMs: blueGreen.pollIntervalMs,
            timeoutMs: blueGreen.awaitTimeoutMs,
            sleep: (ms) => sleep(ms, cancelled),
            onProgress: async (clusters, elapsed) =>
              check?.progress(progressSummary(clusters, elapsed))
          })
    const summary =
      result.final.length > 0
        ? progressSummary(result.final, result.seconds)
        : `deploy_await returned after ${result.seconds.toFixed(0)}s`
    await check?.conclude('success', `Hydrated: ${summary}`)
    return result
  } catch (error) {
    await check?.conclude(cancelled.aborted ? 'cancelled' : 'failure', redact(errorMessage(error)))
    throw error
  }
}

function excludeArgs(exclude: string[]): string[] {
  return exclude.length > 0 ? ['--exclude', ...exclude] : []
}

/**
 * The manifest to publish once green is promoted: parsed with production's vars, so its
 * relations name production as it is after the swap, not the `*_dbt_deploy` names green was
 * built under (a slim PR deferring to it would read those).
 */
async function productionManifest(run: BlueGreenRun, quiet: boolean): Promise<string> {
  await run.dbtOk(run.clients.dbt, 'parse', [], 'dbt parse (production manifest)', { quiet })
  return readFileSync(path.join(run.project.dir, run.project.targetPath, 'manifest.json'), 'utf8')
}

interface Hydrated {
  hydration: HydrationResult
  /** Production's manifest: the parse that ran during the wait, or one run now. */
  productionManifest: () => Promise<string>
}

/**
 * Awaits hydration while dbt parses production's manifest, which does not depend on green: the
 * parse leaves the path from "hydrated" to the swap. `await: dbt` runs deploy_await in
 * production's target path, where a parallel parse would write the same files, so it waits first.
 */
async function hydrateAndParse(run: BlueGreenRun, sha: string): Promise<Hydrated> {
  const check = new HydrationCheck(run.clients.checks, sha)
  run.hydrationCheck = check
  const wait = () => run.step('Await hydration', () => awaitHydration(run, check))
  if (run.inputs.blueGreen.awaitWith === 'dbt')
    return { hydration: await wait(), productionManifest: () => productionManifest(run, false) }
  // Settled at once, so a parse that fails during the wait is never an unhandled rejection.
  const parsing = productionManifest(run, true).then(
    (body) => {
      core.info("dbt parsed production's manifest while green hydrates.")
      return { body }
    },
    (error: unknown) => ({ error })
  )
  const manifest = async () => {
    const parsed = await parsing
    if ('error' in parsed) throw parsed.error
    return parsed.body
  }
  try {
    return { hydration: await wait(), productionManifest: manifest }
  } catch (error) {
    await parsing // the parse process ends before the run does
    throw error
  }
}

export interface StagedGreen {
  staged: StagedDeployment
  /** The manifest of production after a promote of this green. */
  manifest: string
  /** dbt's parse state, for the phase to save once it is done (never before the swap). */
  parseState?: ParseCacheEntry
}

/** Seeds of the deployment schemas, into green, so that the swap moves them along. */
async function seedGreen(run: BlueGreenRun, plan: GreenBuildPlan): Promise<void> {
  if (plan.seeds.length === 0) return
  await run.step('dbt seed (green)', () =>
    run.dbtOk(run.greenDbt, 'seed', ['--select', ...plan.seeds], 'dbt seed into green')
  )
}

/** The deployment record of this staging, in progress until the promote. */
async function startDeployment(run: BlueGreenRun, sha: string): Promise<void> {
  await run.deployment.start({
    sha,
    environment: run.environment,
    transient: false,
    description: `dbt blue/green deploy of target ${run.config.target}`,
    payload: { green: greenNames(run.config), manifestKey: manifestKey(run.inputs.state) }
  })
}

/** Stages a validated green environment; the lock must be held. */
export async function stageGreen(run: BlueGreenRun): Promise<StagedGreen> {
  const { blueGreen } = run.inputs
  const sha = (await headSha(run.inputs.dbt.projectDir)) ?? run.context.sha
  await startDeployment(run, sha)
  const parseState = await restoreParseState(
    parseScope(run.clients.dbt, run.inputs.dbt, [run.project.targetPath, run.greenTargetPath])
  )
  // Production's dbt parses while preflight checks green's names: deploy_init starts parsed.
  run.clients.dbt.prepare?.()
  const plan = await run.step('Preflight', () => preflight(run))
  await run.step('Check production side', async () =>
    checkProductionSide(await run.warehouse(), run.config, plan.seeds)
  )
  await run.step('Check green', () => makeRoomForGreen(run))
  const manifest = await run.clients.store.get(manifestKey(run.inputs.state))
  const fingerprint = await productionFingerprint(await run.warehouse(), run.config)
  const green = greenNames(run.config)
  if (blueGreen.cleanupOnFailure) recordCreated({ kind: 'green', ...green })
  await run.step('deploy_init', () =>
    run.dbtOk(run.clients.dbt, 'run-operation', ['deploy_init'], 'deploy_init')
  )
  await seedGreen(run, plan)
  await run.step('dbt run (green)', () =>
    run.dbtOk(
      run.greenDbt,
      'run',
      [...excludeArgs(blueGreen.exclude), ...run.inputs.dbt.extraArgs],
      'dbt run into green'
    )
  )
  const { hydration, productionManifest: parsed } = await hydrateAndParse(run, sha)
  run.hydration = hydration
  core.setOutput('hydration-seconds', hydration.seconds.toFixed(1))
  if (blueGreen.runTests) {
    await run.step('dbt test (green)', () =>
      // The run's exclusions: tests of models green does not build would read missing relations.
      run.dbtOk(run.greenDbt, 'test', excludeArgs(blueGreen.exclude), 'dbt test against green')
    )
  } else {
    run.notes.push('Validation skipped ("run-tests: false").')
  }
  const productionBody = await run.step('Production manifest', parsed)
  if (run.inputs.diff.mode !== 'off')
    await run.step('Data diff', () => diffGreen(run, productionBody, manifest?.body))
  core.setOutput('deployed', 'true')
  const staged: StagedDeployment = {
    sha,
    deploymentId: run.deployment.id,
    target: run.config.target,
    ...green,
    fingerprint,
    manifestEtag: manifest?.etag ?? null,
    previousSha: manifest?.metadata[GIT_SHA],
    stagedAt: new Date().toISOString(),
    runUrl: run.context.runUrl
  }
  return { staged, manifest: productionBody, parseState }
}

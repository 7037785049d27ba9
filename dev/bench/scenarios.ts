// One project size of the bench: production is built, then P1/P2 (slim: action vs recipe),
// then P4 (blue/green: action vs the dbt sequence) with P3 read from the same runs. Action and
// recipe alternate who goes first, and every run starts from a cold target/ like a fresh
// checkout in CI.
import { rmSync } from 'node:fs'
import path from 'node:path'
import { pullRequestEvent, pushEvent, venvBin, type GitHubEvent } from '../runner.js'
import type { Services } from '../demo/services.js'
import type { GitWorkspace } from '../demo/workspace.js'
import { createBenchWorkspace, ONE_MODEL_BRANCH, README_BRANCH } from './project.js'
import { measureAction, type ActionMeasurement } from './measure.js'
import { blueGreenRecipe, slimRecipe, type RecipeEnv, type RecipeResult } from './recipe.js'
import { hydrationDelays, median, type SizeFigures } from './stats.js'

export interface BenchContext {
  services: Services
  root: string
  reps: number
  log(line: string): void
  /** Aborted when the bench is interrupted: the command in flight is killed. */
  abort: AbortSignal
}

interface SizeRun {
  ctx: BenchContext
  size: number
  workspace: GitWorkspace
  prefix: string
  runCount: number
}

/** Raw samples of one size, kept in the JSON next to the medians. */
export interface SizeSamples {
  p1: { action: number[]; recipe: number[]; selected: string[]; recipeSteps: RecipeResult[] }
  p2: { action: number[]; recipe: number[]; status: string[] }
  p3: { action: number[]; recipe: number[]; delays: number[] }
  p4: { action: number[]; recipe: number[]; recipeSteps: RecipeResult[] }
  p5: { peakRssMbP1: number[]; peakRssMbP4: number[]; firstLineMs: number[] }
}

const PRODUCTION_CLUSTER = 'analytics'
const PR_ONE_MODEL = 101
const PR_README = 102

function stateUri(run: SizeRun): string {
  return `s3://${run.ctx.services.bucket}/${run.prefix}`
}

function slimInputs(run: SizeRun, extra: Record<string, string> = {}): Record<string, string> {
  return {
    mode: 'slim',
    'project-dir': '.',
    'profiles-dir': '.',
    'state-uri': stateUri(run),
    's3-endpoint': run.ctx.services.moto.endpoint,
    'github-token': 'ghs_benchToken',
    ...extra
  }
}

function recipeEnv(run: SizeRun, extra: Record<string, string> = {}): RecipeEnv {
  return {
    workspace: run.workspace.dir,
    env: {
      PATH: `${venvBin}:/usr/local/bin:/usr/bin:/bin`,
      HOME: path.join(run.ctx.root, 'home'),
      LANG: 'C.UTF-8',
      DBT_SEND_ANONYMOUS_USAGE_STATS: 'false',
      AWS_REQUEST_CHECKSUM_CALCULATION: 'when_required',
      AWS_RESPONSE_CHECKSUM_VALIDATION: 'when_required',
      ...run.ctx.services.env,
      ...extra
    },
    abort: run.ctx.abort
  }
}

/** A fresh checkout has no target/: no partial parse state carried between measured runs. */
function coldStart(run: SizeRun): void {
  rmSync(path.join(run.workspace.dir, 'target'), { recursive: true, force: true })
}

async function action(
  run: SizeRun,
  event: GitHubEvent,
  inputs: Record<string, string>
): Promise<ActionMeasurement> {
  coldStart(run)
  const runDir = path.join(run.ctx.root, `size-${run.size}`, 'runs', String(++run.runCount))
  const { services } = run.ctx
  const result = await measureAction({
    workspace: run.workspace.dir,
    event,
    inputs,
    env: services.env,
    apiUrl: services.github.url,
    runDir,
    abort: run.ctx.abort
  })
  if (result.exitCode !== 0) {
    throw new Error(`the action failed (exit ${result.exitCode}) in ${runDir}:\n${result.logTail}`)
  }
  return result
}

function expectStatus(result: ActionMeasurement, allowed: string[]): string {
  const status = result.outputs.status ?? ''
  if (!allowed.includes(status)) throw new Error(`unexpected action status "${status}"`)
  return status
}

/** Drops everything an earlier size left, so each size starts from an empty Materialize. */
async function resetWarehouse(services: Services): Promise<void> {
  const schemas = await services.emulator.control.query<{ nspname: string }>(
    `select nspname from pg_namespace where nspname like 'analytics%' or nspname like 'pr\\_%'`
  )
  for (const { nspname } of schemas)
    await services.sql(`DROP SCHEMA IF EXISTS "${nspname}" CASCADE`)
  const clusters = await services.emulator.control.query<{ name: string }>(
    `select name from mz_emulator.clusters where name like 'analytics%' or name like 'pr\\_%'`
  )
  for (const { name } of clusters) await services.sql(`DROP CLUSTER IF EXISTS "${name}" CASCADE`)
  await services.emulator.control.setDefaultHydration({ delaySeconds: 0 })
}

async function buildProduction(run: SizeRun): Promise<void> {
  const { services } = run.ctx
  await resetWarehouse(services)
  await services.emulator.control.query(
    `SELECT mz_emulator.create_cluster('${PRODUCTION_CLUSTER}', true, '25cc', 1, NULL, NULL)`
  )
  const result = await action(run, pushEvent({ sha: run.workspace.head() }), slimInputs(run))
  if (result.outputs['manifest-uploaded'] !== 'true')
    throw new Error('production manifest not published')
  run.ctx.log(
    `  production built: ${result.outputs['selected-count']} nodes in ${result.seconds.toFixed(1)} s`
  )
  for (const pr of [PR_ONE_MODEL, PR_README])
    await services.sql(`CREATE CLUSTER pr_${pr} (SIZE = '25cc')`)
}

/** Runs `first` then `second`, or the other way round on odd repetitions. */
async function alternate(
  rep: number,
  a: () => Promise<void>,
  b: () => Promise<void>
): Promise<void> {
  if (rep % 2 === 0) {
    await a()
    await b()
  } else {
    await b()
    await a()
  }
}

interface SlimCase {
  pr: number
  branch: string
  expected: string[]
}

async function slimCase(
  run: SizeRun,
  slim: SlimCase,
  rep: number
): Promise<{ action: ActionMeasurement; recipe: RecipeResult }> {
  const { services } = run.ctx
  run.workspace.checkout(slim.branch)
  const event = pullRequestEvent({
    number: slim.pr,
    action: 'synchronize',
    headSha: run.workspace.head(),
    headRef: slim.branch
  })
  let measured: ActionMeasurement | undefined
  let recipe: RecipeResult | undefined
  const dropPrSchema = () => services.sql(`DROP SCHEMA IF EXISTS pr_${slim.pr} CASCADE`)
  await alternate(
    rep,
    async () => {
      await dropPrSchema()
      measured = await action(run, event, slimInputs(run, { defer: 'true' }))
      expectStatus(measured, slim.expected)
    },
    async () => {
      await dropPrSchema()
      coldStart(run)
      recipe = await slimRecipe(recipeEnv(run, { DBT_PR_ENVIRONMENT: `pr_${slim.pr}` }), {
        s3Endpoint: services.moto.endpoint,
        bucket: services.bucket,
        manifestKey: `${run.prefix}/manifest.json`,
        uploadKey: `${run.prefix}/ci/pr-${slim.pr}/manifest.json`
      })
    }
  )
  // The PR closes before the next deploy: its deferred views read production, and the
  // blue/green impact guard would refuse to drop the previous production under them.
  await dropPrSchema()
  return { action: measured!, recipe: recipe! }
}

/** When the last object in `cluster` hydrates, by the emulator's script (epoch ms). */
async function hydratedAt(services: Services, cluster: string): Promise<number> {
  const [row] = await services.emulator.control.query<{ at: string | null }>(
    `select extract(epoch from max(i.created_at + i.hydration_delay * interval '1 second')) * 1000 as at
     from mz_emulator.items i join mz_emulator.clusters c on c.id = i.cluster_id
     where c.name = $1 and not i.never_hydrates`,
    [cluster]
  )
  if (!row?.at) throw new Error(`no hydrating objects found in cluster ${cluster}`)
  return Number(row.at)
}

interface BlueGreenSample {
  action: ActionMeasurement
  actionLatency: number
  recipe: RecipeResult
  recipeLatency: number
}

async function blueGreenCase(run: SizeRun, rep: number, delay: number): Promise<BlueGreenSample> {
  const { services } = run.ctx
  const { control } = services.emulator
  const sample: Partial<BlueGreenSample> = {}
  // After the swap the green cluster carries the production name: its objects are green's.
  await alternate(
    rep,
    async () => {
      await control.setDefaultHydration({ delaySeconds: delay })
      const event = pushEvent({ sha: run.workspace.head() })
      sample.action = await action(
        run,
        event,
        slimInputs(run, { mode: 'blue-green', phase: 'all' })
      )
      expectStatus(sample.action, ['promoted'])
      const hydrated = await hydratedAt(services, PRODUCTION_CLUSTER)
      sample.actionLatency = (sample.action.awaitEndedAt! - hydrated) / 1000
    },
    async () => {
      await control.setDefaultHydration({ delaySeconds: delay })
      coldStart(run)
      const result = await blueGreenRecipe(recipeEnv(run))
      sample.recipe = result
      const hydrated = await hydratedAt(services, PRODUCTION_CLUSTER)
      sample.recipeLatency = (result.awaitReturnedAt - hydrated) / 1000
    }
  )
  return sample as BlueGreenSample
}

function emptySamples(): SizeSamples {
  return {
    p1: { action: [], recipe: [], selected: [], recipeSteps: [] },
    p2: { action: [], recipe: [], status: [] },
    p3: { action: [], recipe: [], delays: [] },
    p4: { action: [], recipe: [], recipeSteps: [] },
    p5: { peakRssMbP1: [], peakRssMbP4: [], firstLineMs: [] }
  }
}

async function measureSlim(run: SizeRun, samples: SizeSamples): Promise<void> {
  for (let rep = 0; rep < run.ctx.reps; rep++) {
    const one = await slimCase(
      run,
      { pr: PR_ONE_MODEL, branch: ONE_MODEL_BRANCH, expected: ['success'] },
      rep
    )
    samples.p1.action.push(one.action.seconds)
    samples.p1.recipe.push(one.recipe.seconds)
    samples.p1.recipeSteps.push(one.recipe)
    samples.p1.selected.push(one.action.outputs['selected-count'] ?? '')
    if (one.action.peakRssMb !== undefined) samples.p5.peakRssMbP1.push(one.action.peakRssMb)
    if (one.action.firstLineMs !== undefined) samples.p5.firstLineMs.push(one.action.firstLineMs)
    const none = await slimCase(
      run,
      { pr: PR_README, branch: README_BRANCH, expected: ['skipped-unchanged', 'nothing-selected'] },
      rep
    )
    samples.p2.action.push(none.action.seconds)
    samples.p2.recipe.push(none.recipe.seconds)
    samples.p2.status.push(none.action.outputs.status ?? '')
    run.ctx.log(
      `  rep ${rep + 1}: P1 action ${one.action.seconds.toFixed(1)} s / recipe ${one.recipe.seconds.toFixed(1)} s; ` +
        `P2 action ${none.action.seconds.toFixed(1)} s / recipe ${none.recipe.seconds.toFixed(1)} s`
    )
  }
}

async function measureBlueGreen(run: SizeRun, samples: SizeSamples): Promise<void> {
  run.workspace.checkout('main')
  const delays = hydrationDelays(run.ctx.reps)
  for (let rep = 0; rep < delays.length; rep++) {
    const sample = await blueGreenCase(run, rep, delays[rep]!)
    samples.p3.delays.push(delays[rep]!)
    samples.p3.action.push(sample.actionLatency)
    samples.p3.recipe.push(sample.recipeLatency)
    samples.p4.action.push(sample.action.seconds)
    samples.p4.recipe.push(sample.recipe.seconds)
    samples.p4.recipeSteps.push(sample.recipe)
    if (sample.action.peakRssMb !== undefined) samples.p5.peakRssMbP4.push(sample.action.peakRssMb)
    if (sample.action.firstLineMs !== undefined)
      samples.p5.firstLineMs.push(sample.action.firstLineMs)
    run.ctx.log(
      `  rep ${rep + 1} (hydration ${delays[rep]!.toFixed(1)} s): P4 action ${sample.action.seconds.toFixed(1)} s / ` +
        `sequence ${sample.recipe.seconds.toFixed(1)} s; P3 action ${sample.actionLatency.toFixed(2)} s / ` +
        `deploy_await ${sample.recipeLatency.toFixed(2)} s`
    )
  }
}

export function figuresOf(size: number, s: SizeSamples): SizeFigures {
  return {
    size,
    p1Action: median(s.p1.action),
    p1Recipe: median(s.p1.recipe),
    p2Action: median(s.p2.action),
    p2Recipe: median(s.p2.recipe),
    p3Action: median(s.p3.action),
    p3Recipe: median(s.p3.recipe),
    p4Action: median(s.p4.action),
    p4Recipe: median(s.p4.recipe),
    p5PeakRssMbP1: s.p5.peakRssMbP1.length ? Math.max(...s.p5.peakRssMbP1) : undefined,
    p5PeakRssMbP4: s.p5.peakRssMbP4.length ? Math.max(...s.p5.peakRssMbP4) : undefined,
    p5FirstLineMs: median(s.p5.firstLineMs)
  }
}

/** Every figure for one project size. */
export async function benchSize(
  ctx: BenchContext,
  size: number
): Promise<{ figures: SizeFigures; samples: SizeSamples }> {
  const started = Date.now()
  ctx.log(`size ${size}: generating the project and building production…`)
  const workspace = createBenchWorkspace(path.join(ctx.root, `size-${size}`, 'workspace'), size)
  const run: SizeRun = { ctx, size, workspace, prefix: `size-${size}`, runCount: 0 }
  await buildProduction(run)
  const samples = emptySamples()
  await measureSlim(run, samples)
  await measureBlueGreen(run, samples)
  ctx.log(`size ${size}: done in ${((Date.now() - started) / 1000).toFixed(0)} s`)
  return { figures: figuresOf(size, samples), samples }
}

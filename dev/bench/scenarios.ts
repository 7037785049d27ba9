// One project size of the bench: production is built, then P1/P2 (slim: action vs recipe; P2
// also in a shallow clone), then P4 (blue/green: action vs the dbt sequence, the latter with
// deploy_await's default poll and with poll_interval=1) with P3 read from the same runs. The
// runs of a repetition take turns going first, and every run starts from a cold target/ like a
// fresh checkout in CI. The action's runs use a local Actions cache that starts empty, as a
// first CI run's does; P1 and P4 are measured once more as the next CI run, which restores the
// parse state the one before saved and has one model changed since (the "warm" figures).
import { rmSync } from 'node:fs'
import path from 'node:path'
import { pullRequestEvent, pushEvent, venvBin, type GitHubEvent } from '../runner.js'
import type { Services } from '../demo/services.js'
import type { CacheStub } from '../cache-stub.js'
import type { GitWorkspace } from '../demo/workspace.js'
import { createBenchWorkspace, ONE_MODEL_BRANCH, README_BRANCH, shallowClone } from './project.js'
import { measureAction, type ActionMeasurement, type GroupSpan } from './measure.js'
import {
  commitDiffedModels,
  diffSampleOf,
  DIFF_INPUTS,
  DIFF_ROWS,
  type DiffSample
} from './diff.js'
import { blueGreenRecipe, slimRecipe, type RecipeEnv, type RecipeResult } from './recipe.js'
import {
  costFigures,
  hydrationDelays,
  median,
  rounded,
  type RunSample,
  type SizeFigures
} from './stats.js'

export interface BenchContext {
  services: Services
  /** The Actions cache of the action's runs. */
  cache: CacheStub
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
  /** A depth-1 clone of the README branch. */
  shallow: string
  prefix: string
  runCount: number
}

/** Raw samples of one size, kept in the JSON next to the medians. */
export interface SizeSamples {
  p1: { action: RunSample[]; recipe: RunSample[]; selected: string[] }
  /** The PR's next push, one model changed since the push whose parse state it restores. */
  p1Warm: { action: RunSample[] }
  p2: { action: RunSample[]; recipe: RunSample[]; status: string[] }
  /** The action in the shallow clone; `gitCompared` false when it said git cannot compare. */
  p2Shallow: { action: RunSample[]; status: string[]; gitCompared: boolean[] }
  p3: {
    delays: number[]
    action: number[]
    actionWait: number[]
    recipe: number[]
    recipeWait: number[]
    recipePoll1: number[]
    recipePoll1Wait: number[]
  }
  p4: { action: RunSample[]; recipe: RunSample[]; recipePoll1: RunSample[] }
  /** The next deploy, one model changed since the deploy whose parse state it restores. */
  p4Warm: { action: RunSample[] }
  p5: { peakRssMbP1: number[]; peakRssMbP4: number[]; firstLineMs: number[] }
  p8: DiffSample[]
}

const PRODUCTION_CLUSTER = 'analytics'
const PR_ONE_MODEL = 101
const PR_README = 102
/** The action's log groups that end P3's wait and P3. */
const AWAIT_GROUP = 'Await hydration'
const SWAP_GROUP = 'deploy_promote (atomic swap)'

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
function coldStart(dir: string): void {
  rmSync(path.join(dir, 'target'), { recursive: true, force: true })
}

/** The PR's environment goes before and after each of its measured runs. */
function dropPrSchema(run: SizeRun, slim: SlimCase): Promise<void> {
  return run.ctx.services.sql(`DROP SCHEMA IF EXISTS pr_${slim.pr} CASCADE`)
}

/** A first CI run: nothing in the Actions cache. */
function emptyCache(run: SizeRun): void {
  run.ctx.cache.entries.splice(0)
}

async function action(
  run: SizeRun,
  event: GitHubEvent,
  inputs: Record<string, string>,
  workspace = run.workspace.dir
): Promise<ActionMeasurement> {
  coldStart(workspace)
  const runDir = path.join(run.ctx.root, `size-${run.size}`, 'runs', String(++run.runCount))
  const { services, cache } = run.ctx
  const result = await measureAction({
    workspace,
    event,
    inputs,
    env: { ...services.env, ...cache.env },
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

/** A warm figure must come from a run that restored the parse state and parsed only changes. */
function expectWarm(result: ActionMeasurement): void {
  if (!result.log.includes("dbt's parse state restored from the cache"))
    throw new Error('the warm run restored no parse state: update the bench')
  if (/Unable to do partial parsing/.test(result.log))
    throw new Error('the warm run parsed the whole project: dbt refused the restored state')
}

export function sampleOf(measured: ActionMeasurement): RunSample {
  return rounded({
    wall: measured.seconds,
    cpu: measured.cpu,
    ownCpu: measured.ownCpu,
    phases: measured.phases
  })
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

/** Runs the tasks in order, starting with a different one each repetition. */
export async function inTurn(rep: number, tasks: Array<() => Promise<void>>): Promise<void> {
  for (let i = 0; i < tasks.length; i++) await tasks[(rep + i) % tasks.length]!()
}

interface SlimCase {
  pr: number
  branch: string
  expected: string[]
}

function prEvent(run: SizeRun, slim: SlimCase): GitHubEvent {
  return pullRequestEvent({
    number: slim.pr,
    action: 'synchronize',
    headSha: run.workspace.head(),
    headRef: slim.branch
  })
}

async function slimCase(
  run: SizeRun,
  slim: SlimCase,
  rep: number
): Promise<{ action: ActionMeasurement; recipe: RecipeResult }> {
  const { services } = run.ctx
  run.workspace.checkout(slim.branch)
  const event = prEvent(run, slim)
  let measured: ActionMeasurement | undefined
  let recipe: RecipeResult | undefined
  await inTurn(rep, [
    async () => {
      await dropPrSchema(run, slim)
      emptyCache(run)
      measured = await action(run, event, slimInputs(run, { defer: 'true' }))
      expectStatus(measured, slim.expected)
    },
    async () => {
      await dropPrSchema(run, slim)
      coldStart(run.workspace.dir)
      recipe = await slimRecipe(recipeEnv(run, { DBT_PR_ENVIRONMENT: `pr_${slim.pr}` }), {
        s3Endpoint: services.moto.endpoint,
        bucket: services.bucket,
        manifestKey: `${run.prefix}/manifest.json`
      })
    }
  ])
  // The PR closes before the next deploy: its deferred views read production, and the
  // blue/green impact guard would refuse to drop the previous production under them.
  await dropPrSchema(run, slim)
  return { action: measured!, recipe: recipe! }
}

/**
 * P1 warm: the PR's push before this one, at the base (no model changed yet, so dbt selects
 * nothing but parses and saves), then this push, which restores that parse state.
 */
async function warmSlimCase(run: SizeRun, slim: SlimCase): Promise<ActionMeasurement> {
  emptyCache(run)
  run.workspace.checkout('main')
  const first = await action(
    run,
    prEvent(run, slim),
    slimInputs(run, { defer: 'true', 'skip-unchanged': 'false' })
  )
  expectStatus(first, ['nothing-selected'])
  run.workspace.checkout(slim.branch)
  await dropPrSchema(run, slim)
  const measured = await action(run, prEvent(run, slim), slimInputs(run, { defer: 'true' }))
  expectStatus(measured, slim.expected)
  expectWarm(measured)
  await dropPrSchema(run, slim)
  return measured
}

/** P2 in the shallow clone: git cannot compare, so the action leaves it to dbt. */
async function shallowCase(run: SizeRun, slim: SlimCase): Promise<ActionMeasurement> {
  run.workspace.checkout(slim.branch)
  await dropPrSchema(run, slim)
  const measured = await action(
    run,
    prEvent(run, slim),
    slimInputs(run, { defer: 'true' }),
    run.shallow
  )
  expectStatus(measured, slim.expected)
  await dropPrSchema(run, slim)
  return measured
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

function group(groups: GroupSpan[], name: string): GroupSpan {
  const found = groups.find((g) => g.name === name)
  if (!found) throw new Error(`the action logged no "${name}" group: update the bench`)
  return found
}

/** Seconds from the last object hydrated to the wait's end and to the swap's start. */
interface Latency {
  wait: number
  swap: number
}

interface BlueGreenSample {
  action: ActionMeasurement
  /** The next deploy, with one model changed and the parse state of `action` restored. */
  warm: ActionMeasurement
  actionLatency: Latency
  recipe: RecipeResult
  recipeLatency: Latency
  recipePoll1: RecipeResult
  recipePoll1Latency: Latency
}

/** Blue/green, phase all, of the workspace's HEAD. */
async function deployAction(run: SizeRun): Promise<ActionMeasurement> {
  const event = pushEvent({ sha: run.workspace.head() })
  const measured = await action(run, event, slimInputs(run, { mode: 'blue-green', phase: 'all' }))
  expectStatus(measured, ['promoted'])
  return measured
}

async function blueGreenCase(run: SizeRun, rep: number, delay: number): Promise<BlueGreenSample> {
  const { services } = run.ctx
  const { control } = services.emulator
  const sample: Partial<BlueGreenSample> = {}
  // After the swap the green cluster carries the production name: its objects are green's.
  const since = async (at: { wait: number; swap: number }): Promise<Latency> => {
    const hydrated = await hydratedAt(services, PRODUCTION_CLUSTER)
    return { wait: (at.wait - hydrated) / 1000, swap: (at.swap - hydrated) / 1000 }
  }
  const recipeRun = async (pollInterval?: number) => {
    await control.setDefaultHydration({ delaySeconds: delay })
    coldStart(run.workspace.dir)
    const result = await blueGreenRecipe(recipeEnv(run), pollInterval)
    const latency = await since({ wait: result.awaitReturnedAt, swap: result.promoteStartedAt })
    return { result, latency }
  }
  await inTurn(rep, [
    async () => {
      await control.setDefaultHydration({ delaySeconds: delay })
      emptyCache(run)
      const measured = await deployAction(run)
      sample.action = measured
      sample.actionLatency = await since({
        wait: group(measured.groups, AWAIT_GROUP).endedAt,
        swap: group(measured.groups, SWAP_GROUP).startedAt
      })
      run.workspace.checkout(ONE_MODEL_BRANCH)
      await control.setDefaultHydration({ delaySeconds: delay })
      sample.warm = await deployAction(run)
      expectWarm(sample.warm)
      run.workspace.checkout('main')
    },
    async () => {
      const { result, latency } = await recipeRun()
      sample.recipe = result
      sample.recipeLatency = latency
    },
    async () => {
      const { result, latency } = await recipeRun(1)
      sample.recipePoll1 = result
      sample.recipePoll1Latency = latency
    }
  ])
  return sample as BlueGreenSample
}

function emptySamples(): SizeSamples {
  return {
    p1: { action: [], recipe: [], selected: [] },
    p1Warm: { action: [] },
    p2: { action: [], recipe: [], status: [] },
    p2Shallow: { action: [], status: [], gitCompared: [] },
    p3: {
      delays: [],
      action: [],
      actionWait: [],
      recipe: [],
      recipeWait: [],
      recipePoll1: [],
      recipePoll1Wait: []
    },
    p4: { action: [], recipe: [], recipePoll1: [] },
    p4Warm: { action: [] },
    p5: { peakRssMbP1: [], peakRssMbP4: [], firstLineMs: [] },
    p8: []
  }
}

const s = (seconds: number | undefined): string => `${seconds?.toFixed(1) ?? 'n/a'} s`

function recordP5(samples: SizeSamples, measured: ActionMeasurement, peaks: number[]): void {
  if (measured.peakRssMb !== undefined) peaks.push(measured.peakRssMb)
  if (measured.firstLineMs !== undefined) samples.p5.firstLineMs.push(measured.firstLineMs)
}

async function measureSlim(run: SizeRun, samples: SizeSamples): Promise<void> {
  const readme = { pr: PR_README, branch: README_BRANCH }
  for (let rep = 0; rep < run.ctx.reps; rep++) {
    const one = await slimCase(
      run,
      { pr: PR_ONE_MODEL, branch: ONE_MODEL_BRANCH, expected: ['success'] },
      rep
    )
    samples.p1.action.push(sampleOf(one.action))
    samples.p1.recipe.push(one.recipe)
    samples.p1.selected.push(one.action.outputs['selected-count'] ?? '')
    recordP5(samples, one.action, samples.p5.peakRssMbP1)
    const warm = await warmSlimCase(run, {
      pr: PR_ONE_MODEL,
      branch: ONE_MODEL_BRANCH,
      expected: ['success']
    })
    samples.p1Warm.action.push(sampleOf(warm))
    const none = await slimCase(
      run,
      { ...readme, expected: ['skipped-unchanged', 'nothing-selected'] },
      rep
    )
    samples.p2.action.push(sampleOf(none.action))
    samples.p2.recipe.push(none.recipe)
    samples.p2.status.push(none.action.outputs.status ?? '')
    // dbt decides here; a selection from a README change would be a finding, not a bench error.
    const shallow = await shallowCase(run, { ...readme, expected: ['nothing-selected', 'success'] })
    samples.p2Shallow.action.push(sampleOf(shallow))
    samples.p2Shallow.status.push(shallow.outputs.status ?? '')
    samples.p2Shallow.gitCompared.push(!shallow.log.includes('git cannot compare'))
    run.ctx.log(
      `  rep ${rep + 1}: P1 action ${s(one.action.seconds)} (CPU ${s(one.action.cpu)}), warm ${s(warm.seconds)} (CPU ${s(warm.cpu)}) / recipe ${s(one.recipe.wall)} (CPU ${s(one.recipe.cpu)}); ` +
        `P2 action ${s(none.action.seconds)} / recipe ${s(none.recipe.wall)}; ` +
        `P2 shallow action ${s(shallow.seconds)} (${shallow.outputs.status})`
    )
  }
}

async function measureBlueGreen(run: SizeRun, samples: SizeSamples): Promise<void> {
  run.workspace.checkout('main')
  const delays = hydrationDelays(run.ctx.reps)
  for (let rep = 0; rep < delays.length; rep++) {
    const sample = await blueGreenCase(run, rep, delays[rep]!)
    const { p3, p4 } = samples
    p3.delays.push(delays[rep]!)
    p3.action.push(sample.actionLatency.swap)
    p3.actionWait.push(sample.actionLatency.wait)
    p3.recipe.push(sample.recipeLatency.swap)
    p3.recipeWait.push(sample.recipeLatency.wait)
    p3.recipePoll1.push(sample.recipePoll1Latency.swap)
    p3.recipePoll1Wait.push(sample.recipePoll1Latency.wait)
    p4.action.push(sampleOf(sample.action))
    p4.recipe.push(sample.recipe)
    p4.recipePoll1.push(sample.recipePoll1)
    samples.p4Warm.action.push(sampleOf(sample.warm))
    recordP5(samples, sample.action, samples.p5.peakRssMbP4)
    run.ctx.log(
      `  rep ${rep + 1} (hydration ${delays[rep]!.toFixed(1)} s): P4 action ${s(sample.action.seconds)} (CPU ${s(sample.action.cpu)}), warm ${s(sample.warm.seconds)} (CPU ${s(sample.warm.cpu)}) / ` +
        `sequence ${s(sample.recipe.wall)} (CPU ${s(sample.recipe.cpu)}), at poll_interval=1 ${s(sample.recipePoll1.wall)}; ` +
        `P3 action ${sample.actionLatency.swap.toFixed(2)} s / sequence ${sample.recipeLatency.swap.toFixed(2)} s, ` +
        `at poll_interval=1 ${sample.recipePoll1Latency.swap.toFixed(2)} s`
    )
  }
}

/** P8: the diffed models promoted once without a diff, then changed and diffed per repetition. */
async function measureDiff(run: SizeRun, samples: SizeSamples): Promise<void> {
  run.workspace.checkout('main')
  await run.ctx.services.emulator.control.setDefaultHydration({ delaySeconds: 0 })
  const deploy = async (inputs: Record<string, string>) => {
    const event = pushEvent({ sha: run.workspace.head() })
    const measured = await action(
      run,
      event,
      slimInputs(run, { mode: 'blue-green', phase: 'all', ...inputs })
    )
    expectStatus(measured, ['promoted'])
    return measured
  }
  commitDiffedModels(run.workspace, 0)
  await deploy({})
  for (let rep = 0; rep < run.ctx.reps; rep++) {
    commitDiffedModels(run.workspace, rep + 1)
    const sample = diffSampleOf(await deploy(DIFF_INPUTS))
    samples.p8.push(sample)
    run.ctx.log(
      `  rep ${rep + 1}: P8 diff of ${sample.compared} × ${DIFF_ROWS} rows ${s(sample.diff.wall)} / green dbt run ${s(sample.greenRun.wall)}`
    )
  }
}

/** The status every repetition had, or each distinct one. */
const statusOf = (statuses: string[]): string | undefined =>
  statuses.length === 0 ? undefined : [...new Set(statuses)].join(' / ')

const maxOf = (values: number[]): number | undefined =>
  values.length > 0 ? Math.max(...values) : undefined

export function figuresOf(size: number, s: SizeSamples): SizeFigures {
  return {
    size,
    p1: { action: costFigures(s.p1.action), recipe: costFigures(s.p1.recipe) },
    p1Warm: costFigures(s.p1Warm.action),
    p2: { action: costFigures(s.p2.action), recipe: costFigures(s.p2.recipe) },
    p2Shallow: { action: costFigures(s.p2Shallow.action), status: statusOf(s.p2Shallow.status) },
    p3: {
      action: median(s.p3.action),
      actionWait: median(s.p3.actionWait),
      recipe: median(s.p3.recipe),
      recipeWait: median(s.p3.recipeWait),
      recipePoll1: median(s.p3.recipePoll1),
      recipePoll1Wait: median(s.p3.recipePoll1Wait)
    },
    p4: {
      action: costFigures(s.p4.action),
      recipe: costFigures(s.p4.recipe),
      recipePoll1: costFigures(s.p4.recipePoll1)
    },
    p4Warm: costFigures(s.p4Warm.action),
    p5: {
      peakRssMbP1: maxOf(s.p5.peakRssMbP1),
      peakRssMbP4: maxOf(s.p5.peakRssMbP4),
      firstLineMs: median(s.p5.firstLineMs)
    },
    p8: {
      diff: costFigures(s.p8.map((one) => ({ ...one.diff, phases: [] }))),
      greenRun: costFigures(s.p8.map((one) => ({ ...one.greenRun, phases: [] }))),
      compared: s.p8.length > 0 ? Math.min(...s.p8.map((one) => one.compared)) : undefined
    }
  }
}

/** Every figure for one project size. */
export async function benchSize(
  ctx: BenchContext,
  size: number
): Promise<{ figures: SizeFigures; samples: SizeSamples }> {
  const started = Date.now()
  ctx.log(`size ${size}: generating the project and building production…`)
  const dir = path.join(ctx.root, `size-${size}`)
  const workspace = createBenchWorkspace(path.join(dir, 'workspace'), size)
  const shallow = shallowClone(workspace, README_BRANCH, path.join(dir, 'shallow'))
  const run: SizeRun = { ctx, size, workspace, shallow, prefix: `size-${size}`, runCount: 0 }
  await buildProduction(run)
  const samples = emptySamples()
  await measureSlim(run, samples)
  await measureBlueGreen(run, samples)
  await measureDiff(run, samples)
  ctx.log(`size ${size}: done in ${((Date.now() - started) / 1000).toFixed(0)} s`)
  return { figures: figuresOf(size, samples), samples }
}

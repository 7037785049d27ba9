// Slim mode, phase build: state:modified+ against the production manifest.
import * as core from '@actions/core'
import { readFileSync, rmSync } from 'node:fs'
import path from 'node:path'
import type { SlimBuildInputs } from '../inputs.js'
import { isDefaultBranchPush, type RunContext } from '../context.js'
import { DbtCli, type Dbt, type DbtInvocation } from '../dbt/cli.js'
import {
  readManifestIndex,
  readRunResults,
  type NodeIndex,
  type NodeResult
} from '../dbt/artifacts.js'
import { isDbtFile, readProject, type DbtProject } from '../dbt/project.js'
import { dbtEnvironment, prEnvironment, withEnvironmentVar } from '../environment.js'
import { ActionError, errorMessage } from '../errors.js'
import { maskProfileSecrets } from '../dbt/masking.js'
import { parseScope, restoreParseState, saveParseState } from '../dbt/parse-cache.js'
import { checkTarget } from '../dbt/target.js'
import { S3ObjectStore, type ObjectStore } from '../store/s3.js'
import { changedFilesSince, headSha } from '../util/git.js'
import { commitHistory } from '../store/ancestry.js'
import { installPackages } from './packages.js'
import { publishManifest, wantsUpload } from '../store/publish.js'
import { checkSelector, comparesWithState, planSelection, type SelectionPlan } from './selection.js'
import {
  fetchProductionState,
  locateProductionState,
  publishCondition,
  readableState,
  type LocatedState,
  type ManifestSupportQuery,
  type ProductionState,
  type StateHead
} from './state.js'
import { reportRun } from '../report/index.js'
import { deploymentRecord } from '../github/deployments.js'
import { redact } from '../secrets.js'
import { setSelectionOutputs } from './outputs.js'
import { throwIfCancelled } from '../cancel.js'
import type { ReportedNode, RunReport } from '../report/model.js'
import { PgWarehouse, type ConnectWarehouse } from '../warehouse/pg.js'
import type { DiffReport } from '../diff/model.js'
import { gateError } from '../diff/gate.js'
import { renderDiff } from '../diff/render.js'
import { diffPullRequest } from './diff.js'
import { failed } from '../report/model.js'

export type SlimStatus = 'success' | 'nothing-selected' | 'skipped-unchanged' | 'failed'

/** dbt, and which manifest versions it reads. */
export type SlimDbt = Dbt & { manifestSupport: ManifestSupportQuery }

export interface SlimDependencies {
  store: (inputs: SlimBuildInputs) => ObjectStore & { close(): void }
  /** Locates dbt, so a bad "dbt-path" fails before anything is touched. */
  dbt: (inputs: SlimBuildInputs, environment?: string) => Promise<SlimDbt>
  /** The data diff's connection. */
  connect: ConnectWarehouse
}

const realDependencies: SlimDependencies = {
  store: (inputs) => S3ObjectStore.create(inputs.s3, inputs.state.bucket),
  dbt: (inputs, environment) =>
    DbtCli.create(
      { ...inputs.dbt, vars: withEnvironmentVar(inputs.dbt.vars, environment) },
      dbtEnvironment(environment)
    ),
  connect: (target) => PgWarehouse.connect(target)
}

export async function slimBuild(
  inputs: SlimBuildInputs,
  context: RunContext,
  deps: SlimDependencies = realDependencies
): Promise<void> {
  const environment = prEnvironment(inputs, context)
  if (environment) core.setOutput('pr-environment', environment)
  const project = readProject(inputs.dbt.projectDir)
  maskProfileSecrets(inputs.dbt, project, dbtEnvironment(environment))
  // Every setting is checked before S3 or the warehouse, even when dbt will be skipped.
  checkTarget(inputs.dbt, project)
  checkSelector(inputs.selection, project)
  const dbt = await deps.dbt(inputs, environment)
  const store = deps.store(inputs)
  try {
    await buildWithState(
      inputs,
      context,
      { dbt, store, connect: deps.connect },
      project,
      environment
    )
  } finally {
    store.close()
  }
}

/**
 * Runs `build` as a transient GitHub deployment of the pull request's environment, which
 * teardown retires. A run that skips dbt deploys nothing, so it records none (and spends none
 * of the write quota GitHub spaces a second apart).
 */
async function asPrDeployment(
  inputs: SlimBuildInputs,
  context: RunContext,
  environment: string | undefined,
  build: () => Promise<void>
): Promise<void> {
  if (!environment || !context.pullRequest) return build()
  const deployment = deploymentRecord(inputs.report.githubToken, context)
  await deployment.start({
    sha: context.pullRequest.headSha || context.sha,
    environment,
    transient: true,
    description: `dbt slim build of pull request #${context.pullRequest.number}`,
    payload: { environment }
  })
  try {
    await build()
    await deployment.succeed(environment, { environmentUrl: inputs.report.environmentUrl })
  } catch (error) {
    await deployment.status('failure', { description: redact(errorMessage(error)) })
    throw error
  }
}

interface SlimClients {
  dbt: SlimDbt
  store: ObjectStore
  connect: ConnectWarehouse
}

/** On a PR's successful build against production's state, with "diff" on: the data diff. */
async function diffIfWanted(
  inputs: SlimBuildInputs,
  project: DbtProject,
  environment: string | undefined,
  state: ProductionState,
  build: BuildOutcome,
  connect: ConnectWarehouse
): Promise<DiffReport | undefined> {
  if (inputs.diff.mode === 'off' || build.error || !environment || state.kind !== 'found')
    return undefined
  const files = { production: path.join(state.dir, 'manifest.json'), pr: build.manifest }
  return core.group('Data diff', () =>
    diffPullRequest(inputs, project, environment, files, build.nodes, connect)
  )
}

async function buildWithState(
  inputs: SlimBuildInputs,
  context: RunContext,
  { dbt, store, connect }: SlimClients,
  project: DbtProject,
  environment: string | undefined
): Promise<void> {
  const started = Date.now()
  const located = await core.group('Production state', () =>
    locateProductionState(store, inputs.state, inputs.onStateError)
  )
  if (located.kind === 'present' && (await unchangedSinceState(inputs, project, located))) {
    core.setOutput('state-available', 'true')
    await reportSkipped(inputs, context, skippedFacts(context, environment, located))
    return
  }
  await asPrDeployment(inputs, context, environment, () =>
    buildAndReport(inputs, context, { dbt, store, connect }, project, environment, located, started)
  )
}

async function buildAndReport(
  inputs: SlimBuildInputs,
  context: RunContext,
  { dbt, store, connect }: SlimClients,
  project: DbtProject,
  environment: string | undefined,
  located: LocatedState,
  started: number
): Promise<void> {
  const fetched =
    located.kind === 'present'
      ? await core.group('Production manifest', () =>
          fetchProductionState(store, inputs.state, inputs.onStateError)
        )
      : located
  const state = await core.group('Manifest version', () =>
    readableState(fetched, inputs.state, inputs.onStateError, () => dbt.manifestSupport())
  )
  core.setOutput('state-available', String(state.kind === 'found'))
  const plan = planFor(inputs, project, state)
  const facts = baseFacts(context, environment, state, plan)
  const build = await runBuild(dbt, inputs, project, state, plan, environment)
  // A cancelled build is neither published nor reported; cancel.ts reports the cancellation.
  throwIfCancelled()
  const diff = await diffIfWanted(inputs, project, environment, state, build, connect)
  const diffError = diff ? gateError(diff, inputs.diff) : undefined
  facts.push(['Duration', `${((Date.now() - started) / 1000).toFixed(1)} s`])
  const published = build.error
    ? { uploaded: false, notes: [] }
    : await publishIfWanted(store, inputs, context, state, build.manifest)
  throwIfCancelled()
  const failed = build.error ?? diffError ?? published.error
  const status: SlimStatus = failed
    ? 'failed'
    : build.nodes.length === 0
      ? 'nothing-selected'
      : 'success'
  core.setOutput('manifest-uploaded', String(published.uploaded))
  await finish(inputs, context, {
    ...report(status, headline(status, build.nodes), facts, build.nodes, published.notes),
    sharedSections: diff ? [renderDiff(diff)] : []
  })
  if (failed) throw failed
}

function planFor(
  inputs: SlimBuildInputs,
  project: DbtProject,
  state: ProductionState
): SelectionPlan {
  return planSelection(inputs.selection, project, {
    stateDir: state.kind === 'found' ? state.dir : undefined,
    defer: inputs.defer,
    favorState: inputs.favorState
  })
}

async function reportSkipped(
  inputs: SlimBuildInputs,
  context: RunContext,
  facts: Array<[string, string]>
): Promise<void> {
  setSelectionOutputs([])
  core.setOutput('manifest-uploaded', 'false')
  const headlineText =
    'No dbt file changed since the production manifest was built, so dbt was not run.'
  await finish(inputs, context, report('skipped-unchanged', headlineText, facts, []))
}

interface BuildOutcome {
  nodes: ReportedNode[]
  manifest: string
  error?: ActionError
}

async function runBuild(
  dbt: Dbt,
  inputs: SlimBuildInputs,
  project: DbtProject,
  state: ProductionState,
  plan: SelectionPlan,
  environment: string | undefined
): Promise<BuildOutcome> {
  await installPackages(dbt, project, inputs.cachePackages)
  const parseState = await restoreParseState(
    parseScope(dbt, inputs.dbt, [project.targetPath], environment)
  )
  const targetDir = path.join(project.dir, project.targetPath)
  const manifest = path.join(targetDir, 'manifest.json')
  // Files of an earlier step or job (self-hosted runners) must never pass for this build's.
  for (const file of [manifest, path.join(targetDir, 'run_results.json')])
    rmSync(file, { force: true })
  const invocation = await core.group('dbt build', () =>
    dbt.run('build', [...plan.args, ...inputs.dbt.extraArgs])
  )
  throwIfCancelled()
  await saveParseState(parseState)
  const results = readRunResults(path.join(targetDir, 'run_results.json'))
  setSelectionOutputs(results, targetDir)
  const nodes = describeNodes(results, readManifestIndex(manifest), state, plan, project)
  return { nodes, manifest, error: dbtFailure(invocation, nodes) }
}

async function publishIfWanted(
  store: ObjectStore,
  inputs: SlimBuildInputs,
  context: RunContext,
  state: ProductionState,
  manifest: string
): Promise<{ uploaded: boolean; notes: string[]; error?: Error }> {
  if (!wantsUpload(inputs.uploadManifest, isDefaultBranchPush(context)))
    return { uploaded: false, notes: [] }
  try {
    const note = await core.group('Publish manifest', () =>
      publish(store, inputs, state, manifest, context)
    )
    return { uploaded: true, notes: [note] }
  } catch (error) {
    const failure = error instanceof Error ? error : new ActionError(errorMessage(error))
    return {
      uploaded: false,
      notes: [`Manifest not published: ${failure.message}`],
      error: failure
    }
  }
}

async function publish(
  store: ObjectStore,
  inputs: SlimBuildInputs,
  state: ProductionState,
  manifest: string,
  context: RunContext
): Promise<string> {
  const sha = (await headSha(inputs.dbt.projectDir)) ?? context.sha
  throwIfCancelled()
  return publishManifest(
    store,
    inputs.state,
    readFileSync(manifest, 'utf8'),
    publishCondition(state),
    sha,
    {
      history: commitHistory(inputs.dbt.projectDir, inputs.report.githubToken, context),
      changedProduction: prEnvironment(inputs, context) === undefined
    }
  )
}

/** Whether no dbt file changed since the commit production was built from, by one HEAD request and git. */
async function unchangedSinceState(
  inputs: SlimBuildInputs,
  project: DbtProject,
  state: StateHead
): Promise<boolean> {
  if (!inputs.skipUnchanged || !state.gitSha || !comparesWithState(inputs.selection, project))
    return false
  const changed = await changedFilesSince(project.dir, state.gitSha)
  if (changed === undefined) {
    core.info(
      `git cannot compare with ${state.gitSha} (a shallow clone? use fetch-depth: 0), so dbt decides what changed.`
    )
    return false
  }
  const relevant = changed.filter((file) => isDbtFile(project, file))
  core.info(
    `${changed.length} file(s) changed since ${state.gitSha.slice(0, 12)}, ${relevant.length} of them dbt files.`
  )
  return relevant.length === 0
}

function reasonFor(
  uniqueId: string,
  current: NodeIndex,
  state: ProductionState,
  plan: SelectionPlan
): string {
  if (state.kind !== 'found') return 'full build'
  if (!plan.stateBased) return 'selected'
  const before = state.nodes.get(uniqueId)
  if (!before) return 'new'
  return before.checksum !== current.get(uniqueId)?.checksum ? 'modified' : 'downstream of a change'
}

function describeNodes(
  results: NodeResult[],
  current: NodeIndex,
  state: ProductionState,
  plan: SelectionPlan,
  project: DbtProject
): ReportedNode[] {
  return results.map((result) => {
    const info = current.get(result.uniqueId)
    const file = info?.originalFilePath
      ? path.relative(
          process.env.GITHUB_WORKSPACE || process.cwd(),
          path.join(project.dir, info.originalFilePath)
        )
      : undefined
    return {
      uniqueId: result.uniqueId,
      name: info?.name ?? result.uniqueId,
      resourceType: info?.resourceType ?? result.uniqueId.split('.')[0] ?? '',
      status: result.status,
      seconds: result.seconds,
      reason: reasonFor(result.uniqueId, current, state, plan),
      message: result.message,
      file
    }
  })
}

function dbtFailure(invocation: DbtInvocation, nodes: ReportedNode[]): ActionError | undefined {
  if (invocation.exitCode === 0) return undefined
  const failures = nodes.filter(failed)
  if (invocation.exitCode === 1 && failures.length > 0) {
    const names = failures
      .slice(0, 10)
      .map((node) => node.uniqueId)
      .join(', ')
    return new ActionError(
      `dbt build failed: ${failures.length} node(s) failed (${names}). See the annotations and the job summary.`
    )
  }
  return new ActionError(
    `dbt could not complete the build (exit ${invocation.exitCode}). dbt said:\n${invocation.tail}`
  )
}

function headline(status: SlimStatus, nodes: ReportedNode[]): string {
  const failures = nodes.filter(failed).length
  if (status === 'nothing-selected') return 'The selection matched no nodes, so nothing was built.'
  if (failures > 0) return `${nodes.length} node(s) ran, ${failures} failed.`
  return `${nodes.length} node(s) ran${status === 'failed' ? '' : ' successfully'}.`
}

function eventFacts(context: RunContext, environment: string | undefined): Array<[string, string]> {
  const facts: Array<[string, string]> = [
    [
      'Event',
      `${context.eventName} at \`${(context.pullRequest?.headSha || context.sha).slice(0, 7)}\``
    ]
  ]
  if (environment) facts.push(['PR environment', `\`${environment}\``])
  return facts
}

function baseFacts(
  context: RunContext,
  environment: string | undefined,
  state: ProductionState,
  plan: SelectionPlan
): Array<[string, string]> {
  const stateText = {
    found: 'production manifest found',
    missing: 'no production manifest yet (first run)',
    unusable: 'production manifest unusable'
  }[state.kind]
  return [
    ...eventFacts(context, environment),
    ['State', stateText],
    ['Selection', plan.description]
  ]
}

function skippedFacts(
  context: RunContext,
  environment: string | undefined,
  state: StateHead
): Array<[string, string]> {
  const dbt = state.dbtVersion ? ` with dbt ${state.dbtVersion}` : ''
  return [
    ...eventFacts(context, environment),
    ['State', `production manifest of \`${state.gitSha?.slice(0, 7)}\`${dbt}`]
  ]
}

function report(
  status: SlimStatus,
  headlineText: string,
  facts: Array<[string, string]>,
  nodes: ReportedNode[],
  notes: string[] = []
): RunReport {
  return { title: 'dbt slim build', status, headline: headlineText, facts, nodes, notes }
}

async function finish(
  inputs: SlimBuildInputs,
  context: RunContext,
  runReport: RunReport
): Promise<void> {
  core.setOutput('status', runReport.status)
  await reportRun(runReport, inputs.report, context, 'slim')
}

// Checks before deploy_init that make a blue/green deploy safe, each failing with the cause
// before anything is created: the installed dbt releases against the known-versions table,
// CI_TAG, and the names green will really build into, resolved by dbt with the deploy vars.
import * as core from '@actions/core'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import type { Dbt, DbtInvocation, DbtRunOptions } from '../dbt/cli.js'
import {
  CI_TAG_BREAKS_DEPLOY_INIT,
  isIn,
  versionProblems,
  type InstalledVersions
} from '../dbt/known-versions.js'
import { CI_TAG_ENV } from '../environment.js'
import { ActionError } from '../errors.js'
import { greenNames } from './catalog.js'
import { GREEN_SUFFIX } from './config.js'
import type { BlueGreenRun } from './run.js'

interface ManifestNode {
  unique_id: string
  resource_type: string
  package_name: string
  name: string
  schema: string
  config: {
    materialized?: string
    cluster?: string | null
    indexes?: Array<{ cluster?: string | null }> | null
  }
  depends_on?: { nodes?: string[] }
  raw_code?: string
}

/**
 * Whether `node` reads `input` by ref: a `-- depends_on: {{ ref(…) }}` comment, dbt's way to
 * only order a build, reads nothing.
 */
export function readsByRef(node: Pick<ManifestNode, 'raw_code'>, input: { name: string }): boolean {
  if (node.raw_code === undefined) return true
  const code = node.raw_code.replace(/--\s*depends_on:[^\n]*/g, '')
  // ref('name') or ref('package', 'name')
  return new RegExp(`ref\\(\\s*(['"][^'"]*['"]\\s*,\\s*)?['"]${input.name}['"]\\s*\\)`).test(code)
}

interface ManifestSource {
  unique_id: string
  source_name: string
  name: string
  schema: string
}

interface Manifest {
  nodes: Record<string, ManifestNode>
  sources: Record<string, ManifestSource>
  macros: Record<string, { name: string; package_name: string }>
}

/** What the green build needs besides `dbt run`. */
export interface GreenBuildPlan {
  /** Names of the seeds that live in a deployment schema: `dbt seed` builds them into green first. */
  seeds: string[]
}

const DBT_TIMEOUT_MS = 600_000
/** Materializations that place nothing on a cluster (an index on them still does). */
const CLUSTERLESS = new Set(['view', 'ephemeral', 'seed'])
/** The macros whose override decides the schema and cluster names green builds into. */
const NAME_MACROS = [
  'generate_schema_name',
  'generate_cluster_name',
  'generate_deploy_cluster_name'
]
/** dbt itself and the adapters: their macros are the defaults, not overrides. */
const BUILT_IN_PACKAGES = new Set(['dbt', 'dbt_postgres', 'dbt_materialize'])
const SHOWN = 10

async function dbtAnswer(
  dbt: Dbt,
  command: string,
  args: string[],
  what: string,
  options: DbtRunOptions = {}
): Promise<DbtInvocation> {
  const result = await dbt.run(command, args, { timeoutMs: DBT_TIMEOUT_MS, ...options })
  if (result.timedOut)
    throw new ActionError(`${what} did not finish within ${DBT_TIMEOUT_MS / 1000} s.`)
  if (result.exitCode !== 0)
    throw new ActionError(`${what} failed (dbt exit ${result.exitCode}). dbt said:\n${result.tail}`)
  return result
}

// --- versions ---------------------------------------------------------------------------------

async function checkVersions(run: BlueGreenRun): Promise<InstalledVersions | undefined> {
  const { dbt } = run.clients
  if (!dbt.installedVersions) return undefined
  const installed = await dbt.installedVersions()
  if (!installed) {
    throw new ActionError(
      `Could not read the installed dbt-core and dbt-materialize releases from "${run.inputs.dbt.executable}" (input "dbt-path"); ` +
        'blue/green checks them against its table of known floors before deploy_init. Nothing was created.'
    )
  }
  core.info(
    `dbt-core ${installed['dbt-core'] ?? 'not installed'}, dbt-materialize ${installed['dbt-materialize'] ?? 'not installed'}`
  )
  const problems = versionProblems(installed)
  if (problems.length > 0) {
    throw new ActionError(
      `The installed dbt cannot run a blue/green deploy: ${problems.join(' ')} ` +
        'Upgrade it (for example "pip install \'dbt-materialize>=1.9.8\'"). Nothing was created.'
    )
  }
  return installed
}

// --- CI_TAG -----------------------------------------------------------------------------------

/** dbt runs without CI_TAG in blue/green (environment.ts); say so when the job sets it. */
function noticeCiTag(run: BlueGreenRun, installed: InstalledVersions | undefined): void {
  if (!process.env[CI_TAG_ENV]) return
  const version = installed?.['dbt-materialize']
  const broken =
    version !== undefined && isIn(version, CI_TAG_BREAKS_DEPLOY_INIT)
      ? ` (and in dbt-materialize ${version} ${CI_TAG_BREAKS_DEPLOY_INIT.problem}: ${CI_TAG_BREAKS_DEPLOY_INIT.link})`
      : ''
  const message =
    `${CI_TAG_ENV} is set in the job's environment; blue/green runs dbt without it. ` +
    `dbt-materialize's CI tag lets a pull request's CI re-use its own *_dbt_deploy environment; this action keeps one green per target and refuses an existing one itself${broken}.`
  core.notice(message)
  run.notes.push(message)
}

// --- the names green builds into --------------------------------------------------------------

/** The models the green `dbt run` selects, as dbt lists them with the deploy vars. */
async function selectedModels(run: BlueGreenRun, exclude: string[]): Promise<Set<string>> {
  const args = ['--resource-type', 'model', '--output', 'json', '--output-keys', 'unique_id']
  if (exclude.length > 0) args.push('--exclude', ...exclude)
  const listed = await dbtAnswer(run.greenDbt, 'ls', ['--quiet', ...args], 'dbt ls (green)', {
    keepStdout: true
  })
  const ids = (listed.stdout ?? '').split('\n').flatMap((line) => {
    try {
      const id = (JSON.parse(line) as { unique_id?: unknown }).unique_id
      return typeof id === 'string' ? [id] : []
    } catch {
      return []
    }
  })
  return new Set(ids)
}

function readManifest(run: BlueGreenRun): Manifest {
  const file = path.join(run.project.dir, run.greenTargetPath, 'manifest.json')
  return JSON.parse(readFileSync(file, 'utf8')) as Manifest
}

/** The cluster each object of a node lands on, unresolved: null is the profile's cluster. */
function rawClusters(node: ManifestNode): Array<string | null> {
  const own = node.config.cluster ?? null
  const indexes = (node.config.indexes ?? []).map((index) => index.cluster ?? own)
  return CLUSTERLESS.has(node.config.materialized ?? '') ? indexes : [own, ...indexes]
}

interface ResolvedClusters {
  clusters: Record<string, string>
  /** The profile's cluster with the deploy vars; null when the profile has none. */
  target: string | null
}

/**
 * Resolves cluster names as dbt-materialize does when it creates an object
 * (`adapter.generate_final_cluster_name`: the project's `generate_cluster_name`, then the
 * `_dbt_deploy` suffix of `generate_deploy_cluster_name` under the deploy vars), in one
 * `dbt compile --inline`, so that overrides of either macro count.
 */
async function resolveClusters(run: BlueGreenRun, names: string[]): Promise<ResolvedClusters> {
  const inline =
    `{%- set out = {} -%}{%- for name in ${JSON.stringify(names)} -%}` +
    '{%- do out.update({name: adapter.generate_final_cluster_name(name)}) -%}{%- endfor -%}' +
    '{{ tojson({"clusters": out, "target": (adapter.generate_final_cluster_name(target.cluster) if target.cluster else none)}) }}'
  const result = await dbtAnswer(
    run.greenDbt,
    'compile',
    ['--quiet', '--output', 'json', '--inline', inline],
    'dbt compile (green cluster names)'
  )
  const line = result.tail.split('\n').find((l) => /^\s*"compiled":/.test(l))
  try {
    const compiled = (JSON.parse(`{${line ?? ''}}`) as { compiled: string }).compiled
    return JSON.parse(compiled) as ResolvedClusters
  } catch {
    throw new ActionError(
      `dbt compile (green cluster names) gave no answer. dbt said:\n${result.tail}`
    )
  }
}

function overriddenNameMacros(manifest: Manifest): string[] {
  return Object.values(manifest.macros)
    .filter((m) => NAME_MACROS.includes(m.name) && !BUILT_IN_PACKAGES.has(m.package_name))
    .map((m) => `${m.package_name}.${m.name}`)
}

function listed(problems: string[]): string {
  const more = problems.length > SHOWN ? `; and ${problems.length - SHOWN} more` : ''
  return problems.slice(0, SHOWN).join('; ') + more
}

interface Placement {
  manifest: Manifest
  selected: ManifestNode[]
  resolve: (raw: string | null) => string | null
}

/** Selected models (and seeds built into green) whose schema or cluster is not green. */
function misplaced(run: BlueGreenRun, placement: Placement, seeds: ManifestNode[]): string[] {
  const green = greenNames(run.config)
  const problems: string[] = []
  for (const node of [...placement.selected, ...seeds]) {
    if (node.config.materialized === 'ephemeral') continue
    if (!green.schemas.includes(node.schema))
      problems.push(`${node.unique_id} builds into schema "${node.schema}"`)
    for (const cluster of new Set(rawClusters(node).map(placement.resolve)))
      if (cluster === null || !green.clusters.includes(cluster))
        problems.push(`${node.unique_id} builds on cluster "${cluster ?? '(none)'}"`)
  }
  return problems
}

function refuseMisplaced(run: BlueGreenRun, problems: string[], manifest: Manifest): void {
  if (problems.length === 0) return
  const green = greenNames(run.config)
  const overrides = overriddenNameMacros(manifest)
  const hint =
    overrides.length > 0
      ? ` The project overrides ${overrides.join(', ')}: with --vars 'deploy: true' they must return the production name with the "_dbt_deploy" suffix, as dbt-materialize's own macros do.`
      : ` Set the model's schema and cluster to ones listed in vars.deployment.${run.config.target}, or exclude the model (input "exclude").`
  throw new ActionError(
    `With the deploy vars, green would build outside its schemas (${green.schemas.join(', ')}) and clusters (${green.clusters.join(', ')}), ` +
      `into production or names nothing swaps: ${listed(problems)}.${hint} Nothing was created.`
  )
}

/**
 * What selected models read that green does not build: sources in a production schema (the
 * swap moves them away and dropping the previous production deletes them), seeds outside the
 * deployment schemas and excluded models (green would read them from a `*_dbt_deploy` name).
 */
function unbuiltInputs(run: BlueGreenRun, placement: Placement, seeds: Set<string>): string[] {
  const { manifest } = placement
  const selected = new Set(placement.selected.map((n) => n.unique_id))
  const production = run.config.schemas
  // A green or production name that green does not build: missing, or gone after the swap.
  const unreadable = (schema: string) =>
    schema.endsWith(GREEN_SUFFIX) || production.includes(schema)
  const problems = new Set<string>()
  for (const node of placement.selected) {
    for (const parent of node.depends_on?.nodes ?? []) {
      const source = manifest.sources[parent]
      if (source && production.includes(source.schema))
        problems.add(
          `source ${source.source_name}.${source.name} is in production schema "${source.schema}": the swap moves it to "${source.schema}_dbt_deploy" and dropping the previous production deletes it; keep sources and tables in a schema outside vars.deployment`
        )
      const input = manifest.nodes[parent]
      if (!input || !unreadable(input.schema)) continue
      if (input.resource_type === 'seed' && !seeds.has(parent) && readsByRef(node, input))
        problems.add(
          `seed ${input.name} would be read from "${input.schema}", which is not a deployment schema; put the seed in a schema listed in vars.deployment (it is then built into green), or load it outside dbt and read it as a source`
        )
      if (input.resource_type === 'model' && !selected.has(parent))
        problems.add(
          `${node.unique_id} reads excluded model ${input.name}, which green does not build, from "${input.schema}"; read it through a source() outside the deployment schemas`
        )
    }
  }
  return [...problems]
}

async function checkGreenNames(run: BlueGreenRun): Promise<GreenBuildPlan> {
  const selectedIds = await selectedModels(run, run.inputs.blueGreen.exclude)
  const manifest = readManifest(run)
  const selected = [...selectedIds].flatMap((id) => manifest.nodes[id] ?? [])
  const green = greenNames(run.config)
  const seeds = Object.values(manifest.nodes).filter(
    (n) => n.resource_type === 'seed' && green.schemas.includes(n.schema)
  )
  const raw = [...new Set([...selected, ...seeds].flatMap(rawClusters))]
  const named = raw.filter((c): c is string => c !== null)
  const resolved = await resolveClusters(run, named)
  const resolve = (name: string | null) =>
    name === null ? resolved.target : (resolved.clusters[name] ?? null)
  const placement: Placement = { manifest, selected, resolve }
  refuseMisplaced(run, misplaced(run, placement, seeds), manifest)
  const inputs = unbuiltInputs(run, placement, new Set(seeds.map((s) => s.unique_id)))
  if (inputs.length > 0)
    throw new ActionError(
      `Green's models read what green does not build: ${listed(inputs)}. Nothing was created.`
    )
  core.info(
    `${selected.length} models build into ${green.schemas.join(', ')} on ${green.clusters.join(', ')}` +
      (seeds.length > 0
        ? `; seeds built into green first: ${seeds.map((s) => s.name).join(', ')}`
        : '')
  )
  return { seeds: seeds.map((s) => s.name) }
}

/** Every check before deploy_init; the plan says what green builds besides `dbt run`. */
export async function preflight(run: BlueGreenRun): Promise<GreenBuildPlan> {
  const installed = await checkVersions(run)
  noticeCiTag(run, installed)
  return checkGreenNames(run)
}

// The cutover plan: the SWAP statements, each `ALTER SINK … SET FROM` as dbt-materialize's
// deploy_promote runs it, what happens to the previous production, and what lies outside the
// deployment. Shown in the summary, the log and the `plan` output (JSON).
import { cell } from '../report/markdown.js'
import { quoteIdent } from '../warehouse/pg.js'
import { green, type DeploymentConfig } from './config.js'
import { qualifiedName, type CatalogObject, type Dependent, type Impact } from './impact.js'

export interface SinkRepoint {
  sink: string
  from: string
  statement: string
}

export interface PlannedObject {
  name: string
  type: string
  cluster: string | null
  reason: string
}

export interface CutoverPlan {
  /** Planned by `dry-run: true`: nothing of it ran. */
  dryRun: boolean
  swap: string[]
  sinks: SinkRepoint[]
  previous: {
    action: 'drop' | 'keep'
    statements: string[]
    /** Outside objects the drop would have taken: the drop was blocked, so `action` is `keep`. */
    blockedBy: string[]
    /** Outside objects dropped with it, as "allow-dependents" accepts. */
    accepted: string[]
  }
  /** Objects outside the deployment reading production: after the swap they read the previous one. */
  dependents: PlannedObject[]
  sourcesAndTables: PlannedObject[]
  /** Active SUBSCRIBEs on the swapped clusters, which the swap breaks. */
  subscriptions: number
}

export function swapStatements(config: DeploymentConfig): string[] {
  return [
    'BEGIN',
    ...config.schemas.map((s) => `ALTER SCHEMA ${quoteIdent(s)} SWAP WITH ${quoteIdent(green(s))}`),
    ...config.clusters.map(
      (c) => `ALTER CLUSTER ${quoteIdent(c)} SWAP WITH ${quoteIdent(green(c))}`
    ),
    'COMMIT'
  ]
}

/** What dropping the green names runs (dropEnvironment: schemas first, then clusters). */
export function dropStatements(config: DeploymentConfig): string[] {
  return [
    ...config.schemas.map((s) => `DROP SCHEMA IF EXISTS ${quoteIdent(green(s))} CASCADE`),
    ...config.clusters.map((c) => `DROP CLUSTER IF EXISTS ${quoteIdent(green(c))} CASCADE`)
  ]
}

interface ManifestNode {
  resource_type?: string
  database?: string
  schema?: string
  name?: string
  alias?: string
  config?: { materialized?: string }
  depends_on?: { nodes?: string[] }
}

/**
 * The sinks deploy_promote repoints, from the production manifest as its `discover_sinks` reads
 * dbt's graph: sink models whose first upstream node is in a deployment schema, each set to read
 * that node under its production name.
 */
export function sinkRepoints(manifestBody: string, config: DeploymentConfig): SinkRepoint[] {
  const nodes = (JSON.parse(manifestBody) as { nodes?: Record<string, ManifestNode> }).nodes ?? {}
  // process_sinks skips a sink unless every part of both names is set.
  const name = (n: ManifestNode): string | undefined =>
    n.database && n.schema && n.name
      ? [n.database, n.schema, n.name].map(quoteIdent).join('.')
      : undefined
  return Object.values(nodes).flatMap((node) => {
    if (node.resource_type !== 'model' || node.config?.materialized !== 'sink') return []
    const upstream = nodes[node.depends_on?.nodes?.[0] ?? '']
    if (!upstream?.schema || !config.schemas.includes(upstream.schema)) return []
    const [sink, from] = [name(node), name(upstream)]
    return sink && from ? [{ sink, from, statement: `ALTER SINK ${sink} SET FROM ${from}` }] : []
  })
}

/** The seed tables the deployment builds (in a deployment schema), from the production manifest. */
export function seedTables(manifestBody: string, config: DeploymentConfig): string[] {
  const nodes = (JSON.parse(manifestBody) as { nodes?: Record<string, ManifestNode> }).nodes ?? {}
  return Object.values(nodes).flatMap((n) => {
    const table = n.alias ?? n.name
    const deployed = n.resource_type === 'seed' && config.schemas.includes(n.schema ?? '')
    return deployed && table ? [table] : []
  })
}

const planned = (o: CatalogObject, reason: string): PlannedObject => ({
  name: qualifiedName(o),
  type: o.type,
  cluster: o.cluster,
  reason
})

const unquoted = (name: string): string => name.replace(/"/g, '')

export function buildPlan(
  config: DeploymentConfig,
  impact: Impact,
  sinks: SinkRepoint[],
  options: { keepPrevious: boolean; dryRun: boolean }
): CutoverPlan {
  const repointed = new Set(sinks.map((s) => unquoted(s.sink)))
  const dependent = (d: Dependent): PlannedObject =>
    planned(
      d,
      repointed.has(qualifiedName(d)) ? `${d.reason}; deploy_promote repoints it` : d.reason
    )
  return {
    dryRun: options.dryRun,
    swap: swapStatements(config),
    sinks,
    previous: {
      action: options.keepPrevious ? 'keep' : 'drop',
      statements: dropStatements(config),
      blockedBy: [],
      accepted: []
    },
    dependents: impact.dependents.map(dependent),
    sourcesAndTables: impact.sourcesAndTables.map((o) =>
      planned(o, o.cluster ? `on cluster ${o.cluster}` : `in schema ${o.schema}`)
    ),
    subscriptions: impact.subscriptions
  }
}

function previousLines(plan: CutoverPlan): string[] {
  const { previous } = plan
  if (previous.blockedBy.length > 0)
    return [`-- previous production kept: dropping it would take ${previous.blockedBy.join(', ')}`]
  if (previous.action === 'keep')
    return ['-- previous production kept under the *_dbt_deploy names ("keep-previous")']
  return [
    '-- then the previous production, now under the *_dbt_deploy names, is dropped:',
    ...previous.statements.map((s) => `${s};`)
  ]
}

/** The statements in the order they run, with comments; for the log and the summary. */
export function planStatements(plan: CutoverPlan): string[] {
  return [
    ...plan.swap.map((s) => `${s};`),
    ...(plan.sinks.length === 0
      ? ['-- no sink model reads a deployment schema: no ALTER SINK']
      : [
          '-- then deploy_promote repoints each sink:',
          ...plan.sinks.map((s) => `${s.statement};`)
        ]),
    ...previousLines(plan)
  ]
}

function objectTable(objects: PlannedObject[]): string[] {
  return [
    '| Object | Type | Cluster | Why |',
    '| --- | --- | --- | --- |',
    ...objects.map(
      (o) => `| ${cell(o.name)} | ${cell(o.type)} | ${cell(o.cluster ?? '–')} | ${cell(o.reason)} |`
    )
  ]
}

export function renderPlan(plan: CutoverPlan): string {
  const lines = ['### Cutover plan', '']
  if (plan.dryRun) lines.push('**Dry run**: nothing below was run.', '')
  lines.push('```sql', ...planStatements(plan), '```', '')
  if (plan.dependents.length === 0) {
    lines.push('No object outside the deployment reads production.', '')
  } else {
    lines.push(
      '**Outside the deployment**: after the swap these keep reading the previous production, and dropping it takes them.',
      '',
      ...objectTable(plan.dependents),
      ''
    )
  }
  if (plan.previous.accepted.length > 0)
    lines.push(`Dropped with it ("allow-dependents"): ${plan.previous.accepted.join(', ')}.`, '')
  if (plan.sourcesAndTables.length > 0)
    lines.push(
      '**Sources and tables** in the deployment schemas or on its clusters:',
      '',
      ...objectTable(plan.sourcesAndTables),
      ''
    )
  lines.push(
    `Active SUBSCRIBEs on the swapped clusters: ${plan.subscriptions}${plan.subscriptions > 0 ? ' (the swap breaks them)' : ''}.`
  )
  return lines.join('\n')
}

// What a cutover touches beyond the deployment. Materialize binds objects by id: after a swap,
// a view in another schema, an index on another cluster or a sink that read a production object
// still reads it under its `*_dbt_deploy` name, and `DROP … CASCADE` of that name takes them too.
// Catalog relations as upstream defines them (MaterializeInc/materialize
// src/catalog/src/builtin/{mz_catalog,mz_internal,mz_object_dependencies}.rs).
import { ActionError } from '../errors.js'
import { literalList, type Sql } from '../warehouse/pg.js'
import type { EnvironmentNames } from '../warehouse/environment.js'
import { greenNames, productionNames } from './catalog.js'
import type { DeploymentConfig } from './config.js'

export interface CatalogObject {
  id: string
  database: string | null
  schema: string
  name: string
  /** mz_objects.type: `table`, `source`, `view`, `materialized-view`, `index`, `sink`, … */
  type: string
  cluster: string | null
  /** In the current database, the only one the deployment config names schemas of. */
  here: boolean
}

/** An object outside the deployment that a drop of one side would take with it. */
export interface Dependent extends CatalogObject {
  /** Why: `reads <object>` (a dependency) or `on cluster <c>` (it sits on a side's cluster). */
  reason: string
}

export interface Impact {
  /** Every user object in the deployment's schemas (current database) or on its clusters. */
  objects: CatalogObject[]
  dependents: Dependent[]
  /** Sources and tables in the deployment's schemas or on its clusters (either side). */
  sourcesAndTables: CatalogObject[]
  /** Active SUBSCRIBEs on the production and green clusters: a swap breaks them. */
  subscriptions: number
}

export type Side = 'production' | 'green'

export const qualifiedName = (o: Pick<CatalogObject, 'database' | 'schema' | 'name'>): string =>
  [o.database, o.schema, o.name].filter((part) => part !== null).join('.')

const sideNames = (config: DeploymentConfig, side: Side): EnvironmentNames =>
  side === 'production' ? productionNames(config) : greenNames(config)

function deploymentNames(config: DeploymentConfig): EnvironmentNames {
  return {
    schemas: [...config.schemas, ...greenNames(config).schemas],
    clusters: [...config.clusters, ...greenNames(config).clusters]
  }
}

const inSchemas = (o: CatalogObject, names: EnvironmentNames): boolean =>
  o.here && names.schemas.includes(o.schema)

const onClusters = (o: CatalogObject, names: EnvironmentNames): boolean =>
  o.cluster !== null && names.clusters.includes(o.cluster)

/** Outside: in a schema that is not a deployment schema, or on a cluster that is not one. */
export function isOutside(config: DeploymentConfig): (o: CatalogObject) => boolean {
  const names = deploymentNames(config)
  return (o) => !inSchemas(o, names) || (o.cluster !== null && !onClusters(o, names))
}

const OBJECT_COLUMNS = `o.id, d.name as database, s.name as schema, o.name, o.type, c.name as cluster,
       coalesce(d.name = current_database(), false) as here`

const OBJECT_JOINS = `join mz_catalog.mz_schemas s on s.id = o.schema_id
  left join mz_catalog.mz_databases d on d.id = s.database_id
  left join mz_catalog.mz_clusters c on c.id = o.cluster_id`

/** User objects in the deployment's schemas (current database) or on its clusters, both sides. */
async function deploymentObjects(sql: Sql, config: DeploymentConfig): Promise<CatalogObject[]> {
  const names = deploymentNames(config)
  return sql.query<CatalogObject>(
    `select ${OBJECT_COLUMNS}
  from mz_catalog.mz_objects o
  ${OBJECT_JOINS}
  where o.id like 'u%'
    and ((d.name = current_database() and s.name in (${literalList(names.schemas)}))
         or c.name in (${literalList(names.clusters)}))`
  )
}

/**
 * Every object that depends on `roots`, recursively, with the first object it was found to read.
 * mz_object_dependencies lists direct references only; one query per level of the graph.
 */
export async function dependentsOf(
  sql: Sql,
  roots: CatalogObject[]
): Promise<Array<CatalogObject & { reads: CatalogObject }>> {
  const known = new Map(roots.map((r) => [r.id, r]))
  const found: Array<CatalogObject & { reads: CatalogObject }> = []
  let frontier = roots.map((r) => r.id)
  while (frontier.length > 0) {
    const rows = await sql.query<CatalogObject & { referenced_id: string }>(
      `select dep.referenced_object_id as referenced_id, ${OBJECT_COLUMNS}
  from mz_internal.mz_object_dependencies dep
  join mz_catalog.mz_objects o on o.id = dep.object_id
  ${OBJECT_JOINS}
  where dep.referenced_object_id in (${literalList(frontier)})`
    )
    frontier = []
    for (const { referenced_id: referencedId, ...object } of rows) {
      if (known.has(object.id)) continue
      known.set(object.id, object)
      found.push({ ...object, reads: known.get(referencedId)! })
      frontier.push(object.id)
    }
  }
  return found
}

async function activeSubscriptions(sql: Sql, config: DeploymentConfig): Promise<number> {
  const [row] = await sql.query<{ n: number | string }>(
    `select count(*) as n from mz_internal.mz_subscriptions sub
  join mz_catalog.mz_clusters c on c.id = sub.cluster_id
  where c.name in (${literalList(deploymentNames(config).clusters)})`
  )
  return Number(row?.n ?? 0)
}

const placeOf = (o: CatalogObject): string =>
  [`in schema ${o.schema}`, o.cluster === null ? '' : `on cluster ${o.cluster}`]
    .filter(Boolean)
    .join(', ')

/**
 * The impact of dropping one side's schemas and clusters (`DROP … CASCADE`): the objects outside
 * the deployment it takes, i.e. those on the side's clusters and those reading the side's objects,
 * recursively. For production, these are what a swap leaves reading the previous production.
 */
export async function surveyImpact(
  sql: Sql,
  config: DeploymentConfig,
  side: Side
): Promise<Impact> {
  const objects = await deploymentObjects(sql, config)
  const names = sideNames(config, side)
  const roots = objects.filter((o) => inSchemas(o, names) || onClusters(o, names))
  const outside = isOutside(config)
  const dependents: Dependent[] = [
    ...roots.filter(outside).map((o) => ({ ...o, reason: placeOf(o) })),
    ...(await dependentsOf(sql, roots))
      .filter(outside)
      .map(({ reads, ...o }) => ({ ...o, reason: `reads ${qualifiedName(reads)}` }))
  ]
  return {
    objects,
    dependents,
    sourcesAndTables: objects.filter((o) => o.type === 'source' || o.type === 'table'),
    subscriptions: await activeSubscriptions(sql, config)
  }
}

/** A PR environment's schema as slim mode names it by default (`pr_<number>[_<suffix>]`). */
const PR_SCHEMA = /^pr_\d+(_|$)/

const describe = (o: CatalogObject): string => `${qualifiedName(o)} (${o.type})`

/**
 * The production-side reasons a swap is unsafe; empty when it is safe. `seeds` are the tables
 * the deployment rebuilds in green (dbt seeds), which the swap replaces as it should.
 */
export function productionSideProblems(
  config: DeploymentConfig,
  objects: CatalogObject[],
  seeds: string[] = []
): string[] {
  const production = productionNames(config)
  const deployment = deploymentNames(config)
  const rebuilt = (o: CatalogObject): boolean => o.type === 'table' && seeds.includes(o.name)
  const stored = objects.filter(
    (o) => inSchemas(o, production) && (o.type === 'source' || o.type === 'table') && !rebuilt(o)
  )
  const foreign = objects.filter((o) => onClusters(o, production) && !inSchemas(o, deployment))
  const pr = foreign.filter((o) => PR_SCHEMA.test(o.schema))
  const other = foreign.filter((o) => !PR_SCHEMA.test(o.schema))
  const problems: string[] = []
  if (stored.length > 0)
    problems.push(
      `sources or tables in a production schema, which the swap would replace by green's (empty or missing) ones: ${stored.map(describe).join(', ')}`
    )
  if (other.length > 0)
    problems.push(
      `objects of schemas outside the deployment on a production cluster, which the swap would move to *_dbt_deploy and its drop would take: ${other.map(describe).join(', ')}`
    )
  if (pr.length > 0)
    problems.push(
      `objects of pull request environments on a production cluster (a PR profile that builds on it): ${pr.map(describe).join(', ')}`
    )
  return problems
}

/**
 * Refuses, touching nothing, what makes a swap unsafe on the production side: sources or tables
 * in a production schema, and objects of other schemas (PR environments among them) on a
 * production cluster.
 */
export async function checkProductionSide(
  sql: Sql,
  config: DeploymentConfig,
  seeds: string[] = []
): Promise<void> {
  refuseUnsafeProduction(config, await deploymentObjects(sql, config), seeds)
}

/** checkProductionSide on objects already read (see Impact.objects). */
export function refuseUnsafeProduction(
  config: DeploymentConfig,
  objects: CatalogObject[],
  seeds: string[] = []
): void {
  const problems = productionSideProblems(config, objects, seeds)
  if (problems.length === 0) return
  throw new ActionError(
    `Blue/green cannot safely swap vars.deployment.${config.target}: ${problems.join('; ')}. ` +
      'Keep sources, tables and seeds in schemas outside vars.deployment, move other objects to a cluster outside it, ' +
      'and build pull requests on their own cluster (see "A PR profile that never builds on a production cluster" in the README).'
  )
}

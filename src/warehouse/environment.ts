// Dropping an environment (a PR's, or blue/green's green): the one place that decides which
// schemas and clusters a drop takes. Schemas go first, cascading to their objects, then clusters.
import type { Warehouse } from './pg.js'

export interface EnvironmentNames {
  schemas: string[]
  clusters: string[]
}

/**
 * `exact`: only these names (green: `analytics_dbt_deploy`, never `analytics_dbt_deploy_x`).
 * `with-suffixes`: each name and every `<name>_*` (a PR's `pr_7` and `pr_7_staging`, never `pr_70`).
 */
export type NameMatch = 'exact' | 'with-suffixes'

function matches(names: string[], match: NameMatch): (candidate: string) => boolean {
  return (candidate) =>
    names.some(
      (name) =>
        candidate === name || (match === 'with-suffixes' && candidate.startsWith(`${name}_`))
    )
}

/** Drops what exists of the environment; returns what it dropped, e.g. `schema pr_7`. */
export async function dropEnvironment(
  warehouse: Warehouse,
  names: EnvironmentNames,
  match: NameMatch
): Promise<string[]> {
  const dropped: string[] = []
  for (const schema of (await warehouse.schemaNames()).filter(matches(names.schemas, match))) {
    await warehouse.dropSchema(schema)
    dropped.push(`schema ${schema}`)
  }
  if (names.clusters.length === 0) return dropped
  for (const cluster of (await warehouse.clusterNames()).filter(matches(names.clusters, match))) {
    await warehouse.dropCluster(cluster)
    dropped.push(`cluster ${cluster}`)
  }
  return dropped
}

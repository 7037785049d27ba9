// What the action asks Materialize's catalog: existence of production and green objects, and
// a fingerprint of production to detect drift between a staged deploy and its promotion.
import { createHash } from 'node:crypto'
import { literalList, type Sql } from '../warehouse/pg.js'
import type { EnvironmentNames } from '../warehouse/environment.js'
import { green, type DeploymentConfig } from './config.js'

export async function existingNames(sql: Sql, names: EnvironmentNames): Promise<EnvironmentNames> {
  const schemas = await sql.query<{ name: string }>(
    `select s.name from mz_catalog.mz_schemas s join mz_catalog.mz_databases d on d.id = s.database_id
     where d.name = current_database() and s.name in (${literalList(names.schemas)})`
  )
  const clusters = await sql.query<{ name: string }>(
    `select name from mz_catalog.mz_clusters where name in (${literalList(names.clusters)})`
  )
  return {
    schemas: schemas.map((r) => r.name).sort(),
    clusters: clusters.map((r) => r.name).sort()
  }
}

export const productionNames = (config: DeploymentConfig): EnvironmentNames => ({
  schemas: config.schemas,
  clusters: config.clusters
})

export const greenNames = (config: DeploymentConfig): EnvironmentNames => ({
  schemas: config.schemas.map(green),
  clusters: config.clusters.map(green)
})

/** A hash of production's schemas, clusters and objects, by id; it changes when anything is replaced. */
export async function productionFingerprint(sql: Sql, config: DeploymentConfig): Promise<string> {
  const rows = await sql.query<{ kind: string; id: string; name: string }>(
    `select 'schema' as kind, s.id, s.name from mz_catalog.mz_schemas s
       join mz_catalog.mz_databases d on d.id = s.database_id
       where d.name = current_database() and s.name in (${literalList(config.schemas)})
     union all
     select 'object' as kind, o.id, s.name || '.' || o.name as name from mz_catalog.mz_objects o
       join mz_catalog.mz_schemas s on s.id = o.schema_id
       join mz_catalog.mz_databases d on d.id = s.database_id
       where d.name = current_database() and s.name in (${literalList(config.schemas)})
     union all
     select 'cluster' as kind, c.id, c.name from mz_catalog.mz_clusters c where c.name in (${literalList(config.clusters)})`
  )
  const lines = rows.map((r) => `${r.kind} ${r.id} ${r.name}`).sort()
  return createHash('sha256').update(lines.join('\n')).digest('hex')
}

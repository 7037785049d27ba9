// Read-mostly looks at the warehouses the fixture's dbt targets build in, to assert what dbt
// really built: the shared PostgreSQL (target `pg`) and Materialize or its emulator (target
// `mz`). Both speak the PostgreSQL wire protocol; they differ in where the catalog is.
import pg from 'pg'

export interface Warehouse {
  query: <Row extends Record<string, unknown>>(sql: string, params?: unknown[]) => Promise<Row[]>
  /** Runs one statement (Materialize refuses several DDL statements in one message). */
  execute: (sql: string) => Promise<void>
  /** Names of the tables, views and materialized views in a schema, sorted. */
  relationsIn: (schema: string) => Promise<string[]>
  /** Column names of a relation, in order. */
  columnsOf: (schema: string, relation: string) => Promise<string[]>
  /** Schemas whose name starts with `prefix`, sorted. */
  schemasStartingWith: (prefix: string) => Promise<string[]>
  /** Materialize clusters whose name starts with `prefix`, sorted (none on PostgreSQL). */
  clustersStartingWith: (prefix: string) => Promise<string[]>
}

type Connect = () => pg.ClientConfig

export const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`

async function withClient<T>(connect: Connect, work: (client: pg.Client) => Promise<T>) {
  const client = new pg.Client(connect())
  await client.connect()
  try {
    return await work(client)
  } finally {
    await client.end()
  }
}

function queryVia(connect: Connect): Warehouse['query'] {
  return (sql, params = []) =>
    withClient(connect, async (client) => (await client.query<never>(sql, params)).rows)
}

/** Where a warehouse keeps its catalog: queries whose rows have a `name` column. */
interface Catalog {
  /** Relations of the schema `$1`, sorted. */
  relations: string
  /** Columns of the relation `$2` in the schema `$1`, in order. */
  columns: string
  schemas: string
  /** Clusters, where the warehouse has them. */
  clusters?: string
}

function catalogWarehouse(connect: Connect, catalog: Catalog): Warehouse {
  const query = queryVia(connect)
  const namesOf = async (sql: string, params?: unknown[]): Promise<string[]> =>
    (await query<{ name: string }>(sql, params)).map((row) => row.name)
  /** Prefix filtering in JS: LIKE would read the `_` in `pr_101` as a wildcard. */
  const startingWith = async (prefix: string, sql: string): Promise<string[]> =>
    (await namesOf(sql)).filter((name) => name.startsWith(prefix)).sort()
  return {
    query,
    execute: async (sql) => void (await query(sql)),
    relationsIn: (schema) => namesOf(catalog.relations, [schema]),
    columnsOf: (schema, relation) => namesOf(catalog.columns, [schema, relation]),
    schemasStartingWith: (prefix) => startingWith(prefix, catalog.schemas),
    clustersStartingWith: async (prefix) =>
      catalog.clusters === undefined ? [] : startingWith(prefix, catalog.clusters)
  }
}

const postgresWarehouse = (connect: Connect): Warehouse =>
  catalogWarehouse(connect, {
    relations: `select table_name as name from information_schema.tables
                 where table_schema = $1 order by 1`,
    columns: `select column_name as name from information_schema.columns
               where table_schema = $1 and table_name = $2 order by ordinal_position`,
    schemas: 'select nspname as name from pg_namespace'
  })

// Materialize's information_schema leaves out materialized views on the emulator (they are
// PostgreSQL materialized views there), so these read mz_catalog, which both answer alike.
const MZ_SCHEMAS = `select s.id, s.name from mz_catalog.mz_schemas s
  join mz_catalog.mz_databases d on d.id = s.database_id
 where d.name = current_database()`

const materializeWarehouse = (connect: Connect): Warehouse =>
  catalogWarehouse(connect, {
    relations: `select r.name from mz_catalog.mz_relations r join (${MZ_SCHEMAS}) s on s.id = r.schema_id
                 where s.name = $1 order by 1`,
    columns: `select c.name from mz_catalog.mz_columns c
                join mz_catalog.mz_relations r on r.id = c.id
                join (${MZ_SCHEMAS}) s on s.id = r.schema_id
               where s.name = $1 and r.name = $2 order by c.position`,
    schemas: MZ_SCHEMAS,
    clusters: 'select name from mz_catalog.mz_clusters'
  })

function requiredEnv(name: string): string {
  const value = process.env[name]
  if (value === undefined) throw new Error(`${name} is not set: is the e2e global setup running?`)
  return value
}

/** The e2e PostgreSQL, database `postgres` (where the `pg` target builds). */
export const postgres = postgresWarehouse(() => ({
  host: requiredEnv('E2E_PG_HOST'),
  port: Number(requiredEnv('E2E_PG_PORT')),
  user: requiredEnv('E2E_PG_USER'),
  password: requiredEnv('E2E_PG_PASSWORD'),
  database: 'postgres'
}))

/** The emulator or the real Materialize global-setup chose (where the `mz` target builds). */
export const materialize = materializeWarehouse(() => ({
  host: requiredEnv('E2E_MZ_HOST'),
  port: Number(requiredEnv('E2E_MZ_PORT')),
  user: requiredEnv('E2E_MZ_USER'),
  password: process.env.E2E_MZ_PASSWORD || undefined,
  database: requiredEnv('E2E_MZ_DATABASE')
}))

// Read-only looks at the shared PostgreSQL server, to assert what dbt really built.
import pg from 'pg'

async function withClient<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({
    host: process.env.E2E_PG_HOST,
    port: Number(process.env.E2E_PG_PORT),
    user: process.env.E2E_PG_USER ?? 'postgres',
    password: process.env.E2E_PG_PASSWORD,
    database: 'postgres'
  })
  await client.connect()
  try {
    return await work(client)
  } finally {
    await client.end()
  }
}

export async function query<Row extends Record<string, unknown>>(
  sql: string,
  params: unknown[] = []
): Promise<Row[]> {
  return withClient(async (client) => (await client.query<Row>(sql, params)).rows)
}

/** Names of the tables and views in a schema, sorted. */
export async function relationsIn(schema: string): Promise<string[]> {
  const rows = await query<{ name: string }>(
    `select table_name as name from information_schema.tables where table_schema = $1 order by 1`,
    [schema]
  )
  return rows.map((row) => row.name)
}

/** Schemas whose name starts with `prefix`, sorted. */
export async function schemasStartingWith(prefix: string): Promise<string[]> {
  const rows = await query<{ name: string }>(
    `select nspname as name from pg_namespace where starts_with(nspname, $1) order by 1`,
    [prefix]
  )
  return rows.map((row) => row.name)
}

export async function columnsOf(schema: string, table: string): Promise<string[]> {
  const rows = await query<{ name: string }>(
    `select column_name as name from information_schema.columns
      where table_schema = $1 and table_name = $2 order by ordinal_position`,
    [schema, table]
  )
  return rows.map((row) => row.name)
}

export async function execute(sql: string): Promise<void> {
  await withClient(async (client) => {
    await client.query(sql)
  })
}

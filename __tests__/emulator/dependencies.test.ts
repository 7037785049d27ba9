// mz_internal.mz_object_dependencies and mz_subscriptions as upstream defines them, and the
// action's dependents walk (src/bluegreen/impact.ts) reading them: objects outside a deployment
// that read its objects, across schemas and clusters, by the ids of mz_objects.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import pg from 'pg'
import { startEmulator, type Emulator } from '../../dev/emulator/index.js'
import { surveyImpact } from '../../src/bluegreen/impact.js'
import type { Sql } from '../../src/warehouse/pg.js'

jest.setTimeout(900_000) // a bound for hung tests only: PostgreSQL starts slowly on a loaded machine

let emulator: Emulator
let client: pg.Client
const sql: Sql = {
  query: async <R extends pg.QueryResultRow>(text: string) => (await client.query<R>(text)).rows
}

beforeAll(async () => {
  emulator = await startEmulator()
  client = new pg.Client({ connectionString: emulator.url() })
  await client.connect()
  // One statement per message: Materialize runs DDL only outside a transaction block.
  for (const statement of [
    `CREATE CLUSTER analytics (SIZE = '25cc')`,
    `CREATE CLUSTER serving (SIZE = '25cc')`,
    'CREATE SCHEMA prod',
    'CREATE SCHEMA reporting',
    'CREATE TABLE public.orders (id int, amount int)',
    'CREATE MATERIALIZED VIEW prod.totals IN CLUSTER analytics AS SELECT sum(amount) AS total FROM public.orders',
    'CREATE DEFAULT INDEX IN CLUSTER serving ON prod.totals',
    'CREATE VIEW reporting.big AS SELECT total FROM prod.totals WHERE total > 10',
    'CREATE VIEW reporting.bigger AS SELECT total FROM reporting.big WHERE total > 100'
  ])
    await client.query(statement)
})

afterAll(async () => {
  await client?.end()
  await emulator?.stop()
})

describe('mz_internal.mz_object_dependencies', () => {
  it('lists direct references of views, materialized views and indexes by mz_objects ids', async () => {
    const { rows } = await client.query<{ object: string; referenced: string }>(`
      SELECT os.name || '.' || o.name AS object, rs.name || '.' || r.name AS referenced
      FROM mz_internal.mz_object_dependencies d
      JOIN mz_catalog.mz_objects o ON o.id = d.object_id
      JOIN mz_catalog.mz_schemas os ON os.id = o.schema_id
      JOIN mz_catalog.mz_objects r ON r.id = d.referenced_object_id
      JOIN mz_catalog.mz_schemas rs ON rs.id = r.schema_id
      WHERE o.id LIKE 'u%'
      ORDER BY 1, 2`)
    expect(rows).toEqual([
      { object: 'prod.totals', referenced: 'public.orders' },
      { object: 'prod.totals_primary_idx', referenced: 'prod.totals' },
      { object: 'reporting.big', referenced: 'prod.totals' },
      { object: 'reporting.bigger', referenced: 'reporting.big' }
    ])
  })
})

describe('mz_internal.mz_subscriptions', () => {
  it("has upstream's columns and no rows (SUBSCRIBE is not emulated)", async () => {
    const result = await client.query('SELECT * FROM mz_internal.mz_subscriptions')
    expect(result.fields.map((f) => f.name)).toEqual([
      'id',
      'session_id',
      'cluster_id',
      'created_at',
      'referenced_object_ids'
    ])
    expect(result.rows).toEqual([])
  })
})

describe("the action's dependents walk on the emulator", () => {
  it('finds a view in another schema on a production materialized view, recursively, and an index on another cluster', async () => {
    const config = { target: 'prod', schemas: ['prod'], clusters: ['analytics'] }
    const impact = await surveyImpact(sql, config, 'production')
    const found = impact.dependents.map((d) => [`${d.schema}.${d.name}`, d.cluster, d.reason])
    expect(found.sort()).toEqual([
      ['prod.totals_primary_idx', 'serving', 'in schema prod, on cluster serving'],
      ['reporting.big', null, 'reads materialize.prod.totals'],
      ['reporting.bigger', null, 'reads materialize.reporting.big']
    ])
    expect(impact.subscriptions).toBe(0)
    expect(impact.sourcesAndTables).toEqual([])
  })
})

// Connections, load-generator sources, tables from sources and sinks on the emulator: their
// catalog rows with upstream's columns, what mz_object_dependencies says each reads (and
// ALTER SINK … SET FROM changing it), and DROP … CASCADE taking exactly what Materialize takes,
// across schemas and clusters (issue 10, "Tests must show" 3).
import { afterAll, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals'
import pg from 'pg'
import { startEmulator, type Emulator } from '../../dev/emulator/index.js'
import { splitStatements } from '../../dev/emulator/lexer.js'
import { surveyImpact } from '../../src/bluegreen/impact.js'
import type { Sql } from '../../src/warehouse/pg.js'

jest.setTimeout(900_000) // a bound for hung tests only: PostgreSQL starts slowly on a loaded machine

let emulator: Emulator
let client: pg.Client
const sql: Sql = {
  query: async <R extends pg.QueryResultRow>(text: string) => (await client.query<R>(text)).rows
}

/** Runs a script one statement per message: Materialize runs DDL only alone. */
async function exec(script: string): Promise<void> {
  for (const statement of splitStatements(script)) await client.query(statement)
}

async function sqlError(text: string): Promise<{ code?: string; message: string }> {
  try {
    await client.query(text)
  } catch (error) {
    return error as { code?: string; message: string }
  }
  throw new Error(`expected an error from: ${text}`)
}

/** `schema.name` of every user object, with its type. */
async function objects(): Promise<Record<string, string>> {
  const rows = await sql.query<{ key: string; type: string }>(`
    SELECT s.name || '.' || o.name AS key, o.type FROM mz_catalog.mz_objects o
    JOIN mz_catalog.mz_schemas s ON s.id = o.schema_id WHERE o.id LIKE 'u%'`)
  return Object.fromEntries(rows.map((r) => [r.key, r.type]))
}

/** What each user object reads, as `schema.name` pairs from mz_object_dependencies. */
async function dependencies(): Promise<string[]> {
  const rows = await sql.query<{ edge: string }>(`
    SELECT os.name || '.' || o.name || ' -> ' || rs.name || '.' || r.name AS edge
    FROM mz_internal.mz_object_dependencies d
    JOIN mz_catalog.mz_objects o ON o.id = d.object_id
    JOIN mz_catalog.mz_schemas os ON os.id = o.schema_id
    JOIN mz_catalog.mz_objects r ON r.id = d.referenced_object_id
    JOIN mz_catalog.mz_schemas rs ON rs.id = r.schema_id
    WHERE o.id LIKE 'u%' ORDER BY 1`)
  return rows.map((r) => r.edge)
}

beforeAll(async () => {
  emulator = await startEmulator()
  client = new pg.Client({ connectionString: emulator.url() })
  await client.connect()
})

afterAll(async () => {
  await client?.end()
  await emulator?.stop()
})

/** A fresh world per test: an ingest cluster with a source, production, a sink and a report. */
beforeEach(async () => {
  await exec(`
    DROP SCHEMA IF EXISTS raw, prod, sinks, reporting CASCADE;
    DROP CLUSTER IF EXISTS ingest, analytics, serving, sinks CASCADE;
    DROP CONNECTION IF EXISTS public.kafka_conn CASCADE;
    CREATE CLUSTER ingest (SIZE = '25cc');
    CREATE CLUSTER analytics (SIZE = '25cc');
    CREATE CLUSTER serving (SIZE = '25cc');
    CREATE CLUSTER sinks (SIZE = '25cc');
    CREATE SCHEMA raw; CREATE SCHEMA prod; CREATE SCHEMA sinks; CREATE SCHEMA reporting;
    CREATE CONNECTION public.kafka_conn TO KAFKA (BROKER 'localhost:9092') WITH (VALIDATE = false);
    CREATE SOURCE raw.counter IN CLUSTER ingest FROM LOAD GENERATOR COUNTER;
    CREATE TABLE raw.counts FROM SOURCE raw.counter;
    CREATE MATERIALIZED VIEW prod.totals IN CLUSTER analytics AS SELECT sum(counter) AS total FROM raw.counts;
    CREATE MATERIALIZED VIEW prod.totals_v2 IN CLUSTER analytics AS SELECT sum(counter) * 2 AS total FROM raw.counts;
    CREATE VIEW prod.totals_view AS SELECT total FROM prod.totals;
    CREATE SINK sinks.totals_sink IN CLUSTER sinks FROM prod.totals
      INTO KAFKA CONNECTION public.kafka_conn (TOPIC 'totals') FORMAT JSON ENVELOPE DEBEZIUM;
    CREATE VIEW reporting.big AS SELECT total FROM prod.totals WHERE total > 1;`)
})

describe('catalog rows', () => {
  it('lists sources, tables, sinks and connections with their types, in mz_objects and mz_relations', async () => {
    expect(await objects()).toEqual({
      'public.kafka_conn': 'connection',
      'raw.counter': 'source',
      'raw.counts': 'table',
      'prod.totals': 'materialized-view',
      'prod.totals_v2': 'materialized-view',
      'prod.totals_view': 'view',
      'sinks.totals_sink': 'sink',
      'reporting.big': 'view'
    })
    const relations = await sql.query<{ name: string }>(
      `SELECT name FROM mz_catalog.mz_relations WHERE id LIKE 'u%' ORDER BY name`
    )
    // Sinks and connections are not relations.
    expect(relations.map((r) => r.name)).toEqual([
      'big',
      'counter',
      'counts',
      'totals',
      'totals_v2',
      'totals_view'
    ])
    const [counter] = await sql.query('SELECT counter FROM raw.counts ORDER BY counter LIMIT 1')
    expect(counter).toEqual({ counter: '1' })
  })

  it('fills the rows: the source on its cluster, the table from it, the sink with its connection and cluster', async () => {
    const [source] = await sql.query(`
      SELECT s.type, c.name AS cluster FROM mz_catalog.mz_sources s
      JOIN mz_catalog.mz_clusters c ON c.id = s.cluster_id WHERE s.name = 'counter'`)
    expect(source).toEqual({ type: 'load-generator', cluster: 'ingest' })
    const [table] = await sql.query(`
      SELECT src.name AS source FROM mz_catalog.mz_tables t
      JOIN mz_catalog.mz_sources src ON src.id = t.source_id WHERE t.name = 'counts'`)
    expect(table).toEqual({ source: 'counter' })
    const [sink] = await sql.query(`
      SELECT k.type, k.envelope_type, k.value_format, c.name AS cluster, conn.name AS connection,
             t.topic, k.create_sql
      FROM mz_catalog.mz_sinks k
      JOIN mz_catalog.mz_clusters c ON c.id = k.cluster_id
      JOIN mz_catalog.mz_connections conn ON conn.id = k.connection_id
      JOIN mz_catalog.mz_kafka_sinks t ON t.id = k.id
      WHERE k.name = 'totals_sink'`)
    expect(sink).toMatchObject({
      type: 'kafka',
      envelope_type: 'debezium',
      value_format: 'json',
      cluster: 'sinks',
      connection: 'kafka_conn',
      topic: 'totals'
    })
    expect((sink as { create_sql: string }).create_sql).toMatch(/ FROM materialize\.prod\.totals /)
  })

  it('creates AUCTION subsources with FOR ALL TABLES, each reading the source', async () => {
    await client.query(
      'CREATE SOURCE raw.auction IN CLUSTER ingest FROM LOAD GENERATOR AUCTION FOR ALL TABLES'
    )
    const subsources = await sql.query<{ name: string }>(
      `SELECT name FROM mz_catalog.mz_sources WHERE type = 'subsource' ORDER BY name`
    )
    expect(subsources.map((s) => s.name)).toEqual([
      'accounts',
      'auctions',
      'bids',
      'organizations',
      'users'
    ])
    expect(await dependencies()).toContain('raw.bids -> raw.auction')
    expect((await sql.query('SELECT amount FROM raw.bids')).length).toBeGreaterThan(0)
  })
})

describe('mz_object_dependencies and ALTER SINK … SET FROM', () => {
  it('records what a sink, a table from a source and a view read', async () => {
    expect(await dependencies()).toEqual([
      'prod.totals -> raw.counts',
      'prod.totals_v2 -> raw.counts',
      'prod.totals_view -> prod.totals',
      'raw.counts -> raw.counter',
      'reporting.big -> prod.totals',
      'sinks.totals_sink -> prod.totals',
      'sinks.totals_sink -> public.kafka_conn'
    ])
  })

  it('moves the sink to the new relation, and refuses one a sink cannot read', async () => {
    await client.query('ALTER SINK sinks.totals_sink SET FROM prod.totals_v2')
    const sinkEdges = (await dependencies()).filter((e) => e.startsWith('sinks.'))
    expect(sinkEdges).toEqual([
      'sinks.totals_sink -> prod.totals_v2',
      'sinks.totals_sink -> public.kafka_conn'
    ])
    const refused = await sqlError('ALTER SINK sinks.totals_sink SET FROM prod.totals_view')
    expect(refused.message).toBe(
      'materialize.prod.totals_view is a view, which cannot be exported as a sink'
    )
    const notASink = await sqlError('ALTER SINK prod.totals SET FROM prod.totals_v2')
    expect(notASink.message).toBe('"materialize.prod.totals" is a materialized-view not a sink')
  })
})

describe('DROP … CASCADE drops what Materialize drops', () => {
  it('DROP SCHEMA … CASCADE takes the view and the sink in other schemas that read it', async () => {
    await client.query('DROP SCHEMA prod CASCADE')
    const left = await objects()
    expect(left).not.toHaveProperty(['reporting.big'])
    expect(left).not.toHaveProperty(['sinks.totals_sink'])
    // What prod read is untouched.
    expect(left).toMatchObject({ 'raw.counter': 'source', 'raw.counts': 'table' })
    const gone = await sqlError('SELECT * FROM reporting.big')
    expect(gone.code).toBe('42P01')
  })

  it('without CASCADE, refuses to drop what others read, naming a dependent', async () => {
    const source = await sqlError('DROP SOURCE raw.counter')
    expect(source).toMatchObject({
      code: '2BP01',
      message:
        "cannot drop materialize.raw.counter: still depended upon by catalog item 'materialize.raw.counts'"
    })
    const connection = await sqlError('DROP CONNECTION public.kafka_conn')
    expect(connection.message).toMatch(
      /still depended upon by catalog item 'materialize\.sinks\.totals_sink'/
    )
    await client.query('DROP SINK sinks.totals_sink')
    await client.query('DROP CONNECTION public.kafka_conn')
    expect(await objects()).not.toHaveProperty(['public.kafka_conn'])
  })

  it('DROP CLUSTER … CASCADE drops the source on it, another schema’s index on it, and everything reading them', async () => {
    await exec(`
      CREATE DEFAULT INDEX IN CLUSTER serving ON raw.counter;
      CREATE VIEW reporting.raw_counts AS SELECT counter FROM raw.counter;
      CREATE DEFAULT INDEX IN CLUSTER ingest ON prod.totals_view;`)
    await client.query('DROP CLUSTER ingest CASCADE')
    const left = await objects()
    // The source and, through it, its table, the materialized views, views and sink reading them.
    for (const gone of [
      'raw.counter',
      'raw.counts',
      'raw.counter_primary_idx',
      'prod.totals',
      'prod.totals_view',
      'prod.totals_view_primary_idx',
      'reporting.big',
      'reporting.raw_counts',
      'sinks.totals_sink'
    ])
      expect(left).not.toHaveProperty([gone])
    expect(left).toEqual({ 'public.kafka_conn': 'connection' })
    const clusters = await sql.query<{ name: string }>(
      `SELECT name FROM mz_catalog.mz_clusters WHERE name = 'ingest'`
    )
    expect(clusters).toEqual([])
  })

  it('DROP CLUSTER … CASCADE of a sink cluster drops only the sink', async () => {
    await client.query('DROP CLUSTER sinks CASCADE')
    const left = await objects()
    expect(left).not.toHaveProperty(['sinks.totals_sink'])
    expect(left).toMatchObject({ 'prod.totals': 'materialized-view', 'reporting.big': 'view' })
  })
})

describe("the action's impact guard", () => {
  it('finds a sink reading the side about to be dropped, as a dependent outside the deployment', async () => {
    const config = { target: 'prod', schemas: ['prod'], clusters: ['analytics'] }
    const impact = await surveyImpact(sql, config, 'production')
    const found = impact.dependents.map((d) => [`${d.schema}.${d.name}`, d.type, d.reason])
    expect(found.sort()).toEqual([
      ['reporting.big', 'view', 'reads materialize.prod.totals'],
      ['sinks.totals_sink', 'sink', 'reads materialize.prod.totals']
    ])
  })
})

// The real dbt-materialize drives a blue/green deployment of a project with a load-generator
// source, a table from it, a sink in its own schema and cluster, and a view in a foreign schema
// that reads a production model (issue 10, "Tests must show" 1): deploy_init's sink guard,
// deploy_promote's ALTER SINK … SET FROM and deploy_cleanup's DROP … CASCADE run for real.
// The tests run in order and share one emulator and project copy.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import { startEmulator, type Emulator } from '../../dev/emulator/index.js'
import { copyFixtureProject, type DbtProject, type DbtResult } from './support/dbt.js'

jest.setTimeout(900_000) // a bound for hung tests only: runs take minutes on a loaded machine

const SINK = 'prod_sinks.counter_totals_sink'
const FOREIGN_VIEW = 'reporting.big_totals'

let emulator: Emulator
let project: DbtProject

async function dbt(...args: string[]): Promise<DbtResult> {
  const result = await project.run(args)
  if (result.code !== 0)
    throw new Error(`dbt ${args[0]} failed (${result.code}):\n${result.output}`)
  return result
}

const query = <R extends Record<string, unknown>>(sql: string): Promise<R[]> =>
  emulator.control.query<R>(sql)

/** `schema.name` → id of every user object. */
async function ids(): Promise<Record<string, string>> {
  const rows = await query<{ key: string; id: string }>(`
    SELECT s.name || '.' || o.name AS key, o.id FROM mz_catalog.mz_objects o
    JOIN mz_catalog.mz_schemas s ON s.id = o.schema_id WHERE o.id LIKE 'u%'`)
  return Object.fromEntries(rows.map((r) => [r.key, r.id]))
}

/** The ids `schema.name` reads, from mz_object_dependencies. */
async function reads(key: string): Promise<string[]> {
  const id = (await ids())[key]
  if (id === undefined) throw new Error(`${key} does not exist`)
  const rows = await query<{ id: string }>(`
    SELECT d.referenced_object_id AS id FROM mz_internal.mz_object_dependencies d
    JOIN mz_catalog.mz_objects o ON o.id = d.referenced_object_id
    WHERE d.object_id = '${id}' AND o.type <> 'connection'`)
  return rows.map((r) => r.id)
}

beforeAll(async () => {
  emulator = await startEmulator()
  project = copyFixtureProject(emulator, { fixture: 'sinks-project' })
  for (const cluster of ['analytics', 'ingest', 'sinks'])
    await query(`SELECT mz_emulator.create_cluster('${cluster}', true, '25cc', 1, NULL, NULL)`)
  await query(
    `SELECT mz_emulator.create_connection('public.kafka_connection', 'kafka', ARRAY['localhost:9092'], false, 'CREATE CONNECTION kafka_connection TO KAFKA (BROKER ''localhost:9092'')')`
  )
})

afterAll(async () => {
  project?.remove()
  await emulator?.stop()
})

describe('blue/green with a source, a table from it and a sink, on the emulator', () => {
  let before: Record<string, string>

  it('1. dbt run builds the source, the table, production and the sink reading it', async () => {
    await dbt('run')
    const [source] = await query(`
      SELECT s.type, c.name AS cluster FROM mz_catalog.mz_sources s
      JOIN mz_catalog.mz_clusters c ON c.id = s.cluster_id WHERE s.name = 'counter'`)
    expect(source).toEqual({ type: 'load-generator', cluster: 'ingest' })
    const [table] = await query(`
      SELECT src.name AS source FROM mz_catalog.mz_tables t
      JOIN mz_catalog.mz_sources src ON src.id = t.source_id WHERE t.name = 'counts'`)
    expect(table).toEqual({ source: 'counter' })
    const [sink] = await query(`
      SELECT c.name AS cluster FROM mz_catalog.mz_sinks k
      JOIN mz_catalog.mz_clusters c ON c.id = k.cluster_id WHERE k.name = 'counter_totals_sink'`)
    expect(sink).toEqual({ cluster: 'sinks' })
    before = await ids()
    expect(await reads(SINK)).toEqual([before['prod.counter_totals']])
    // A view outside the deployment, on a production model.
    await query(
      `CREATE SCHEMA reporting; CREATE VIEW ${FOREIGN_VIEW} AS SELECT total FROM prod.counter_totals`
    )
  })

  it("2. deploy_init refuses a production schema that holds a sink (dbt-materialize's guard)", async () => {
    await query(
      `SELECT mz_emulator.create_sink('prod.stray_sink', 'sinks', 'prod.counter_totals', 'public.kafka_connection', NULL, 'stray', '{}', NULL, 'json', 'debezium', false, '(TOPIC ''stray'') FORMAT JSON ENVELOPE DEBEZIUM')`
    )
    const refused = await project.run(['run-operation', 'deploy_init'])
    await query('DROP TABLE prod.stray_sink')
    expect(refused.code).not.toBe(0)
    expect(refused.output).toMatch(
      /Blue\/green deployments require sinks to be in a dedicated schema/
    )
  })

  it('3. deploy_init, then dbt run --vars deploy without sources, source tables and sinks, then deploy_await', async () => {
    await dbt('run-operation', 'deploy_init')
    await dbt(
      'run',
      '--vars',
      'deploy: True',
      '--exclude',
      'config.materialized:source',
      'config.materialized:source_table',
      'config.materialized:sink'
    )
    const awaited = await dbt('run-operation', 'deploy_await', '--args', '{poll_interval: 1}')
    expect(awaited.output).toMatch(/analytics_dbt_deploy: ready/)
    const green = await ids()
    expect(green['prod_dbt_deploy.counter_totals']).toBeDefined()
    // Green reads the production table: nothing of the ingest side was rebuilt.
    expect(await reads('prod_dbt_deploy.counter_totals')).toEqual([before['prod_raw.counts']])
  })

  it('4. deploy_promote swaps, then repoints the sink to the new production object', async () => {
    const green = await ids()
    const promoted = await dbt('run-operation', 'deploy_promote')
    expect(promoted.output).toContain(
      `ALTER SINK "materialize"."prod_sinks"."counter_totals_sink" SET FROM "materialize"."prod"."counter_totals"`
    )
    const after = await ids()
    // The new production object is green's (ids survive the swap), and the sink reads it.
    expect(after['prod.counter_totals']).toBe(green['prod_dbt_deploy.counter_totals'])
    expect(await reads(SINK)).toEqual([after['prod.counter_totals']])
    // The foreign view still reads the old object by id, now named prod_dbt_deploy.counter_totals.
    expect(after['prod_dbt_deploy.counter_totals']).toBe(before['prod.counter_totals'])
    expect(await reads(FOREIGN_VIEW)).toEqual([before['prod.counter_totals']])
  })

  it("5. deploy_cleanup's DROP SCHEMA … CASCADE takes the foreign view along, and leaves the repointed sink", async () => {
    await dbt('run-operation', 'deploy_cleanup')
    const after = await ids()
    // Materialize drops dependents in other schemas with the schema: the view is gone.
    expect(after[FOREIGN_VIEW]).toBeUndefined()
    expect(await query(`SELECT to_regclass('${FOREIGN_VIEW}') AS view`)).toEqual([{ view: null }])
    // The sink, the source and its table are untouched.
    expect(after[SINK]).toBe(before[SINK])
    expect(after['prod_raw.counter']).toBe(before['prod_raw.counter'])
    expect(after['prod_raw.counts']).toBe(before['prod_raw.counts'])
    expect(await reads(SINK)).toEqual([after['prod.counter_totals']])
    expect(Object.keys(after).filter((key) => key.includes('_dbt_deploy'))).toEqual([])
  })
})

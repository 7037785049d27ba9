// Sinks through a blue/green cutover (issue 9, "Tests must show" 3), in order on one emulator,
// workspace and bucket: a sink model reading a production materialized view is in the plan,
// deploy_promote repoints it and the action verifies it reads the new production object; a
// sink nobody repoints keeps reading the previous production, whose drop the guard refuses;
// an ALTER SINK that Materialize refuses after the swap leaves the previous production in place.
import { expect, it, jest } from '@jest/globals'
import { describeEmulatorOnly } from './support/backends.js'
import {
  GREEN_SCHEMA,
  PROD_SCHEMA,
  errorText,
  expectOutputs,
  greenLeftovers,
  objectsIn,
  placement,
  releaseIn,
  releaseModel,
  sql,
  sqlScript,
  useBlueGreenSuite
} from './support/bluegreen.js'
import type { ActionRun } from './support/runner.js'
import { expectExit } from './support/slim.js'

jest.setTimeout(900_000) // a bound for hung tests only: runs take minutes on a loaded machine

const SINK_SCHEMA = `${PROD_SCHEMA}_sinks`
const SINK = `materialize.${SINK_SCHEMA}.order_totals_sink`
const ADHOC_SINK = 'materialize.exports.adhoc_sink'
const REPOINT = `ALTER SINK "materialize"."${SINK_SCHEMA}"."order_totals_sink" SET FROM "materialize"."${PROD_SCHEMA}"."order_totals"`

/** The sink model, in its own schema and cluster, as dbt-materialize's blue/green requires. */
const SINK_MODEL = {
  'models/sinks/order_totals_sink.sql': `{{ config(materialized='sink', schema='sinks', cluster='sinks') }}

FROM {{ ref('order_totals') }}
INTO KAFKA CONNECTION public.kafka_conn (TOPIC 'order-totals')
FORMAT JSON
ENVELOPE DEBEZIUM
`
}

interface Plan {
  sinks: Array<{ sink: string; from: string; statement: string }>
  previous: { action: string; blockedBy: string[] }
  dependents: Array<{ name: string; type: string; cluster: string | null; reason: string }>
}

const planOf = (run: ActionRun): Plan => JSON.parse(run.outputs.plan ?? 'null') as Plan

describeEmulatorOnly(
  'a sink needs a reachable Kafka broker, which the real-Materialize job does not run'
)('sinks through a blue/green cutover on the Materialize emulator', () => {
  const suite = useBlueGreenSuite('bg-sinks')
  const { run } = suite

  /** The ids the sink `schema.name` reads now (its connection aside). */
  async function sinkReads(schema: string, name: string): Promise<string[]> {
    const rows = await sql<{ id: string }>(
      suite.emulator,
      `SELECT d.referenced_object_id AS id FROM mz_internal.mz_object_dependencies d
         JOIN mz_catalog.mz_sinks k ON k.id = d.object_id
         JOIN mz_catalog.mz_schemas s ON s.id = k.schema_id
         JOIN mz_catalog.mz_objects r ON r.id = d.referenced_object_id
        WHERE s.name = '${schema}' AND k.name = '${name}' AND r.type <> 'connection'`
    )
    return rows.map((r) => r.id)
  }

  const orderTotalsIn = async (schema: string): Promise<string | undefined> =>
    objectsIn(await placement(suite.emulator), schema).order_totals?.id

  it('3. a sink model on production is in the plan, repointed by deploy_promote and verified after the swap', async () => {
    const emulator = suite.emulator
    // Production as dbt built it: the sink reads production's materialized view.
    await sqlScript(
      emulator,
      `CREATE CLUSTER sinks (SIZE = '25cc');
       CREATE CONNECTION public.kafka_conn TO KAFKA (BROKER 'localhost:9092') WITH (VALIDATE = false);
       CREATE SCHEMA ${SINK_SCHEMA};
       CREATE SINK ${SINK_SCHEMA}.order_totals_sink IN CLUSTER sinks FROM ${PROD_SCHEMA}.order_totals
         INTO KAFKA CONNECTION public.kafka_conn (TOPIC 'order-totals') FORMAT JSON ENVELOPE DEBEZIUM`
    )
    const previous = await orderTotalsIn(PROD_SCHEMA)
    expect(await sinkReads(SINK_SCHEMA, 'order_totals_sink')).toEqual([previous])
    suite.ws.commit('Release v2 with its sink model', { ...releaseModel('v2'), ...SINK_MODEL })

    const result = await run({ 'run-tests': 'false' })

    expectExit(result, 0)
    expectOutputs(result, { status: 'promoted', promoted: 'true' })
    // The plan: the ALTER SINK, and the sink as a dependent that deploy_promote repoints.
    const plan = planOf(result)
    expect(plan.sinks).toEqual([
      {
        sink: `"materialize"."${SINK_SCHEMA}"."order_totals_sink"`,
        from: `"materialize"."${PROD_SCHEMA}"."order_totals"`,
        statement: REPOINT
      }
    ])
    expect(plan.dependents).toContainEqual({
      name: SINK,
      type: 'sink',
      cluster: 'sinks',
      reason: `reads materialize.${PROD_SCHEMA}.order_totals; deploy_promote repoints it`
    })
    expect(result.summary).toContain(`${REPOINT};`)
    expect(result.stdout).toContain(
      `each sink reads its new production object ("materialize"."${SINK_SCHEMA}"."order_totals_sink" from "materialize"."${PROD_SCHEMA}"."order_totals")`
    )
    // The sink reads the new production object (green's, by id), and the previous one is gone.
    const current = await orderTotalsIn(PROD_SCHEMA)
    expect(current).not.toBe(previous)
    expect(await sinkReads(SINK_SCHEMA, 'order_totals_sink')).toEqual([current])
    expect(await releaseIn(emulator, PROD_SCHEMA)).toBe('v2')
    expect(plan.previous).toMatchObject({ action: 'drop', blockedBy: [] })
    expect(await greenLeftovers(emulator)).toEqual([])
  })

  it('a sink nobody repoints keeps reading the previous production, and the guard refuses to drop it', async () => {
    const emulator = suite.emulator
    await sqlScript(
      emulator,
      `CREATE SCHEMA exports;
       CREATE SINK exports.adhoc_sink IN CLUSTER sinks FROM ${PROD_SCHEMA}.order_totals
         INTO KAFKA CONNECTION public.kafka_conn (TOPIC 'adhoc') FORMAT JSON ENVELOPE DEBEZIUM`
    )
    const previous = await orderTotalsIn(PROD_SCHEMA)
    suite.ws.commit('Release v3', releaseModel('v3'))

    const result = await run({ 'run-tests': 'false' })

    expectExit(result, 1)
    expectOutputs(result, { status: 'failed', promoted: 'true' })
    const error = errorText(result)
    expect(error).toContain(ADHOC_SINK)
    expect(error).toContain('The previous production is kept')
    expect(error).toContain(`"allow-dependents: ${ADHOC_SINK}"`)
    const plan = planOf(result)
    expect(plan.previous).toMatchObject({ action: 'keep', blockedBy: [ADHOC_SINK] })
    expect(plan.dependents).toContainEqual({
      name: ADHOC_SINK,
      type: 'sink',
      cluster: 'sinks',
      reason: `reads materialize.${PROD_SCHEMA}.order_totals`
    })
    // The model sink moved to the new production; the ad hoc one still reads the previous
    // production, kept under the green name, so it still exists.
    expect(await releaseIn(emulator, PROD_SCHEMA)).toBe('v3')
    expect(await orderTotalsIn(GREEN_SCHEMA)).toBe(previous)
    expect(await sinkReads('exports', 'adhoc_sink')).toEqual([previous])
    expect(await sinkReads(SINK_SCHEMA, 'order_totals_sink')).toEqual([
      await orderTotalsIn(PROD_SCHEMA)
    ])
  })

  it('an ALTER SINK refused after the swap (a KEY column gone) fails the run and keeps the previous production the sink reads', async () => {
    const emulator = suite.emulator
    // The ad hoc sink goes, so this deploy may drop the previous production kept before; the
    // model sink is keyed on a column the new release renames.
    await sqlScript(
      emulator,
      `DROP SINK exports.adhoc_sink;
       DROP SINK ${SINK_SCHEMA}.order_totals_sink;
       CREATE SINK ${SINK_SCHEMA}.order_totals_sink IN CLUSTER sinks FROM ${PROD_SCHEMA}.order_totals
         INTO KAFKA CONNECTION public.kafka_conn (TOPIC 'order-totals') KEY (customer_id) NOT ENFORCED
         FORMAT JSON ENVELOPE UPSERT`
    )
    const previous = await orderTotalsIn(PROD_SCHEMA)
    suite.ws.commit('Release v4 renames customer_id', {
      ...releaseModel('v4'),
      'models/order_totals.sql': `{{ config(materialized='materialized_view') }}

select customer_id as customer, count(*) as order_count, sum(amount) as total_amount
from {{ ref('stg_orders') }}
group by customer_id
`
    })

    const result = await run({ 'run-tests': 'false' })

    expectExit(result, 1)
    expectOutputs(result, { status: 'failed', promoted: 'true' })
    const error = errorText(result)
    expect(error).toMatch(/deploy_promote failed after the swap\. The swap committed/)
    expect(error).toContain('column "customer_id" does not exist')
    expect(planOf(result).sinks.map((s) => s.statement)).toEqual([REPOINT])
    // The new release is live; the previous one is intact under the green name, and the sink
    // still reads it there (dropping it would have dropped the sink).
    expect(await releaseIn(emulator, PROD_SCHEMA)).toBe('v4')
    expect(await releaseIn(emulator, GREEN_SCHEMA)).toBe('v3')
    expect(await orderTotalsIn(GREEN_SCHEMA)).toBe(previous)
    expect(await sinkReads(SINK_SCHEMA, 'order_totals_sink')).toEqual([previous])
  })
})

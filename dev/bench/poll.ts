// P7: what one readiness poll costs with `objects` materialized views and indexes on the
// cluster, the action's (src/bluegreen/readiness.ts) against deploy_await's are_clusters_ready,
// timed alternately on the same emulator. Wall time only: a poll's CPU is spent in the server.
import type pg from 'pg'
import { checkReadiness } from '../../src/bluegreen/readiness.js'
import type { Sql } from '../../src/warehouse/pg.js'
import { areClustersReadySql } from '../dbt-macros.js'
import { withPgClient } from '../pg.js'
import type { Services } from '../demo/services.js'
import { median } from './stats.js'

const CLUSTER = 'poll_bench'
const SCHEMA = 'poll_bench'
const POLLS = 10
const RULE = { lagThresholdSeconds: 1, replicaGraceSeconds: 60 }

export interface PollCost {
  /** User objects on the polled cluster, and all objects in the catalog (the poll must not scan those). */
  clusterObjects: number
  catalogObjects: number
  actionMs: number[]
  upstreamMs: number[]
  actionMedianMs?: number
  upstreamMedianMs?: number
}

async function timedMs(work: () => Promise<unknown>): Promise<number> {
  const started = process.hrtime.bigint()
  await work()
  return Number(process.hrtime.bigint() - started) / 1e6
}

/** Half materialized views, half indexes on them, on a cluster of their own. */
async function createObjects(services: Services, objects: number): Promise<void> {
  await services.sql(`CREATE CLUSTER ${CLUSTER} (SIZE = '25cc')`)
  await services.sql(`CREATE SCHEMA ${SCHEMA}`)
  const views = Math.ceil(objects / 2)
  for (let i = 0; i < views; i++) {
    await services.sql(
      `CREATE MATERIALIZED VIEW ${SCHEMA}.mv_${i} IN CLUSTER ${CLUSTER} AS SELECT ${i} AS n`
    )
    if (i < objects - views)
      await services.sql(`CREATE DEFAULT INDEX IN CLUSTER ${CLUSTER} ON ${SCHEMA}.mv_${i}`)
  }
}

async function count(client: pg.Client, where: string): Promise<number> {
  const { rows } = await client.query<{ n: string }>(
    `SELECT count(*) AS n FROM mz_catalog.mz_objects o ${where}`
  )
  return Number(rows[0]!.n)
}

export async function measurePollCost(
  services: Services,
  objects: number,
  log: (line: string) => void
): Promise<PollCost> {
  log(`poll cost: creating ${objects} objects on cluster ${CLUSTER}…`)
  await createObjects(services, objects)
  try {
    return await withPgClient(services.emulator.url(), async (client) => {
      const sql: Sql = {
        query: async <R extends pg.QueryResultRow>(text: string) =>
          (await client.query<R>(text)).rows
      }
      const upstream = areClustersReadySql([CLUSTER])
      const cost: PollCost = {
        clusterObjects: await count(
          client,
          `JOIN mz_catalog.mz_clusters c ON c.id = o.cluster_id WHERE c.name = '${CLUSTER}' AND o.id LIKE 'u%'`
        ),
        catalogObjects: await count(client, ''),
        actionMs: [],
        upstreamMs: []
      }
      // Alternating, so a load change on the machine hits both alike.
      for (let i = 0; i < POLLS; i++) {
        cost.actionMs.push(await timedMs(() => checkReadiness(sql, [CLUSTER], [SCHEMA], RULE)))
        cost.upstreamMs.push(await timedMs(() => client.query(upstream)))
      }
      cost.actionMedianMs = median(cost.actionMs)
      cost.upstreamMedianMs = median(cost.upstreamMs)
      log(
        `poll cost: ${cost.clusterObjects} objects on the cluster, ${cost.catalogObjects} in the catalog: ` +
          `action ${cost.actionMedianMs?.toFixed(1)} ms / deploy_await ${cost.upstreamMedianMs?.toFixed(1)} ms per poll`
      )
      return cost
    })
  } finally {
    await services.sql(`DROP SCHEMA ${SCHEMA} CASCADE`)
    await services.sql(`DROP CLUSTER ${CLUSTER} CASCADE`)
  }
}

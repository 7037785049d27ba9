// Waiting for green to hydrate, by the same rule dbt-materialize's deploy_await applies:
// a cluster is ready when it has a replica that is not repeatedly OOM-killed, one replica has
// hydrated every object, and the objects' lag is within the threshold. Unlike deploy_await
// the wait is bounded, reports progress, and stops at once on a failing cluster.
import * as core from '@actions/core'
import { ActionError, errorMessage } from '../errors.js'
import { literalList, type Sql } from '../warehouse/pg.js'

export type ClusterStatus = 'ready' | 'hydrating' | 'lagging' | 'failing'

export interface ClusterReadiness {
  cluster: string
  status: ClusterStatus
  reason?: string
  hydrated: number
  total: number
  maxLagSeconds?: number
  replicas: number
}

interface ReplicaRow {
  cluster: string
  replica: string | null
  hydrated: string | number
  total: string | number
  ooms: string | number
}

/** Replicas with this many OOM kills in 24 hours count as failing (deploy_await's rule). */
const OOM_KILLS = 3
const MAX_BACKOFF_MS = 30_000

async function replicaRows(sql: Sql, clusters: string[]): Promise<ReplicaRow[]> {
  return sql.query<ReplicaRow>(
    `select c.name as cluster, r.id as replica,
            coalesce(h.hydrated, 0) as hydrated, coalesce(h.total, 0) as total, coalesce(o.ooms, 0) as ooms
     from mz_catalog.mz_clusters c
     left join mz_catalog.mz_cluster_replicas r on r.cluster_id = c.id
     left join (select replica_id, count(*) filter (where hydrated) as hydrated, count(*) as total
                from mz_internal.mz_hydration_statuses group by replica_id) h on h.replica_id = r.id
     left join (select replica_id, count(*) as ooms from mz_internal.mz_cluster_replica_status_history
                where reason = 'oom-killed' and occurred_at > now() - interval '24 hours'
                group by replica_id) o on o.replica_id = r.id
     where c.name in (${literalList(clusters)})`
  )
}

async function clusterLags(sql: Sql, clusters: string[]): Promise<Map<string, number>> {
  const rows = await sql.query<{ cluster: string; max_lag: string | number | null }>(
    `select c.name as cluster, max(extract(epoch from l.lag)) as max_lag
     from mz_catalog.mz_clusters c
     join mz_catalog.mz_cluster_replicas r on r.cluster_id = c.id
     join mz_internal.mz_hydration_statuses h on h.replica_id = r.id
     join mz_internal.mz_wallclock_global_lag l on l.object_id = h.object_id
     where c.name in (${literalList(clusters)})
     group by c.name`
  )
  return new Map(rows.filter((r) => r.max_lag !== null).map((r) => [r.cluster, Number(r.max_lag)]))
}

export function evaluate(
  cluster: string,
  rows: ReplicaRow[],
  maxLag: number | undefined,
  lagThreshold: number
): ClusterReadiness {
  const replicas = rows.filter((r) => r.replica !== null)
  const healthy = replicas.filter((r) => Number(r.ooms) < OOM_KILLS)
  const best = [...replicas].sort((a, b) => Number(b.hydrated) - Number(a.hydrated))[0]
  const base = {
    cluster,
    hydrated: Number(best?.hydrated ?? 0),
    total: Number(best?.total ?? 0),
    maxLagSeconds: maxLag,
    replicas: replicas.length
  }
  if (rows.length === 0) return { ...base, status: 'failing', reason: 'cluster not found' }
  if (replicas.length === 0) return { ...base, status: 'failing', reason: 'no replicas' }
  if (healthy.length === 0)
    return {
      ...base,
      status: 'failing',
      reason: `every replica was OOM-killed ${OOM_KILLS}+ times in 24 h`
    }
  const complete = replicas.some(
    (r) => Number(r.total) > 0 && Number(r.hydrated) === Number(r.total)
  )
  if (!complete) return { ...base, status: 'hydrating' }
  if (maxLag !== undefined && maxLag > lagThreshold) return { ...base, status: 'lagging' }
  return { ...base, status: 'ready' }
}

export async function checkReadiness(
  sql: Sql,
  clusters: string[],
  lagThreshold: number
): Promise<ClusterReadiness[]> {
  const rows = await replicaRows(sql, clusters)
  const lags = await clusterLags(sql, clusters)
  return clusters.map((cluster) =>
    evaluate(
      cluster,
      rows.filter((r) => r.cluster === cluster),
      lags.get(cluster),
      lagThreshold
    )
  )
}

export function describeReadiness(r: ClusterReadiness): string {
  const lag =
    r.maxLagSeconds === undefined ? 'no lag reported' : `max lag ${r.maxLagSeconds.toFixed(1)} s`
  const reason = r.reason ? ` (${r.reason})` : ''
  return `${r.cluster}: ${r.status}${reason}, hydrated ${r.hydrated}/${r.total}, ${lag}, ${r.replicas} replica(s)`
}

const PROGRESS_EVERY_S = 10

/** Prints a line per cluster when progress changes, and at least every 10 s. */
function printProgress(
  clusters: ClusterReadiness[],
  elapsed: number,
  last: { key: string; at: number }
) {
  const key = clusters.map((c) => `${c.cluster} ${c.status} ${c.hydrated}/${c.total}`).join(',')
  if (key === last.key && elapsed - last.at < PROGRESS_EVERY_S) return last
  for (const cluster of clusters)
    core.info(`[${elapsed.toFixed(1)} s] ${describeReadiness(cluster)}`)
  return { key, at: elapsed }
}

export interface WaitOptions {
  lagThreshold: number
  pollIntervalMs: number
  timeoutMs: number
  sleep: (ms: number) => Promise<void>
  now?: () => number
}

export interface HydrationResult {
  seconds: number
  final: ClusterReadiness[]
  /** Progress samples for the summary: seconds since the start, and each cluster's state. */
  samples: Array<{ at: number; clusters: ClusterReadiness[] }>
}

export async function waitForHydration(
  sql: Sql,
  clusters: string[],
  options: WaitOptions
): Promise<HydrationResult> {
  const now = options.now ?? Date.now
  const started = now()
  const samples: HydrationResult['samples'] = []
  let delay = options.pollIntervalMs
  let last: ClusterReadiness[] = []
  let lastPrinted = { key: '', at: -Infinity }
  for (;;) {
    const elapsed = (now() - started) / 1000
    try {
      last = await checkReadiness(sql, clusters, options.lagThreshold)
      delay = options.pollIntervalMs
      samples.push({ at: elapsed, clusters: last })
      lastPrinted = printProgress(last, elapsed, lastPrinted)
      const failing = last.filter((r) => r.status === 'failing')
      if (failing.length > 0) {
        throw new ActionError(
          `Green cannot become ready: ${failing.map(describeReadiness).join('; ')}.`
        )
      }
      if (last.every((r) => r.status === 'ready')) return { seconds: elapsed, final: last, samples }
    } catch (error) {
      if (error instanceof ActionError) throw error
      delay = Math.min(delay * 2, MAX_BACKOFF_MS)
      core.warning(`Readiness check failed (retrying in ${delay / 1000} s): ${errorMessage(error)}`)
    }
    const remaining = started + options.timeoutMs - now()
    if (remaining <= 0) {
      const unready = last.filter((r) => r.status !== 'ready')
      throw new ActionError(
        `Hydration did not finish within ${options.timeoutMs / 1000} s ("await-timeout"): ${(unready.length > 0 ? unready : last).map(describeReadiness).join('; ') || 'no readiness data'}.`
      )
    }
    await options.sleep(Math.min(delay, remaining))
  }
}

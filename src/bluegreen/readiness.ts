// Waiting for green to hydrate. The rule counts what must hydrate, not the hydration rows that
// happen to exist: Materialize's introspection rows arrive late (an object may have no row yet,
// or one whose replica_id is NULL), so a cluster is hydrated only when one healthy replica
// reports every materialized view, index, source and sink on it as hydrated. Lag is judged
// against production's own lag for the same objects, since wallclock lag is minute-binned. A
// REFRESH materialized view is as fresh as its schedule makes it, so it is judged by its first
// completed refresh, never by lag: before that refresh it is empty. Unlike deploy_await the
// wait is bounded, reports which objects are pending, and stops at once on a failing cluster.
import * as core from '@actions/core'
import { ActionError, errorMessage } from '../errors.js'
import { literalList, type Sql } from '../warehouse/pg.js'
import { GREEN_SUFFIX } from './config.js'

export type ClusterStatus = 'ready' | 'hydrating' | 'lagging' | 'failing'

export interface ClusterReadiness {
  cluster: string
  status: ClusterStatus
  reason?: string
  hydrated: number
  total: number
  maxLagSeconds?: number
  replicas: number
  /** The replica whose progress is shown: the one that has hydrated the most. */
  replica?: string
  /** Objects not yet hydrated on that replica, or lagging beyond the bound. */
  pending?: string[]
  /** Which lag measure decided, and what it lacks (objects not sampled yet). */
  lagNote?: string
}

/** An object on a green cluster that must hydrate before the swap. */
export interface GreenObject {
  id: string
  /** `schema.name` */
  name: string
  type: string
  /** Lag of its production counterpart (same name, type and unsuffixed schema), when sampled. */
  productionLagSeconds?: number
  lagSeconds?: number
  /** A materialized view with REFRESH options: whether it has completed a refresh yet. */
  refresh?: 'pending' | 'completed'
}

export interface ReplicaState {
  id: string
  name: string
  ooms: number
  /** Ids of the objects this replica reports hydrated (rows with this replica_id only). */
  hydrated: Set<string>
}

/** What one poll read about one green cluster. */
export interface ClusterSnapshot {
  cluster: string
  exists: boolean
  /** mz_cluster_schedules.type: `manual`, or `on-refresh` for a scheduled cluster. */
  schedule: string
  replicas: ReplicaState[]
  objects: GreenObject[]
}

export interface ReadinessRule {
  lagThresholdSeconds: number
  /** How long a cluster without replicas is waited for before it fails. */
  replicaGraceSeconds: number
}

/** Replicas with this many OOM kills in 24 hours count as failing (deploy_await's rule). */
const OOM_KILLS = 3
const MAX_BACKOFF_MS = 30_000
const NAMED_PENDING = 5
const HYDRATING_TYPES = ['materialized-view', 'index', 'source', 'sink']
/** Sources that never report hydration: webhooks, and subsources that their source hydrates. */
const NON_HYDRATING_SOURCES = ['webhook', 'subsource', 'progress']

const none = (ids: string[]): boolean => ids.length === 0

async function clusterRows(sql: Sql, names: string[]) {
  return sql.query<{ id: string; name: string; schedule: string | null }>(
    `select c.id, c.name, s.type as schedule from mz_catalog.mz_clusters c
     left join mz_internal.mz_cluster_schedules s on s.cluster_id = c.id
     where c.name in (${literalList(names)})`
  )
}

async function replicaRows(sql: Sql, clusterIds: string[]) {
  if (none(clusterIds)) return []
  return sql.query<{ id: string; name: string; cluster_id: string; ooms: string | number }>(
    `select r.id, r.name, r.cluster_id, coalesce(o.ooms, 0) as ooms
     from mz_catalog.mz_cluster_replicas r
     left join (select replica_id, count(*) as ooms from mz_internal.mz_cluster_replica_status_history
                where reason = 'oom-killed' and occurred_at > now() - interval '24 hours'
                  and replica_id in (select id from mz_catalog.mz_cluster_replicas
                                     where cluster_id in (${literalList(clusterIds)}))
                group by replica_id) o on o.replica_id = r.id
     where r.cluster_id in (${literalList(clusterIds)})`
  )
}

interface ObjectRow {
  id: string
  schema: string
  name: string
  type: string
  cluster_id: string | null
}

/** User objects on the clusters that hydrate, and every object in the given schemas. */
async function objectRows(sql: Sql, clusterIds: string[], schemas: string[]) {
  const onClusters = none(clusterIds) ? 'false' : `o.cluster_id in (${literalList(clusterIds)})`
  const inSchemas = none(schemas) ? 'false' : `s.name in (${literalList(schemas)})`
  return sql.query<ObjectRow>(
    `select o.id, s.name as schema, o.name, o.type, o.cluster_id
     from mz_catalog.mz_objects o
     join mz_catalog.mz_schemas s on s.id = o.schema_id
     where o.id like 'u%' and o.type in (${literalList(HYDRATING_TYPES)})
       and (o.type <> 'source' or not exists (
         select 1 from mz_catalog.mz_sources src
         where src.id = o.id and src.type in (${literalList(NON_HYDRATING_SOURCES)})))
       and (${onClusters} or ${inSchemas})`
  )
}

async function hydrationRows(sql: Sql, ids: string[]) {
  if (none(ids)) return []
  return sql.query<{ object_id: string; replica_id: string | null; hydrated: boolean | null }>(
    `select object_id, replica_id, hydrated from mz_internal.mz_hydration_statuses
     where object_id in (${literalList(ids)})`
  )
}

async function lagRows(sql: Sql, ids: string[]): Promise<Map<string, number>> {
  if (none(ids)) return new Map()
  const rows = await sql.query<{ object_id: string; lag: string | number | null }>(
    `select object_id, extract(epoch from lag) as lag from mz_internal.mz_wallclock_global_lag
     where object_id in (${literalList(ids)})`
  )
  return new Map(rows.filter((r) => r.lag !== null).map((r) => [r.object_id, Number(r.lag)]))
}

/** Materialized views with REFRESH options, and whether each has completed a refresh. */
async function refreshStates(sql: Sql, ids: string[]): Promise<Map<string, boolean>> {
  if (none(ids)) return new Map()
  const rows = await sql.query<{ id: string; completed: boolean }>(
    `select s.materialized_view_id as id, bool_or(r.last_completed_refresh is not null) as completed
     from mz_internal.mz_materialized_view_refresh_strategies s
     left join mz_internal.mz_materialized_view_refreshes r
       on r.materialized_view_id = s.materialized_view_id
     where s.type <> 'on-commit' and s.materialized_view_id in (${literalList(ids)})
     group by s.materialized_view_id`
  )
  return new Map(rows.map((r) => [r.id, r.completed]))
}

const productionSchema = (schema: string): string =>
  schema.endsWith(GREEN_SUFFIX) ? schema.slice(0, -GREEN_SUFFIX.length) : schema

/**
 * Reads each green cluster's replicas, the objects on it and their hydration and lag, scoped to
 * those clusters' objects and their production counterparts: never the whole region.
 */
export async function readClusters(
  sql: Sql,
  clusters: string[],
  productionSchemas: string[]
): Promise<ClusterSnapshot[]> {
  const found = await clusterRows(sql, clusters)
  const clusterIds = found.map((c) => c.id)
  const replicas = await replicaRows(sql, clusterIds)
  const objects = await objectRows(sql, clusterIds, productionSchemas)
  const onGreen = objects.filter((o) => o.cluster_id !== null && clusterIds.includes(o.cluster_id))
  const counterpart = new Map(
    objects
      .filter((o) => productionSchemas.includes(o.schema))
      .map((o) => [`${o.schema}.${o.name}.${o.type}`, o.id])
  )
  const productionOf = (o: ObjectRow) =>
    counterpart.get(`${productionSchema(o.schema)}.${o.name}.${o.type}`)
  const greenIds = onGreen.map((o) => o.id)
  const hydration = await hydrationRows(sql, greenIds)
  const lags = await lagRows(sql, [...greenIds, ...onGreen.flatMap((o) => productionOf(o) ?? [])])
  const refreshes = await refreshStates(
    sql,
    onGreen.filter((o) => o.type === 'materialized-view').map((o) => o.id)
  )
  return clusters.map((name) => {
    const cluster = found.find((c) => c.name === name)
    const mine = (id: string | null) => cluster !== undefined && id === cluster.id
    return {
      cluster: name,
      exists: cluster !== undefined,
      schedule: cluster?.schedule ?? 'manual',
      replicas: replicas
        .filter((r) => mine(r.cluster_id))
        .map((r) => ({
          id: r.id,
          name: r.name,
          ooms: Number(r.ooms),
          hydrated: new Set(
            hydration.filter((h) => h.replica_id === r.id && h.hydrated).map((h) => h.object_id)
          )
        })),
      objects: onGreen
        .filter((o) => mine(o.cluster_id))
        .map((o) => {
          const production = productionOf(o)
          const refreshed = refreshes.get(o.id)
          return {
            id: o.id,
            name: `${o.schema}.${o.name}`,
            type: o.type,
            lagSeconds: lags.get(o.id),
            productionLagSeconds: production === undefined ? undefined : lags.get(production),
            ...(refreshed !== undefined && { refresh: refreshed ? 'completed' : 'pending' })
          }
        })
    }
  })
}

const named = (objects: GreenObject[]): string[] => objects.map((o) => o.name)

/** The lag bound of an object: the threshold, over production's own lag when it has one. */
const lagBound = (o: GreenObject, threshold: number): number =>
  threshold + (o.productionLagSeconds ?? 0)

function judgeLag(
  base: ClusterReadiness,
  objects: GreenObject[],
  threshold: number
): ClusterReadiness {
  const onCommit = objects.filter((o) => o.refresh === undefined)
  const sampled = onCommit.filter((o) => o.lagSeconds !== undefined)
  const lagging = sampled.filter((o) => o.lagSeconds! > lagBound(o, threshold))
  const unsampled = onCommit.length - sampled.length
  const scheduled = objects.length - onCommit.length
  const lagNote =
    `wallclock lag within ${threshold} s of production's` +
    (unsampled > 0 ? `; ${unsampled} object(s) not sampled yet` : '') +
    (scheduled > 0 ? `; ${scheduled} REFRESH view(s) judged by their first refresh` : '')
  const maxLagSeconds =
    sampled.length > 0 ? Math.max(...sampled.map((o) => o.lagSeconds!)) : undefined
  const judged = { ...base, maxLagSeconds, lagNote }
  return lagging.length > 0
    ? { ...judged, status: 'lagging', pending: named(lagging) }
    : { ...judged, status: 'ready' }
}

/**
 * A scheduled cluster is ready once each REFRESH materialized view on it has completed a
 * refresh. Its replicas run only during refreshes, so nothing else on it can be seen hydrating
 * (production's cluster, with the same schedule, is no different).
 */
function judgeScheduled(snapshot: ClusterSnapshot, base: ClusterReadiness): ClusterReadiness {
  const waiting = snapshot.objects.filter((o) => o.refresh === 'pending')
  if (waiting.length === 0)
    return {
      ...base,
      hydrated: base.total,
      status: 'ready',
      reason: 'ON REFRESH: every view refreshed'
    }
  return {
    ...base,
    hydrated: base.total - waiting.length,
    status: 'hydrating',
    reason: 'ON REFRESH: waiting for the first refresh',
    pending: named(waiting)
  }
}

/**
 * `withoutReplicaSeconds`: how long the waiter has seen the cluster without any replica (0 on
 * the first sight), measured from then so that a replica lost late still gets its grace.
 */
export function evaluate(
  snapshot: ClusterSnapshot,
  rule: ReadinessRule,
  withoutReplicaSeconds = 0
): ClusterReadiness {
  const { objects, replicas } = snapshot
  const base: ClusterReadiness = {
    cluster: snapshot.cluster,
    status: 'hydrating',
    hydrated: 0,
    total: objects.length,
    replicas: replicas.length
  }
  if (!snapshot.exists) return { ...base, status: 'failing', reason: 'cluster not found' }
  if (snapshot.schedule === 'on-refresh') return judgeScheduled(snapshot, base)
  if (replicas.length === 0) {
    const grace = rule.replicaGraceSeconds
    return withoutReplicaSeconds < grace
      ? { ...base, reason: `no replica yet; fails after ${grace} s ("replica-grace")` }
      : { ...base, status: 'failing', reason: `no replica for ${grace} s ("replica-grace")` }
  }
  const healthy = replicas.filter((r) => r.ooms < OOM_KILLS)
  if (healthy.length === 0)
    return {
      ...base,
      status: 'failing',
      reason: `every replica was OOM-killed ${OOM_KILLS}+ times in 24 h`
    }
  // A REFRESH view that hydrated but has not refreshed yet holds no data: it is pending too.
  const done = (r: ReplicaState, o: GreenObject) => r.hydrated.has(o.id) && o.refresh !== 'pending'
  const count = (r: ReplicaState) => objects.filter((o) => done(r, o)).length
  const best = healthy.reduce((a, b) => (count(b) > count(a) ? b : a))
  const pending = objects.filter((o) => !done(best, o))
  const progress = { ...base, hydrated: objects.length - pending.length, replica: best.name }
  if (pending.length > 0) return { ...progress, status: 'hydrating', pending: named(pending) }
  return judgeLag(progress, objects, rule.lagThresholdSeconds)
}

export async function checkReadiness(
  sql: Sql,
  clusters: string[],
  productionSchemas: string[],
  rule: ReadinessRule,
  withoutReplicaSeconds: (snapshot: ClusterSnapshot) => number = () => 0
): Promise<ClusterReadiness[]> {
  const snapshots = await readClusters(sql, clusters, productionSchemas)
  return snapshots.map((s) => evaluate(s, rule, withoutReplicaSeconds(s)))
}

function pendingList(names: string[]): string {
  const shown = names.slice(0, NAMED_PENDING).join(', ')
  return names.length > NAMED_PENDING ? `${shown} and ${names.length - NAMED_PENDING} more` : shown
}

export function describeReadiness(r: ClusterReadiness): string {
  const lag =
    r.maxLagSeconds === undefined ? 'no lag sampled' : `max lag ${r.maxLagSeconds.toFixed(1)} s`
  const parts = [
    `${r.cluster}: ${r.status}${r.reason ? ` (${r.reason})` : ''}`,
    `hydrated ${r.hydrated}/${r.total}${r.replica ? ` on replica ${r.replica}` : ''}`,
    r.pending?.length
      ? `${r.status === 'lagging' ? 'lagging' : 'pending'}: ${pendingList(r.pending)}`
      : '',
    r.lagNote ? `${lag} (${r.lagNote})` : lag,
    `${r.replicas} replica(s)`
  ]
  return parts.filter((p) => p !== '').join(', ')
}

const PROGRESS_EVERY_S = 10

/** One line for every green cluster: "37/50 objects hydrated, max lag 3 s, 2m10s". */
export function progressSummary(clusters: ClusterReadiness[], elapsedSeconds: number): string {
  const hydrated = clusters.reduce((sum, c) => sum + c.hydrated, 0)
  const total = clusters.reduce((sum, c) => sum + c.total, 0)
  const lags = clusters.flatMap((c) => (c.maxLagSeconds === undefined ? [] : [c.maxLagSeconds]))
  const lag = lags.length > 0 ? `, max lag ${Math.round(Math.max(...lags))} s` : ''
  const minutes = Math.floor(elapsedSeconds / 60)
  const seconds = Math.round(elapsedSeconds % 60)
  return `${hydrated}/${total} objects hydrated${lag}, ${minutes > 0 ? `${minutes}m` : ''}${seconds}s`
}

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
  productionSchemas: string[]
  lagThreshold: number
  replicaGraceSeconds: number
  pollIntervalMs: number
  timeoutMs: number
  sleep: (ms: number) => Promise<void>
  now?: () => number
  /** Called after each poll that answered, e.g. to update the hydration check. */
  onProgress?: (clusters: ClusterReadiness[], elapsedSeconds: number) => Promise<void>
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
  const noReplicaSince = new Map<string, number>()
  const withoutReplica = (s: ClusterSnapshot, elapsed: number): number => {
    if (s.replicas.length > 0) noReplicaSince.delete(s.cluster)
    else if (!noReplicaSince.has(s.cluster)) noReplicaSince.set(s.cluster, elapsed)
    return elapsed - (noReplicaSince.get(s.cluster) ?? elapsed)
  }
  const rule = {
    lagThresholdSeconds: options.lagThreshold,
    replicaGraceSeconds: options.replicaGraceSeconds
  }
  for (;;) {
    const elapsed = (now() - started) / 1000
    try {
      last = await checkReadiness(sql, clusters, options.productionSchemas, rule, (s) =>
        withoutReplica(s, elapsed)
      )
      delay = options.pollIntervalMs
      samples.push({ at: elapsed, clusters: last })
      lastPrinted = printProgress(last, elapsed, lastPrinted)
      await options.onProgress?.(last, elapsed)
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

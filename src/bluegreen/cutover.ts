// The cutover as the catalog sees it. Materialize keeps ids through a swap (a schema swap
// renames, a cluster swap exchanges names), so the ids recorded before deploy_promote tell,
// after any failure, whether the swap committed: production's names then carry green's former
// ids, and green's names hold the previous production.
import { ActionError } from '../errors.js'
import {
  readSwapRecord,
  writeRecord,
  type PreviousProduction,
  type SwapOutcome,
  type SwapRecord,
  type SwapSides
} from '../store/records.js'
import type { ObjectStore } from '../store/s3.js'
import { literalList, quoteIdent, quoteLiteral, type Sql } from '../warehouse/pg.js'
import { green } from './config.js'
import type { SinkRepoint } from './plan.js'

/** Catalog ids by name, of the schemas (current database) and clusters asked for. */
export interface CatalogIds {
  schemas: Record<string, string>
  clusters: Record<string, string>
}

export async function catalogIds(sql: Sql, sides: Pick<SwapSides, 'schemas' | 'clusters'>) {
  const schemas = [...sides.schemas, ...sides.schemas.map(green)]
  const clusters = [...sides.clusters, ...sides.clusters.map(green)]
  const rows = await sql.query<{ kind: string; name: string; id: string }>(
    `select 'schema' as kind, s.name, s.id from mz_catalog.mz_schemas s
       join mz_catalog.mz_databases d on d.id = s.database_id
       where d.name = current_database() and s.name in (${literalList(schemas)})
     union all
     select 'cluster' as kind, name, id from mz_catalog.mz_clusters where name in (${literalList(clusters)})`
  )
  const ids: CatalogIds = { schemas: {}, clusters: {} }
  for (const row of rows) ids[row.kind === 'schema' ? 'schemas' : 'clusters'][row.name] = row.id
  return ids
}

/** Both sides of the swap about to run; every production and green name must exist. */
export async function swapSides(
  sql: Sql,
  names: Pick<SwapSides, 'schemas' | 'clusters'>
): Promise<SwapSides> {
  const ids = await catalogIds(sql, names)
  const idOf = (kind: 'schemas' | 'clusters', name: string): string => {
    const id = ids[kind][name]
    if (id === undefined)
      throw new ActionError(`The ${kind.slice(0, -1)} "${name}" does not exist: nothing to swap.`)
    return id
  }
  return {
    schemas: names.schemas,
    clusters: names.clusters,
    productionSchemaIds: names.schemas.map((s) => idOf('schemas', s)),
    greenSchemaIds: names.schemas.map((s) => idOf('schemas', green(s))),
    productionClusterIds: names.clusters.map((c) => idOf('clusters', c)),
    greenClusterIds: names.clusters.map((c) => idOf('clusters', green(c)))
  }
}

interface Side {
  what: string
  name: string
  productionId: string
  greenId: string
  /** What the production and green names resolve to now. */
  productionNow?: string
  greenNow?: string
}

function sides(recorded: SwapSides, now: CatalogIds): Side[] {
  const side = (what: string, ids: Record<string, string>, name: string, p: string, g: string) => ({
    what,
    name,
    productionId: p,
    greenId: g,
    productionNow: ids[name],
    greenNow: ids[green(name)]
  })
  return [
    ...recorded.schemas.map((s, i) =>
      side('schema', now.schemas, s, recorded.productionSchemaIds[i]!, recorded.greenSchemaIds[i]!)
    ),
    ...recorded.clusters.map((c, i) =>
      side(
        'cluster',
        now.clusters,
        c,
        recorded.productionClusterIds[i]!,
        recorded.greenClusterIds[i]!
      )
    )
  ]
}

/**
 * Committed once every production name carries green's former id; not committed while every
 * one still carries its own. Anything else (someone else's DDL) is unclear, and treated as
 * committed: green's names may hold production's objects.
 */
export function decideSwap(
  recorded: SwapSides,
  now: CatalogIds
): Exclude<SwapOutcome, 'about-to-swap'> {
  const all = sides(recorded, now)
  if (all.every((s) => s.productionNow === s.greenId)) return 'committed'
  if (all.every((s) => s.productionNow === s.productionId)) return 'not-committed'
  return 'unclear'
}

/** Whether any green name holds a former production schema or cluster. */
export function holdsPrevious(recorded: SwapSides, now: CatalogIds): boolean {
  return sides(recorded, now).some((s) => s.greenNow === s.productionId)
}

/** What does not match a verified cutover, one line each; empty when it is verified. */
export function cutoverMismatches(recorded: SwapSides, now: CatalogIds): string[] {
  return sides(recorded, now).flatMap((s) => [
    ...(s.productionNow === s.greenId
      ? []
      : [`${s.what} "${s.name}" is ${s.productionNow ?? 'missing'}, not green's ${s.greenId}`]),
    ...(s.greenNow === s.productionId
      ? []
      : [
          `${s.what} "${green(s.name)}" is ${s.greenNow ?? 'missing'}, not the previous production's ${s.productionId}`
        ])
  ])
}

/** The previous production's names, as they are after a committed swap. */
export function previousNames(recorded: Pick<SwapSides, 'schemas' | 'clusters'>): string {
  return [...recorded.schemas, ...recorded.clusters].map(green).join(', ')
}

/** What to run next while green's names hold the previous production after a failed run. */
export function nextSteps(recorded: Pick<SwapSides, 'schemas' | 'clusters'>): string {
  const drops = [
    ...recorded.schemas.map((s) => `DROP SCHEMA ${quoteIdent(green(s))} CASCADE`),
    ...recorded.clusters.map((c) => `DROP CLUSTER ${quoteIdent(green(c))} CASCADE`)
  ]
  return (
    'To go back, run "phase: rollback" (it swaps the previous production back in). ' +
    'To keep the new production, check what still reads the previous one, drop it by hand ' +
    `(${drops.join('; ')}) and run "phase: cleanup".`
  )
}

/** The state after a committed (or unclear) swap, for errors and warnings. */
export function describeSwapped(
  recorded: Pick<SwapSides, 'schemas' | 'clusters'>,
  outcome: SwapOutcome
): string {
  const production = [...recorded.schemas, ...recorded.clusters].join(', ')
  const state =
    outcome === 'committed'
      ? `The swap committed: the new production is live under ${production}, and the previous production is intact under ${previousNames(recorded)}`
      : `Whether the swap committed is unclear (the catalog matches neither side): ${previousNames(recorded)} may hold the previous production`
  return `${state}. It was not dropped.`
}

const idsOf = (sides: SwapSides): string =>
  JSON.stringify([
    sides.productionSchemaIds,
    sides.greenSchemaIds,
    sides.productionClusterIds,
    sides.greenClusterIds
  ])

/** Writes what became of the swap into its S3 record, if it is still this swap's. */
export async function markSwap(
  store: ObjectStore,
  key: string,
  sides: SwapSides,
  outcome: Exclude<SwapOutcome, 'about-to-swap'>
): Promise<SwapRecord | undefined> {
  const record = await readSwapRecord(store, key)
  if (!record || idsOf(record) !== idsOf(sides)) return undefined
  const decided: SwapRecord = { ...record, outcome, decidedAt: new Date().toISOString() }
  await writeRecord(store, key, decided)
  return decided
}

export interface SwapKeys {
  swap: string
  previous: string
}

/**
 * After a failure: decides from the catalog whether the swap committed and records it. Once it
 * has, the previous production is recorded as kept, where "phase: rollback" finds it.
 */
export async function settleSwap(
  store: ObjectStore,
  sql: Sql,
  keys: SwapKeys,
  recorded: SwapSides
): Promise<Exclude<SwapOutcome, 'about-to-swap'>> {
  const outcome = decideSwap(recorded, await catalogIds(sql, recorded))
  const record = await markSwap(store, keys.swap, recorded, outcome)
  if (outcome !== 'not-committed' && record) {
    const previous: PreviousProduction = {
      sha: record.previousSha,
      replacedBy: record.sha,
      keptAt: record.decidedAt!
    }
    await writeRecord(store, keys.previous, previous)
  }
  return outcome
}

/** `"db"."schema"."name"` (as quoteIdent writes each part) → its parts. */
export function nameParts(quoted: string): string[] {
  return [...quoted.matchAll(/"((?:[^"]|"")*)"/g)].map((m) => m[1]!.replace(/""/g, '"'))
}

interface Resolved {
  id: string
  name: string
}

/** The user object `"db"."schema"."name"` denotes now, if any. */
async function resolveObject(sql: Sql, quoted: string): Promise<Resolved | undefined> {
  const [database, schema, name] = nameParts(quoted)
  const [row] = await sql.query<Resolved>(
    `select o.id, d.name || '.' || s.name || '.' || o.name as name
  from mz_catalog.mz_objects o
  join mz_catalog.mz_schemas s on s.id = o.schema_id
  join mz_catalog.mz_databases d on d.id = s.database_id
  where d.name = ${quoteLiteral(database ?? '')} and s.name = ${quoteLiteral(schema ?? '')}
    and o.name = ${quoteLiteral(name ?? '')}`
  )
  return row
}

/** What a sink reads now (its connections aside), from mz_object_dependencies. */
async function sinkInputs(sql: Sql, sinkId: string): Promise<Resolved[]> {
  return sql.query<Resolved>(
    `select r.id, d.name || '.' || s.name || '.' || r.name as name
  from mz_internal.mz_object_dependencies dep
  join mz_catalog.mz_objects r on r.id = dep.referenced_object_id
  join mz_catalog.mz_schemas s on s.id = r.schema_id
  left join mz_catalog.mz_databases d on d.id = s.database_id
  where dep.object_id = ${quoteLiteral(sinkId)} and r.type <> 'connection'`
  )
}

export interface SinkMismatch {
  repoint: SinkRepoint
  problem: string
}

/** Why a planned sink does not read its planned `from` object now; undefined when it does. */
async function sinkProblem(sql: Sql, { sink, from }: SinkRepoint): Promise<string | undefined> {
  const [target, input] = [await resolveObject(sql, sink), await resolveObject(sql, from)]
  if (!target) return `sink ${sink} does not exist`
  if (!input) return `${from}, which sink ${sink} should read, does not exist`
  const reads = await sinkInputs(sql, target.id)
  if (reads.some((r) => r.id === input.id)) return undefined
  const now = reads.map((r) => `${r.name ?? '?'} (${r.id})`).join(', ') || 'nothing'
  return `sink ${target.name} reads ${now}, not ${input.name} (${input.id})`
}

/**
 * After the swap and deploy_promote's `ALTER SINK … SET FROM`: each planned sink must read the
 * object its `from` names now (the new production, by id). One entry per sink that does not.
 */
export async function sinkMismatches(sql: Sql, sinks: SinkRepoint[]): Promise<SinkMismatch[]> {
  const mismatches: SinkMismatch[] = []
  for (const repoint of sinks) {
    const problem = await sinkProblem(sql, repoint)
    if (problem) mismatches.push({ repoint, problem })
  }
  return mismatches
}

// The data diff step: compares each pair within `diff-timeout` and `diff-max-objects`, on a
// connection of its own, and judges the result against the gate.
import { errorMessage } from '../errors.js'
import { quoteLiteral, type Warehouse } from '../warehouse/pg.js'
import { compareObject, qualified, readColumns, relationKey } from './compare.js'
import { breaches } from './gate.js'
import type { Column, DiffPair, DiffReport, DiffSettings, ObjectDiff } from './model.js'

class DiffTimeout extends Error {}

/** `work`, or a DiffTimeout once `deadline` (epoch ms) passes. */
async function before<T>(deadline: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DiffTimeout()), Math.max(0, deadline - Date.now()))
  })
  try {
    return await Promise.race([work, expired])
  } finally {
    clearTimeout(timer)
  }
}

const notCompared = (pair: DiffPair, reason: string): ObjectDiff => ({
  model: pair.model,
  blue: qualified(pair.blue),
  green: qualified(pair.green),
  status: 'not-compared',
  reason,
  breaches: []
})

interface Session {
  warehouse: Warehouse
  begin: string
}

async function openSession(
  open: () => Promise<Warehouse>,
  cluster: string | undefined
): Promise<Session> {
  const warehouse = await open()
  if (warehouse.isMaterialize && cluster)
    await warehouse.query(`set cluster = ${quoteLiteral(cluster)}`)
  // Materialize reads a transaction at one timestamp; PostgreSQL needs a snapshot for that.
  const begin = warehouse.isMaterialize
    ? 'begin read only'
    : 'begin isolation level repeatable read read only'
  return { warehouse, begin }
}

async function comparePair(
  session: Session,
  pair: DiffPair,
  columns: Map<string, Column[]>
): Promise<ObjectDiff> {
  const base = { model: pair.model, blue: qualified(pair.blue), green: qualified(pair.green) }
  const blue = columns.get(relationKey(pair.blue))
  const green = columns.get(relationKey(pair.green))
  if (!blue) return { ...base, status: 'new', reason: 'no production counterpart', breaches: [] }
  if (!green) return { ...base, status: 'not-compared', reason: 'not built', breaches: [] }
  const { warehouse } = session
  await warehouse.query(session.begin)
  try {
    const found = await compareObject(warehouse, pair, { blue, green })
    return { ...base, status: 'compared', ...found, breaches: [] }
  } catch (error) {
    if (error instanceof DiffTimeout) throw error
    return { ...base, status: 'error', reason: errorMessage(error), breaches: [] }
  } finally {
    if (!warehouse.lost) await warehouse.query('rollback').catch(() => undefined)
  }
}

/**
 * Compares `pairs` (at most `maxObjects` of them, in order) within `timeoutMs`. A comparison
 * cut by the timeout ends the step: its connection is closed, which cancels the query.
 */
export async function runDiff(
  settings: DiffSettings,
  pairs: DiffPair[],
  open: () => Promise<Warehouse>,
  labels: DiffReport['labels'],
  cluster: string | undefined
): Promise<DiffReport> {
  const mode = settings.mode === 'gate' ? 'gate' : 'report'
  const started = Date.now()
  const deadline = started + settings.timeoutMs
  const compared = pairs.slice(0, settings.maxObjects)
  const objects = pairs
    .slice(settings.maxObjects)
    .map((p) => notCompared(p, `beyond "diff-max-objects" (${settings.maxObjects})`))
  const results: ObjectDiff[] = []
  let timedOut = false
  let failure: string | undefined
  let session: Session | undefined
  try {
    session = await before(deadline, openSession(open, cluster))
    const relations = compared.flatMap((p) => [p.blue, p.green])
    const columns = await before(deadline, readColumns(session.warehouse, relations))
    for (const pair of compared) {
      results.push(await before(deadline, comparePair(session, pair, columns)))
    }
  } catch (error) {
    if (error instanceof DiffTimeout) timedOut = true
    else failure = errorMessage(error)
  } finally {
    await session?.warehouse.close().catch(() => undefined)
  }
  const rest = compared
    .slice(results.length)
    .map((p): ObjectDiff =>
      failure
        ? { ...notCompared(p, failure), status: 'error' }
        : notCompared(p, `"diff-timeout" (${settings.timeoutMs / 1000} s) ran out`)
    )
  const all = [...results, ...rest, ...objects].map((o) => ({
    ...o,
    breaches: breaches(o, settings)
  }))
  return { mode, labels, objects: all, timedOut, seconds: (Date.now() - started) / 1000 }
}

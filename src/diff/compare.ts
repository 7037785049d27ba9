// The SQL of one object's comparison. Everything is an aggregate the warehouse computes; only
// a few sample rows come back. All reads of an object share one read-only transaction, so a
// streaming input that changes meanwhile is seen at one logical time on both sides.
import type { Sql, Warehouse } from '../warehouse/pg.js'
import { literalList, quoteIdent, quoteLiteral } from '../warehouse/pg.js'
import type {
  Column,
  DiffKey,
  KeyDiff,
  ObjectDiff,
  Relation,
  RowSetDiff,
  SampleRow,
  SchemaChange
} from './model.js'

export const SAMPLE_ROWS = 5
const SAMPLE_COLUMNS = 6
const SAMPLE_VALUE_CHARS = 60
/** Values of columns so named never leave the warehouse. */
const SECRET_LIKE = /pass|secret|token|credential|api_?key|private|ssn|email|phone/i
const PRESENT = 'dbt_deploy_diff_present'

export const qualified = (r: Relation): string =>
  [r.database, r.schema, r.name]
    .filter((part) => part !== '')
    .map(quoteIdent)
    .join('.')

export const relationKey = (r: Relation): string => `${r.schema}.${r.name}`

/** Columns of `relations` by `relationKey`, in column order. */
export async function readColumns(
  warehouse: Warehouse,
  relations: Relation[]
): Promise<Map<string, Column[]>> {
  const schemas = literalList([...new Set(relations.map((r) => r.schema))])
  const names = literalList([...new Set(relations.map((r) => r.name))])
  const rows = await warehouse.query<{
    schema: string
    relation: string
    name: string
    type: string
  }>(
    warehouse.isMaterialize
      ? `select s.name as schema, o.name as relation, c.name, c.type
         from mz_catalog.mz_columns c
         join mz_catalog.mz_objects o on o.id = c.id
         join mz_catalog.mz_schemas s on s.id = o.schema_id
         where s.name in (${schemas}) and o.name in (${names})
         order by s.name, o.name, c.position`
      : `select n.nspname as schema, c.relname as relation, a.attname as name,
                format_type(a.atttypid, a.atttypmod) as type
         from pg_catalog.pg_attribute a
         join pg_catalog.pg_class c on c.oid = a.attrelid
         join pg_catalog.pg_namespace n on n.oid = c.relnamespace
         where a.attnum > 0 and not a.attisdropped and c.relkind in ('r', 'v', 'm', 'p', 'f')
           and n.nspname in (${schemas}) and c.relname in (${names})
         order by n.nspname, c.relname, a.attnum`
  )
  const columns = new Map<string, Column[]>()
  for (const row of rows) {
    const key = `${row.schema}.${row.relation}`
    columns.set(key, [...(columns.get(key) ?? []), { name: row.name, type: row.type }])
  }
  return columns
}

export function schemaChange(blue: Column[], green: Column[]): SchemaChange {
  const blueByName = new Map(blue.map((c) => [c.name, c]))
  const greenByName = new Map(green.map((c) => [c.name, c]))
  const common = (list: Column[], other: Map<string, Column>) =>
    list.filter((c) => other.has(c.name)).map((c) => c.name)
  return {
    added: green.filter((c) => !blueByName.has(c.name)),
    removed: blue.filter((c) => !greenByName.has(c.name)),
    retyped: green
      .filter((c) => blueByName.has(c.name) && blueByName.get(c.name)!.type !== c.type)
      .map((c) => ({ name: c.name, from: blueByName.get(c.name)!.type, to: c.type })),
    reordered: common(blue, greenByName).join('\u0000') !== common(green, blueByName).join('\u0000')
  }
}

export const schemaChanged = (s: SchemaChange): boolean =>
  s.added.length + s.removed.length + s.retyped.length > 0 || s.reordered

/** The key's columns as each side names them (case-insensitively), or why there is no key. */
function resolveKey(key: DiffKey, blue: Column[], green: Column[]): string[] | string {
  const find = (list: Column[], name: string) =>
    list.find((c) => c.name === name) ??
    list.find((c) => c.name.toLowerCase() === name.toLowerCase())
  const resolved: string[] = []
  for (const name of key.columns) {
    const b = find(blue, name)
    const g = find(green, name)
    if (!b || !g || b.name !== g.name)
      return `key column "${name}" (${key.source}) is not on both sides`
    resolved.push(b.name)
  }
  return resolved
}

/** A column on both sides; a retyped one is compared as text. */
interface SharedColumn {
  name: string
  retyped: boolean
}

function sharedColumns(blue: Column[], green: Column[]): SharedColumn[] {
  const greenTypes = new Map(green.map((c) => [c.name, c.type]))
  return blue
    .filter((c) => greenTypes.has(c.name))
    .map((c) => ({ name: c.name, retyped: greenTypes.get(c.name) !== c.type }))
}

/** A column as compared: retyped ones as text, so the comparison is defined on both sides. */
const compared = (alias: string, column: SharedColumn): string =>
  `${alias}.${quoteIdent(column.name)}${column.retyped ? '::text' : ''}`

const differs = (column: SharedColumn): string =>
  `${compared('b', column)} is distinct from ${compared('g', column)}`

const count = (value: unknown): number => Number(value ?? 0)

function fullJoin(blue: Relation, green: Relation, key: SharedColumn[]): string {
  const side = (r: Relation) => `(select true as ${PRESENT}, * from ${qualified(r)})`
  const on = key.map((k) => `${compared('b', k)} = ${compared('g', k)}`).join(' and ')
  return `${side(blue)} as b full outer join ${side(green)} as g on ${on}`
}

const both = `b.${PRESENT} and g.${PRESENT}`

async function keyDiff(
  sql: Sql,
  pair: { blue: Relation; green: Relation },
  key: DiffKey,
  keyColumns: SharedColumn[],
  others: SharedColumn[]
): Promise<KeyDiff> {
  const anyDiffers = others.length > 0 ? others.map(differs).join(' or ') : 'false'
  const perColumn = others.map(
    (c, i) => `count(*) filter (where ${both} and ${differs(c)}) as c${i}`
  )
  const [row] = await sql.query<Record<string, unknown>>(
    `select count(*) filter (where g.${PRESENT} is null) as only_blue,
            count(*) filter (where b.${PRESENT} is null) as only_green,
            count(*) filter (where ${both} and (${anyDiffers})) as changed
            ${perColumn.map((c) => `, ${c}`).join('')}
     from ${fullJoin(pair.blue, pair.green, keyColumns)}`
  )
  const changedColumns: Record<string, number> = {}
  others.forEach((c, i) => {
    if (count(row?.[`c${i}`]) > 0) changedColumns[c.name] = count(row?.[`c${i}`])
  })
  return {
    columns: keyColumns.map((k) => k.name),
    source: key.source,
    onlyBlue: count(row?.only_blue),
    onlyGreen: count(row?.only_green),
    changed: count(row?.changed),
    changedColumns
  }
}

async function rowSetDiff(
  sql: Sql,
  pair: { blue: Relation; green: Relation },
  columns: SharedColumn[]
): Promise<RowSetDiff> {
  const list = (r: Relation) =>
    `select ${columns.map((c) => `${quoteIdent(c.name)}${c.retyped ? '::text' : ''}`).join(', ')} from ${qualified(r)}`
  const [row] = await sql.query<{ only_blue: unknown; only_green: unknown }>(
    `select (select count(*) from (${list(pair.blue)} except all ${list(pair.green)}) as x) as only_blue,
            (select count(*) from (${list(pair.green)} except all ${list(pair.blue)}) as y) as only_green`
  )
  return { onlyBlue: count(row?.only_blue), onlyGreen: count(row?.only_green) }
}

/** The sample's queries cast every value to text. */
type TextRow = Record<string, string | null>

function sampleValue(column: string, text: string | null | undefined): string | null {
  if (text === null || text === undefined) return null
  if (SECRET_LIKE.test(column)) return '[redacted]'
  return text.length > SAMPLE_VALUE_CHARS ? `${text.slice(0, SAMPLE_VALUE_CHARS - 1)}…` : text
}

function cleanSample(rows: TextRow[]): SampleRow[] {
  return rows.map((row) =>
    Object.fromEntries(
      Object.entries(row).map(([name, value]) => [
        name,
        sampleValue(name.replace(/ \((blue|green)\)$/, ''), value)
      ])
    )
  )
}

/** A few differing rows on the key: the key, and each differing column on both sides. */
async function keySample(
  sql: Sql,
  pair: { blue: Relation; green: Relation },
  keyColumns: SharedColumn[],
  diff: KeyDiff,
  others: SharedColumn[]
): Promise<SampleRow[]> {
  const shown = others.filter((c) => diff.changedColumns[c.name]).slice(0, SAMPLE_COLUMNS)
  const keys = keyColumns.map(
    (k) => `coalesce(${compared('b', k)}, ${compared('g', k)})::text as ${quoteIdent(k.name)}`
  )
  const values = shown.flatMap((c) => [
    `b.${quoteIdent(c.name)}::text as ${quoteIdent(`${c.name} (blue)`)}`,
    `g.${quoteIdent(c.name)}::text as ${quoteIdent(`${c.name} (green)`)}`
  ])
  const anyShownDiffers = shown.length > 0 ? shown.map(differs).join(' or ') : 'false'
  const rows = await sql.query<TextRow>(
    `select case when g.${PRESENT} is null then ${quoteLiteral('only in blue')}
                 when b.${PRESENT} is null then ${quoteLiteral('only in green')}
                 else ${quoteLiteral('changed')} end as diff,
            ${[...keys, ...values].join(', ')}
     from ${fullJoin(pair.blue, pair.green, keyColumns)}
     where g.${PRESENT} is null or b.${PRESENT} is null or (${anyShownDiffers})
     order by ${keyColumns.map((k) => `coalesce(${compared('b', k)}, ${compared('g', k)})`).join(', ')}
     limit ${SAMPLE_ROWS}`
  )
  return cleanSample(rows)
}

async function rowSetSample(
  sql: Sql,
  pair: { blue: Relation; green: Relation },
  columns: SharedColumn[]
): Promise<SampleRow[]> {
  const shown = columns.slice(0, SAMPLE_COLUMNS * 2)
  const list = shown.map((c) => `${quoteIdent(c.name)}::text as ${quoteIdent(c.name)}`).join(', ')
  const all = columns.map((c) => `${quoteIdent(c.name)}${c.retyped ? '::text' : ''}`).join(', ')
  const only = (from: Relation, other: Relation, label: string) =>
    `select ${quoteLiteral(label)} as diff, ${list} from (select ${all} from ${qualified(from)} except all select ${all} from ${qualified(other)}) as d`
  const rows = await sql.query<TextRow>(
    `select * from (${only(pair.blue, pair.green, 'only in blue')} union all ${only(pair.green, pair.blue, 'only in green')}) as s limit ${SAMPLE_ROWS}`
  )
  return cleanSample(rows)
}

export interface Sides {
  blue: Column[]
  green: Column[]
}

async function rowCount(sql: Sql, relation: Relation): Promise<number> {
  const [row] = await sql.query<{ rows: unknown }>(
    `select count(*) as rows from ${qualified(relation)}`
  )
  return count(row?.rows)
}

/**
 * Compares one pair whose two relations exist. The first query reads both sides: Materialize
 * fixes a read transaction's objects (those schemas) and its timestamp at its first query. The
 * row counts then read each side alone, at that same timestamp.
 */
export async function compareObject(
  sql: Sql,
  pair: { blue: Relation; green: Relation; key?: DiffKey },
  sides: Sides
): Promise<Pick<ObjectDiff, 'schema' | 'rows' | 'key' | 'rowSet' | 'sample' | 'reason'>> {
  const schema = schemaChange(sides.blue, sides.green)
  const columns = sharedColumns(sides.blue, sides.green)
  const resolved = pair.key ? resolveKey(pair.key, sides.blue, sides.green) : undefined
  const reason = typeof resolved === 'string' ? resolved : undefined
  const counts = async () => ({
    blue: await rowCount(sql, pair.blue),
    green: await rowCount(sql, pair.green)
  })
  if (pair.key && Array.isArray(resolved)) {
    const keyColumns = columns.filter((c) => resolved.includes(c.name))
    const others = columns.filter((c) => !resolved.includes(c.name))
    const key = await keyDiff(sql, pair, pair.key, keyColumns, others)
    const rows = await counts()
    const differing = key.onlyBlue + key.onlyGreen + key.changed
    const sample = differing > 0 ? await keySample(sql, pair, keyColumns, key, others) : []
    return { schema, rows, key, sample }
  }
  if (columns.length === 0) {
    const [both] = await sql.query<{ blue: unknown; green: unknown }>(
      `select (select count(*) from ${qualified(pair.blue)}) as blue,
              (select count(*) from ${qualified(pair.green)}) as green`
    )
    const rows = { blue: count(both?.blue), green: count(both?.green) }
    return { schema, rows, reason: 'no column on both sides' }
  }
  const rowSet = await rowSetDiff(sql, pair, columns)
  const rows = await counts()
  const sample =
    rowSet.onlyBlue + rowSet.onlyGreen > 0 ? await rowSetSample(sql, pair, columns) : []
  return { schema, rows, rowSet, sample, reason }
}

// The data diff: which objects it compares, what it finds, and the settings that bound and gate it.

export type DiffMode = 'off' | 'report' | 'gate'

export interface DiffSettings {
  mode: DiffMode
  /** Most rows, in percent of the production side's, that may differ (added, removed or changed). */
  maxRowChangePercent: number
  allowSchemaChange: boolean
  /** Bound on the whole diff step. */
  timeoutMs: number
  maxObjects: number
  /** Materialize cluster the diff's queries run on; undefined: the mode's default. */
  cluster?: string
  /** Key columns by model name, from the `diff-keys` input. */
  keys: Record<string, string[]>
  /** Compare the models downstream of a change too. */
  downstream: boolean
}

export interface Relation {
  database: string
  schema: string
  name: string
}

export type KeySource = 'diff-keys' | 'unique_key' | 'unique test'

export interface DiffKey {
  columns: string[]
  source: KeySource
}

/** One model to compare: its production relation ("blue") and the new one ("green"). */
export interface DiffPair {
  model: string
  blue: Relation
  green: Relation
  key?: DiffKey
}

export interface Column {
  name: string
  type: string
}

export interface SchemaChange {
  added: Column[]
  removed: Column[]
  retyped: Array<{ name: string; from: string; to: string }>
  /** Columns on both sides, in a different order. */
  reordered: boolean
}

export interface KeyDiff {
  columns: string[]
  source: KeySource
  onlyBlue: number
  onlyGreen: number
  changed: number
  /** Matched rows whose value of a column differs, per column (only columns with differences). */
  changedColumns: Record<string, number>
}

/** Rows on one side and not the other, compared as whole rows of the common columns. */
export interface RowSetDiff {
  onlyBlue: number
  onlyGreen: number
}

export type SampleRow = Record<string, string | null>

export type DiffStatus = 'compared' | 'new' | 'not-compared' | 'error'

export interface ObjectDiff {
  model: string
  blue: string
  green: string
  status: DiffStatus
  /** Why an object was not compared, or the error that stopped its comparison. */
  reason?: string
  schema?: SchemaChange
  rows?: { blue: number; green: number }
  key?: KeyDiff
  rowSet?: RowSetDiff
  /** A few differing rows, secret-like columns redacted. */
  sample?: SampleRow[]
  /** Why this object breaks the gate; empty when it passes. */
  breaches: string[]
}

export interface DiffReport {
  mode: Exclude<DiffMode, 'off'>
  /** How the two sides are named: production and green, or production and the PR. */
  labels: { blue: string; green: string }
  objects: ObjectDiff[]
  timedOut: boolean
  seconds: number
}

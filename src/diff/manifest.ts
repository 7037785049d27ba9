// What the diff needs from a dbt manifest: the models that have a relation, what a deploy
// changes, and each model's key (declared, never guessed from the data).
import { ActionError, errorMessage } from '../errors.js'
import type { DiffKey, Relation } from './model.js'

/** Materializations that leave a relation both sides can be read from. */
const READABLE = new Set([
  'view',
  'materialized_view',
  'materializedview',
  'table',
  'incremental',
  'seed'
])

interface RawNode {
  resource_type?: string
  name?: string
  database?: string | null
  schema?: string
  alias?: string | null
  checksum?: { checksum?: string }
  config?: Record<string, unknown>
  column_name?: string | null
  attached_node?: string | null
  depends_on?: { nodes?: string[] }
  test_metadata?: { name?: string; kwargs?: Record<string, unknown> }
}

export interface ModelFacts {
  id: string
  name: string
  relation: Relation
  /**
   * Its SQL and materialization. Other config is left out: its defaults move between dbt
   * versions, which would mark every model changed after an upgrade.
   */
  fingerprint: string
  uniqueKey?: string[]
}

export interface DiffManifest {
  models: Map<string, ModelFacts>
  /** Single-column `unique` tests, by the model they test. */
  uniqueColumns: Map<string, string[]>
  children: Map<string, string[]>
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_$]*$/

/** `unique_key` as columns: a list, or a string of comma-separated names; expressions are not keys. */
function keyColumns(value: unknown): string[] | undefined {
  const list =
    typeof value === 'string' ? value.split(',') : Array.isArray(value) ? value : undefined
  const columns = list?.map((c) => (typeof c === 'string' ? c.trim() : ''))
  return columns && columns.length > 0 && columns.every((c) => IDENTIFIER.test(c))
    ? columns
    : undefined
}

function modelFacts(id: string, node: RawNode): ModelFacts | undefined {
  const config = node.config ?? {}
  if (node.resource_type !== 'model' && node.resource_type !== 'seed') return undefined
  const materialized = typeof config.materialized === 'string' ? config.materialized : 'view'
  if (config.enabled === false || !READABLE.has(materialized)) return undefined
  if (!node.schema || !node.name) return undefined
  return {
    id,
    name: node.name,
    relation: { database: node.database ?? '', schema: node.schema, name: node.alias || node.name },
    fingerprint: JSON.stringify([node.checksum?.checksum ?? null, materialized]),
    uniqueKey: keyColumns(config.unique_key)
  }
}

/** The model a generic `unique` test on one plain column checks, and that column. */
function uniqueTest(node: RawNode): [string, string] | undefined {
  if (node.resource_type !== 'test' || node.test_metadata?.name !== 'unique') return undefined
  const config = node.config ?? {}
  if (config.enabled === false || config.where) return undefined
  const column = node.column_name ?? node.test_metadata.kwargs?.column_name
  const model = node.attached_node ?? node.depends_on?.nodes?.find((n) => n.startsWith('model.'))
  return typeof column === 'string' && IDENTIFIER.test(column) && model
    ? [model, column]
    : undefined
}

export function readDiffManifest(text: string, source: string): DiffManifest {
  let parsed: { nodes?: Record<string, RawNode>; child_map?: Record<string, string[]> }
  try {
    parsed = JSON.parse(text) as typeof parsed
  } catch (error) {
    throw new ActionError(`${source} is not valid JSON (${errorMessage(error)}).`)
  }
  const models = new Map<string, ModelFacts>()
  const uniqueColumns = new Map<string, string[]>()
  for (const [id, node] of Object.entries(parsed.nodes ?? {})) {
    const facts = modelFacts(id, node)
    if (facts) models.set(id, facts)
    const unique = uniqueTest(node)
    if (unique) uniqueColumns.set(unique[0], [...(uniqueColumns.get(unique[0]) ?? []), unique[1]])
  }
  return { models, uniqueColumns, children: new Map(Object.entries(parsed.child_map ?? {})) }
}

/** Models new in `current` or changed since `previous`, sorted by id. */
export function changedModels(current: DiffManifest, previous?: DiffManifest): string[] {
  return [...current.models.values()]
    .filter((m) => previous?.models.get(m.id)?.fingerprint !== m.fingerprint)
    .map((m) => m.id)
    .sort()
}

/** `ids` and every model downstream of them, sorted by id. */
export function withDownstream(manifest: DiffManifest, ids: string[]): string[] {
  const seen = new Set(ids)
  const queue = [...ids]
  for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
    for (const child of manifest.children.get(id) ?? []) {
      if (manifest.models.has(child) && !seen.has(child)) {
        seen.add(child)
        queue.push(child)
      }
    }
  }
  return [...seen].sort()
}

/**
 * The columns that identify a model's rows: the `diff-keys` input, else its `unique_key`
 * config, else a single-column `unique` test (the first by name when it has several).
 */
export function inferKey(
  manifest: DiffManifest,
  model: ModelFacts,
  overrides: Record<string, string[]>
): DiffKey | undefined {
  const override = overrides[model.name]
  if (override) return { columns: override, source: 'diff-keys' }
  if (model.uniqueKey) return { columns: model.uniqueKey, source: 'unique_key' }
  const tested = [...(manifest.uniqueColumns.get(model.id) ?? [])].sort()
  return tested.length > 0 ? { columns: [tested[0]!], source: 'unique test' } : undefined
}

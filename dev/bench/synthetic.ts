// Synthetic dbt artifacts for P6: a manifest (v12) and run results (v6) of any number of
// nodes, in the shape dbt 1.11 and 1.12 write them (every field of a real node, compact JSON),
// so the action parses, indexes and reports as much as it would for a real project of that
// size. Fully deterministic: no clock, no randomness. Written in chunks, so that 30,000 nodes
// never sit in memory as one object.
import { createHash } from 'node:crypto'
import { closeSync, openSync, writeSync } from 'node:fs'

export const SYNTHETIC_DBT_VERSION = '1.12.0'
const PROJECT = 'bench_shop'
const MANIFEST_SCHEMA = 'https://schemas.getdbt.com/dbt/manifest/v12.json'
const RUN_RESULTS_SCHEMA = 'https://schemas.getdbt.com/dbt/run-results/v6.json'
const GENERATED_AT = '2026-01-01T00:00:00.000000Z'
const CREATED_AT = 1_767_225_600
/** Every BLOCK-th node starts a block: a source, then a seed, then models and their tests. */
const BLOCK = 50
/** About as many macros as dbt-core and dbt-materialize bring (544 in a dbt-materialize project). */
const MACROS = 544

type Kind = 'source' | 'seed' | 'model' | 'test'

export function kindOf(i: number): Kind {
  if (i % BLOCK === 0) return 'source'
  if (i % BLOCK === 1) return 'seed'
  return i % 2 === 0 ? 'model' : 'test'
}

const pad = (i: number): string => String(i).padStart(5, '0')
const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex')

function nameOf(i: number): string {
  const kind = kindOf(i)
  if (kind === 'test') return `not_null_${nameOf(i - 1)}_id`
  return { source: 'src', seed: 'seed', model: 'model' }[kind] + `_${pad(i)}`
}

function idOf(i: number): string {
  const name = nameOf(i)
  switch (kindOf(i)) {
    case 'source':
      return `source.${PROJECT}.raw.${name}`
    case 'test':
      return `test.${PROJECT}.${name}.${sha256(name).slice(0, 10)}`
    default:
      return `${kindOf(i)}.${PROJECT}.${name}`
  }
}

/** Ids are asked for again and again (maps, edges, results): each is made once. */
const ids: string[] = []

export function uniqueIdOf(i: number): string {
  return (ids[i] ??= idOf(i))
}

/** A model reads its block's source, and the model before it in the block. */
function parentsOf(i: number): number[] {
  const kind = kindOf(i)
  if (kind === 'test') return [i - 1]
  if (kind !== 'model') return []
  const source = i - (i % BLOCK)
  return i % BLOCK >= 4 ? [source, i - 2] : [source]
}

const relation = (schema: string, name: string): string => `"materialize"."${schema}"."${name}"`

const docs = { show: true, node_color: null }
const contract = { enforced: false, alias_types: true }

function nodeConfig(materialized: string): Record<string, unknown> {
  return {
    enabled: true,
    alias: null,
    schema: null,
    database: null,
    tags: [],
    meta: {},
    group: null,
    materialized,
    incremental_strategy: null,
    batch_size: null,
    lookback: 1,
    begin: null,
    persist_docs: {},
    'post-hook': [],
    'pre-hook': [],
    quoting: {},
    column_types: {},
    full_refresh: null,
    unique_key: null,
    on_schema_change: 'ignore',
    on_configuration_change: 'apply',
    grants: {},
    packages: [],
    docs,
    contract,
    event_time: null,
    concurrent_batches: null,
    access: 'protected',
    freshness: null,
    cluster: 'analytics',
    indexes: []
  }
}

function column(name: string): Record<string, unknown> {
  return {
    name,
    description: '',
    meta: {},
    data_type: null,
    constraints: [],
    quote: null,
    config: { meta: {}, tags: [] },
    tags: [],
    granularity: null,
    doc_blocks: []
  }
}

/** Fields every node (not source) has, in dbt's order. */
function nodeBase(i: number, schema: string, path: string, checksum: string) {
  const name = nameOf(i)
  return {
    database: 'materialize',
    schema,
    name,
    resource_type: kindOf(i),
    package_name: PROJECT,
    path,
    original_file_path: kindOf(i) === 'seed' ? `seeds/${path}` : `models/${path}`,
    unique_id: uniqueIdOf(i),
    fqn: [PROJECT, 'generated', name],
    alias: name,
    checksum: { name: checksum ? 'sha256' : 'none', checksum }
  }
}

function modelNode(i: number, modified: boolean): Record<string, unknown> {
  const name = nameOf(i)
  const parents = parentsOf(i)
  const refs = parents.filter((p) => kindOf(p) === 'model').map((p) => nameOf(p))
  const raw =
    `select id, amount + ${i} as amount\n` +
    parents
      .map((p) =>
        kindOf(p) === 'source'
          ? `from {{ source('raw', '${nameOf(p)}') }}`
          : `join {{ ref('${nameOf(p)}') }} using (id)`
      )
      .join('\n')
  return {
    ...nodeBase(i, 'analytics', `generated/${name}.sql`, sha256(`${name}:${modified}`)),
    config: nodeConfig(i % 25 === 0 ? 'materialized_view' : 'view'),
    tags: [],
    description: '',
    columns: { id: column('id'), amount: column('amount') },
    meta: {},
    group: null,
    docs,
    patch_path: `${PROJECT}://models/generated/schema.yml`,
    build_path: null,
    unrendered_config: { materialized: 'view' },
    created_at: CREATED_AT + i / 1000,
    relation_name: relation('analytics', name),
    raw_code: raw,
    doc_blocks: [],
    language: 'sql',
    refs: refs.map((ref) => ({ name: ref, package: null, version: null })),
    sources: parents.filter((p) => kindOf(p) === 'source').map((p) => ['raw', nameOf(p)]),
    metrics: [],
    functions: [],
    depends_on: { macros: [], nodes: parents.map(uniqueIdOf) },
    compiled_path: null,
    contract: { ...contract, checksum: null },
    access: 'protected',
    constraints: [],
    version: null,
    latest_version: null,
    deprecation_date: null,
    primary_key: ['id'],
    time_spine: null
  }
}

/** A not_null test of the model before it (a block's odd indexes after its seed). */
function testNode(i: number): Record<string, unknown> {
  const parent = i - 1
  const model = nameOf(parent)
  return {
    ...nodeBase(i, 'analytics_dbt_test__audit', `${nameOf(i)}.sql`, ''),
    config: {
      enabled: true,
      alias: null,
      schema: 'dbt_test__audit',
      database: null,
      tags: [],
      meta: {},
      group: null,
      materialized: 'test',
      severity: 'ERROR',
      store_failures: null,
      store_failures_as: null,
      where: null,
      limit: null,
      fail_calc: 'count(*)',
      warn_if: '!= 0',
      error_if: '!= 0'
    },
    tags: [],
    description: '',
    columns: {},
    meta: {},
    group: null,
    docs,
    patch_path: null,
    build_path: null,
    unrendered_config: {},
    created_at: CREATED_AT + i / 1000,
    relation_name: null,
    raw_code: '{{ test_not_null(**_dbt_generic_test_kwargs) }}',
    doc_blocks: [],
    language: 'sql',
    refs: [{ name: model, package: null, version: null }],
    sources: [],
    metrics: [],
    functions: [],
    depends_on: { macros: ['macro.dbt.test_not_null'], nodes: [uniqueIdOf(parent)] },
    compiled_path: null,
    contract: { ...contract, checksum: null },
    column_name: 'id',
    file_key_name: `models.${model}`,
    attached_node: uniqueIdOf(parent),
    test_metadata: {
      name: 'not_null',
      kwargs: { column_name: 'id', model: `{{ get_where_subquery(ref('${model}')) }}` },
      namespace: null
    }
  }
}

function seedNode(i: number): Record<string, unknown> {
  const name = nameOf(i)
  return {
    ...nodeBase(i, 'analytics_raw', `${name}.csv`, sha256(name)),
    config: { ...nodeConfig('seed'), schema: 'raw', delimiter: ',', quote_columns: null },
    tags: [],
    description: '',
    columns: {},
    meta: {},
    group: null,
    docs,
    patch_path: null,
    build_path: null,
    unrendered_config: { schema: 'raw' },
    created_at: CREATED_AT + i / 1000,
    relation_name: relation('analytics_raw', name),
    raw_code: '',
    doc_blocks: [],
    root_path: '/home/runner/work/analytics/analytics',
    depends_on: { macros: [] }
  }
}

function sourceNode(i: number): Record<string, unknown> {
  const name = nameOf(i)
  const freshness = {
    warn_after: { count: null, period: null },
    error_after: { count: null, period: null },
    filter: null
  }
  return {
    database: 'materialize',
    schema: 'analytics_raw',
    name,
    resource_type: 'source',
    package_name: PROJECT,
    path: 'models/sources.yml',
    original_file_path: 'models/sources.yml',
    unique_id: uniqueIdOf(i),
    fqn: [PROJECT, 'raw', name],
    source_name: 'raw',
    source_description: '',
    loader: '',
    identifier: name,
    quoting: { database: null, schema: null, identifier: null, column: null },
    loaded_at_field: null,
    loaded_at_query: null,
    freshness,
    external: null,
    description: '',
    columns: {},
    meta: {},
    source_meta: {},
    tags: [],
    config: { enabled: true, event_time: null, freshness, meta: {}, tags: [] },
    patch_path: null,
    unrendered_config: {},
    relation_name: relation('analytics_raw', name),
    created_at: CREATED_AT + i / 1000,
    unrendered_database: null,
    unrendered_schema: '{{ target.schema }}_raw',
    doc_blocks: []
  }
}

function nodeOf(i: number, modified: boolean): Record<string, unknown> {
  switch (kindOf(i)) {
    case 'model':
      return modelNode(i, modified)
    case 'test':
      return testNode(i)
    case 'seed':
      return seedNode(i)
    case 'source':
      return sourceNode(i)
  }
}

function macroOf(i: number): [string, Record<string, unknown>] {
  const name = `bench__macro_${String(i).padStart(3, '0')}`
  const sql =
    `{% macro ${name}(relation, sql) -%}\n  {%- set cluster = config.get('cluster', target.cluster) -%}\n` +
    `  create view {{ relation }}\n  {% if cluster %}in cluster {{ cluster }}{% endif %}\n  as {{ sql }};\n{%- endmacro %}\n`.repeat(
      2
    )
  return [
    `macro.dbt_materialize.${name}`,
    {
      name,
      resource_type: 'macro',
      package_name: 'dbt_materialize',
      path: 'macros/adapters.sql',
      original_file_path: 'macros/adapters.sql',
      unique_id: `macro.dbt_materialize.${name}`,
      macro_sql: sql,
      depends_on: { macros: [] },
      description: '',
      meta: {},
      docs,
      patch_path: null,
      arguments: [],
      created_at: CREATED_AT,
      supported_languages: null
    }
  ]
}

/** `"key":value` pairs joined into a JSON object, one chunk per pair. */
function* objectChunks(entries: Iterable<[string, unknown]>): Generator<string> {
  yield '{'
  let first = true
  for (const [key, value] of entries) {
    yield `${first ? '' : ','}${JSON.stringify(key)}:${JSON.stringify(value)}`
    first = false
  }
  yield '}'
}

function* indexes(count: number, keep: (i: number) => boolean): Generator<number> {
  for (let i = 0; i < count; i++) if (keep(i)) yield i
}

function* map<T, R>(items: Iterable<T>, f: (item: T) => R): Generator<R> {
  for (const item of items) yield f(item)
}

function childrenOf(count: number): string[][] {
  const children: string[][] = Array.from({ length: count }, () => [])
  for (let i = 0; i < count; i++) for (const p of parentsOf(i)) children[p]!.push(uniqueIdOf(i))
  return children
}

/**
 * A manifest of `count` nodes and sources. `modifiedEvery`: every so many models have another
 * checksum, as a build after changing them would (the "modified" reason in the report).
 */
function* manifestChunks(count: number, modifiedEvery?: number): Generator<string> {
  const isModified = (i: number): boolean =>
    modifiedEvery !== undefined && Math.floor(i / 2) % modifiedEvery === 0
  const metadata = {
    dbt_schema_version: MANIFEST_SCHEMA,
    dbt_version: SYNTHETIC_DBT_VERSION,
    generated_at: GENERATED_AT,
    invocation_id: '00000000-0000-4000-8000-000000000000',
    invocation_started_at: GENERATED_AT,
    env: {},
    project_name: PROJECT,
    project_id: sha256(PROJECT).slice(0, 32),
    user_id: null,
    send_anonymous_usage_stats: false,
    adapter_type: 'materialize',
    quoting: { database: true, schema: true, identifier: true, column: null },
    run_started_at: GENERATED_AT
  }
  const notSource = (i: number): boolean => kindOf(i) !== 'source'
  const pair = (i: number): [string, unknown] => [uniqueIdOf(i), nodeOf(i, isModified(i))]
  yield `{"metadata":${JSON.stringify(metadata)},"nodes":`
  yield* objectChunks(map(indexes(count, notSource), pair))
  yield ',"sources":'
  yield* objectChunks(
    map(
      indexes(count, (i) => !notSource(i)),
      pair
    )
  )
  yield ',"macros":'
  yield* objectChunks(
    map(
      indexes(MACROS, () => true),
      macroOf
    )
  )
  const empty = ['docs', 'exposures', 'metrics', 'groups', 'selectors', 'disabled']
  yield empty.map((key) => `,"${key}":{}`).join('')
  yield ',"parent_map":'
  yield* objectChunks(
    map(
      indexes(count, () => true),
      (i) => [uniqueIdOf(i), parentsOf(i).map(uniqueIdOf)]
    )
  )
  yield ',"child_map":'
  const children = childrenOf(count)
  yield* objectChunks(
    map(
      indexes(count, () => true),
      (i) => [uniqueIdOf(i), children[i]]
    )
  )
  const tail = ['group_map', 'saved_queries', 'semantic_models', 'unit_tests', 'functions']
  yield `${tail.map((key) => `,"${key}":{}`).join('')}}`
}

const MESSAGES: Record<Exclude<Kind, 'source'>, [string, string | null]> = {
  model: ['success', 'CREATE VIEW'],
  seed: ['success', 'INSERT 3'],
  test: ['pass', null]
}

function resultOf(i: number): Record<string, unknown> {
  const kind = kindOf(i) as Exclude<Kind, 'source'>
  const [status, message] = MESSAGES[kind]
  const at = (ms: number): string => new Date(Date.UTC(2026, 0, 1) + ms).toISOString()
  const node = nodeOf(i, false)
  return {
    status,
    timing: [
      { name: 'compile', started_at: at(i * 10), completed_at: at(i * 10 + 2) },
      { name: 'execute', started_at: at(i * 10 + 2), completed_at: at(i * 10 + 9) }
    ],
    thread_id: `Thread-${(i % 4) + 1} (worker)`,
    execution_time: 0.05 + (i % 7) / 100,
    adapter_response: message ? { _message: message, code: message.split(' ')[0] } : {},
    message,
    failures: kind === 'test' ? 0 : null,
    unique_id: uniqueIdOf(i),
    compiled: true,
    compiled_code: String(node.raw_code).replace(/\{\{[^}]*\}\}/g, '"materialize"."analytics"."x"'),
    relation_name: node.relation_name,
    batch_results: null
  }
}

/** run_results.json of a `dbt build` that ran every node but the sources. */
function* runResultsChunks(count: number): Generator<string> {
  const metadata = {
    dbt_schema_version: RUN_RESULTS_SCHEMA,
    dbt_version: SYNTHETIC_DBT_VERSION,
    generated_at: GENERATED_AT,
    invocation_id: '00000000-0000-4000-8000-000000000000',
    invocation_started_at: GENERATED_AT,
    env: {}
  }
  yield `{"metadata":${JSON.stringify(metadata)},"results":[`
  let first = true
  for (const i of indexes(count, (n) => kindOf(n) !== 'source')) {
    yield `${first ? '' : ','}${JSON.stringify(resultOf(i))}`
    first = false
  }
  yield `],"elapsed_time":${(count / 100).toFixed(2)},"args":${JSON.stringify({ which: 'build', select: ['state:modified+'], defer: true })}}`
}

/** Writes the chunks to `file` in writes of about 1 MB; returns the bytes written. */
function writeChunks(file: string, chunks: Iterable<string>): number {
  const fd = openSync(file, 'w')
  let pending: string[] = []
  let pendingLength = 0
  let bytes = 0
  const flush = (): void => {
    bytes += writeSync(fd, pending.join(''))
    pending = []
    pendingLength = 0
  }
  try {
    for (const chunk of chunks) {
      pending.push(chunk)
      pendingLength += chunk.length
      if (pendingLength >= 1 << 20) flush()
    }
    flush()
  } finally {
    closeSync(fd)
  }
  return bytes
}

export function writeManifest(file: string, count: number, modifiedEvery?: number): number {
  return writeChunks(file, manifestChunks(count, modifiedEvery))
}

export function writeRunResults(file: string, count: number): number {
  return writeChunks(file, runResultsChunks(count))
}

/** The results a build of `count` nodes has: every node but the sources. */
export function resultCount(count: number): number {
  let results = 0
  for (let i = 0; i < count; i++) if (kindOf(i) !== 'source') results++
  return results
}

// Issue 10, test 2: every catalog relation the action (src/) and dbt-materialize read has the
// columns of its upstream definition, in order, and no NULL where upstream declares NOT NULL.
// Upstream is MaterializeInc/materialize; each relation names its file and commit.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import pg from 'pg'
import { startEmulator, type Emulator } from '../../dev/emulator/index.js'

jest.setTimeout(900_000) // a bound for hung tests only: PostgreSQL starts slowly on a loaded machine

const MZ_CATALOG = 'src/catalog/src/builtin/mz_catalog.rs at 003b6d4b14'
const MZ_INTERNAL = 'src/catalog/src/builtin/mz_internal.rs at 941765c68b'
const DEPENDENCIES = 'src/catalog/src/builtin/mz_object_dependencies.rs at 1069612d0a'
// No mz_sinks.from_id upstream: what a sink reads is in mz_object_dependencies.
const STORAGE = 'src/catalog/src/builtin/mz_catalog.rs at 59294b360a'
const SOURCES =
  'make_mz_sources in src/catalog/src/builtin/builtin.rs (stored copy, commit not pinned)'
// Newer than the mz_internal.rs above: its columns as the docs' "Monitor an autoscaling event"
// (doc/user/content, cluster autoscaling) and dbt-materialize 1.9.11's
// macros/utils/auto_scaling_strategy.sql read them.
const AUTO_SCALING = 'doc/user/content cluster autoscaling guide (builtin newer than 941765c68b)'
// Read from the docs' RELATION_SPEC tables (doc/user/content/reference/system-catalog/
// mz_internal.md, stored copy) and, for the strategies, the builtin's nullability.
const REFRESHES = 'doc/user/content system-catalog mz_internal.md (stored copy, commit not pinned)'

// `privileges` is NOT NULL upstream (but in mz_objects) and left unchecked here: the emulator
// keeps PostgreSQL's NULL default ACLs until the RBAC work models privileges.
interface Relation {
  name: string
  upstream: string
  /** Upstream's columns in order; `!` marks NOT NULL. */
  columns: string
}

const RELATIONS: Relation[] = [
  {
    name: 'mz_catalog.mz_databases',
    upstream: MZ_CATALOG,
    columns: 'id!, oid!, name!, owner_id!, privileges'
  },
  {
    name: 'mz_catalog.mz_schemas',
    upstream: MZ_CATALOG,
    columns: 'id!, oid!, database_id, name!, owner_id!, privileges'
  },
  {
    name: 'mz_catalog.mz_clusters',
    upstream: MZ_CATALOG,
    columns:
      'id!, name!, owner_id!, privileges, managed!, size, replication_factor, disk, availability_zones, introspection_debugging, introspection_interval'
  },
  {
    name: 'mz_catalog.mz_cluster_replicas',
    upstream: MZ_CATALOG,
    columns: 'id!, name!, cluster_id!, size, availability_zone, owner_id!, disk'
  },
  {
    name: 'mz_catalog.mz_objects',
    upstream: MZ_CATALOG,
    columns: 'id!, oid!, schema_id!, name!, type!, owner_id!, cluster_id, privileges'
  },
  {
    name: 'mz_catalog.mz_relations',
    upstream: MZ_CATALOG,
    columns: 'id!, oid!, schema_id!, name!, type!, owner_id!, cluster_id, privileges'
  },
  {
    name: 'mz_catalog.mz_materialized_views',
    upstream: MZ_CATALOG,
    columns:
      'id!, oid!, schema_id!, name!, cluster_id!, definition!, owner_id!, privileges, create_sql!, redacted_create_sql!'
  },
  {
    name: 'mz_catalog.mz_indexes',
    upstream: MZ_CATALOG,
    columns: 'id!, oid!, name!, on_id!, cluster_id!, owner_id!, create_sql!, redacted_create_sql!'
  },
  {
    name: 'mz_catalog.mz_index_columns',
    upstream: MZ_CATALOG,
    columns: 'index_id!, index_position!, on_position, on_expression, nullable!'
  },
  {
    name: 'mz_catalog.mz_columns',
    upstream: MZ_CATALOG,
    columns: 'id!, name!, position!, nullable!, type!, default, type_oid!, type_mod!'
  },
  {
    name: 'mz_catalog.mz_sources',
    upstream: SOURCES,
    columns:
      'id!, oid!, schema_id!, name!, type!, connection_id, size, envelope_type, key_format, value_format, cluster_id, owner_id!, privileges, create_sql, redacted_create_sql'
  },
  {
    name: 'mz_catalog.mz_tables',
    upstream: STORAGE,
    columns:
      'id!, oid!, schema_id!, name!, owner_id!, privileges, create_sql, redacted_create_sql, source_id'
  },
  {
    name: 'mz_catalog.mz_sinks',
    upstream: STORAGE,
    columns:
      'id!, oid!, schema_id!, name!, type!, connection_id, size, envelope_type, format, key_format, value_format, cluster_id, owner_id!, create_sql, redacted_create_sql'
  },
  {
    name: 'mz_catalog.mz_connections',
    upstream: STORAGE,
    columns:
      'id!, oid!, schema_id!, name!, type!, owner_id!, privileges, create_sql, redacted_create_sql'
  },
  // mz_roles, mz_role_members and the privilege views: added with the RBAC work.
  {
    name: 'mz_internal.mz_object_dependencies',
    upstream: DEPENDENCIES,
    columns: 'object_id!, referenced_object_id!'
  },
  {
    name: 'mz_internal.mz_subscriptions',
    upstream: MZ_INTERNAL,
    columns: 'id!, session_id!, cluster_id!, created_at!, referenced_object_ids!'
  },
  {
    name: 'mz_internal.mz_comments',
    upstream: MZ_INTERNAL,
    columns: 'id!, object_type!, object_sub_id, comment!'
  },
  {
    name: 'mz_internal.mz_cluster_schedules',
    upstream: MZ_INTERNAL,
    columns: 'cluster_id!, type!, refresh_hydration_time_estimate'
  },
  { name: 'mz_internal.mz_internal_cluster_replicas', upstream: MZ_INTERNAL, columns: 'id!' },
  {
    // Its desc is REPLICA_STATUS_HISTORY_DESC (src/storage-client); the columns are the ones
    // mz_internal.rs comments on, nullability not stated there.
    name: 'mz_internal.mz_cluster_replica_status_history',
    upstream: MZ_INTERNAL,
    columns: 'replica_id, process_id, status, reason, occurred_at'
  },
  {
    name: 'mz_internal.mz_cluster_replica_statuses',
    upstream: MZ_INTERNAL,
    columns: 'replica_id!, process_id!, status!, reason, updated_at!'
  },
  {
    name: 'mz_internal.mz_hydration_statuses',
    upstream: MZ_INTERNAL,
    columns: 'object_id!, replica_id, hydrated'
  },
  {
    name: 'mz_internal.mz_compute_hydration_statuses',
    upstream: MZ_INTERNAL,
    columns: 'object_id!, replica_id!, hydrated!, hydration_time'
  },
  {
    name: 'mz_internal.mz_wallclock_global_lag',
    upstream: MZ_INTERNAL,
    columns: 'object_id!, lag'
  },
  {
    name: 'mz_internal.mz_wallclock_global_lag_recent_history',
    upstream: MZ_INTERNAL,
    columns: 'object_id!, lag, occurred_at!'
  },
  {
    name: 'mz_internal.mz_materialization_lag',
    upstream: MZ_INTERNAL,
    columns: 'object_id!, local_lag, global_lag, slowest_local_input_id!, slowest_global_input_id!'
  },
  {
    name: 'mz_internal.mz_materialized_view_refresh_strategies',
    upstream: REFRESHES,
    columns: 'materialized_view_id!, type!, interval, aligned_to, at'
  },
  {
    name: 'mz_internal.mz_materialized_view_refreshes',
    upstream: REFRESHES,
    columns: 'materialized_view_id!, last_completed_refresh, next_refresh'
  },
  {
    name: 'mz_internal.mz_cluster_auto_scaling_strategies',
    upstream: AUTO_SCALING,
    columns: 'cluster_id!, strategy, state'
  }
]

let emulator: Emulator
let client: pg.Client

beforeAll(async () => {
  emulator = await startEmulator()
  client = new pg.Client({ connectionString: emulator.url() })
  await client.connect()
  // Something in every relation: clusters of each kind, objects across schemas, a comment,
  // an OOM-killed replica, a 0-replica ON REFRESH cluster (a NULL-replica hydration row), and
  // a connection, a source, a table from it and a sink.
  for (const statement of [
    `CREATE CLUSTER serving (SIZE = '25cc', AUTO SCALING STRATEGY = (ON HYDRATION (HYDRATION SIZE = '100cc')))`,
    `CREATE CLUSTER hand_made REPLICAS (r1 (SIZE = '25cc'))`,
    `CREATE CLUSTER nightly (SIZE = '25cc', SCHEDULE = ON REFRESH)`,
    'CREATE SCHEMA shop',
    'CREATE TABLE shop.orders (id int NOT NULL, amount int)',
    'CREATE VIEW shop.big AS SELECT id FROM shop.orders WHERE amount > 10',
    'CREATE MATERIALIZED VIEW shop.totals IN CLUSTER serving AS SELECT sum(amount) AS total FROM shop.orders',
    'CREATE INDEX totals_idx IN CLUSTER serving ON shop.totals (total)',
    "CREATE MATERIALIZED VIEW shop.nightly_totals IN CLUSTER nightly WITH (REFRESH EVERY '1 day') AS SELECT count(*) AS n FROM shop.orders",
    "CREATE MATERIALIZED VIEW shop.hourly_totals IN CLUSTER serving WITH (REFRESH EVERY '1 hour') AS SELECT count(*) AS n FROM shop.orders",
    `COMMENT ON CLUSTER serving IS 'serves'`,
    `COMMENT ON TABLE shop.orders IS 'orders'`,
    `CREATE CONNECTION kafka_conn TO KAFKA (BROKER 'localhost:9092') WITH (VALIDATE = false)`,
    'CREATE SOURCE shop.counter IN CLUSTER serving FROM LOAD GENERATOR COUNTER',
    'CREATE TABLE shop.counts FROM SOURCE shop.counter',
    `CREATE SINK shop.totals_sink IN CLUSTER serving FROM shop.totals INTO KAFKA CONNECTION kafka_conn (TOPIC 'totals') FORMAT JSON ENVELOPE DEBEZIUM`
  ])
    await client.query(statement)
  await emulator.control.failReplicas('hand_made')
})

afterAll(async () => {
  await client?.end()
  await emulator?.stop()
})

const quoted = (name: string): string => `"${name}"`

describe.each(RELATIONS)('$name ($upstream)', ({ name, columns }) => {
  const upstream = columns
    .split(', ')
    .map((c) => ({ name: c.replace('!', ''), notNull: c.endsWith('!') }))

  it("has upstream's columns, in order", async () => {
    const { fields } = await client.query(`SELECT * FROM ${name} LIMIT 0`)
    expect(fields.map((f) => f.name)).toEqual(upstream.map((c) => c.name))
  })

  const notNull = upstream.filter((c) => c.notNull)
  if (notNull.length > 0) {
    it('has no NULL where upstream declares NOT NULL', async () => {
      const counts = notNull.map(
        (c) => `count(*) FILTER (WHERE ${quoted(c.name)} IS NULL) AS ${quoted(c.name)}`
      )
      const { rows } = await client.query<Record<string, string>>(
        `SELECT ${counts.join(', ')} FROM ${name}`
      )
      expect(rows[0]).toEqual(Object.fromEntries(notNull.map((c) => [c.name, '0'])))
    })
  }
})

describe('the scenario reaches the relations', () => {
  it('has rows where the contract checks nullability, and a NULL replica where upstream allows one', async () => {
    const count = async (sql: string): Promise<number> =>
      Number((await client.query<{ n: string }>(`SELECT count(*) AS n FROM (${sql}) x`)).rows[0]!.n)
    for (const { name } of RELATIONS.filter(
      (r) => !/subscriptions|internal_cluster_replicas/.test(r.name)
    ))
      expect([name, await count(`SELECT * FROM ${name}`)]).not.toEqual([name, 0])
    expect(
      await count('SELECT * FROM mz_internal.mz_hydration_statuses WHERE replica_id IS NULL')
    ).toBeGreaterThan(0)
  })
})

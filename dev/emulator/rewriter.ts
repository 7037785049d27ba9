// Rewrites Materialize SQL into PostgreSQL plus calls into the emulator's catalog functions
// (schema mz_emulator, see catalog.ts). One small rule per Materialize statement; anything
// else passes through with two expression fixes. Materialize-only statements the emulator
// does not model are rejected instead of being guessed at.
import { Cursor, MaterializeError } from './cursor.js'
import {
  identifierName,
  isSignificant,
  splitStatements,
  stringValue,
  tokenize,
  type Token
} from './lexer.js'
import type { Admission } from './transactions.js'

/** One statement sent to PostgreSQL. Hidden statements' results are not shown to the client. */
export interface ServerStatement {
  sql: string
  hidden: boolean
  /** Answer this statement's CommandComplete with this tag (even when hidden). */
  tag?: string
}

export interface RewrittenQuery {
  /** The text to send as one Query message. */
  text: string
  statements: ServerStatement[]
  /** False when the text went through untouched and responses can be relayed verbatim. */
  changed: boolean
}

type Rule = (c: Cursor) => ServerStatement[] | undefined

export const lit = (value: string | null | undefined): string =>
  value == null ? 'NULL' : `'${value.replace(/'/g, "''")}'`

const litArray = (values: string[]): string => `ARRAY[${values.map(lit).join(', ')}]::text[]`

/** Helper calls whose own results are hidden behind one CommandComplete `tag`. */
function calls(tag: string, ...sql: string[]): ServerStatement[] {
  return sql.map((s, i) => ({ sql: s, hidden: true, tag: i === sql.length - 1 ? tag : undefined }))
}

const visible = (sql: string): ServerStatement => ({ sql, hidden: false })

// ---------------------------------------------------------------------------------------
// Clusters

interface ClusterOptions {
  size: string | null
  replicationFactor: number | null
  schedule: string | null
  hydrationEstimate: string | null
  /** The strategy as a SQL jsonb expression ('NULL' turns it off); undefined when not given. */
  autoScaling?: string
}

function parseNumber(c: Cursor): number {
  const token = c.peek()
  if (token?.kind !== 'number') c.fail('number')
  c.pos++
  return Number(token.text)
}

function parseSchedule(c: Cursor, options: ClusterOptions): void {
  if (c.acceptWords('manual')) {
    options.schedule = 'manual'
    return
  }
  c.expectWords('on', 'refresh')
  options.schedule = 'on-refresh'
  if (!c.acceptPunct('(')) return
  c.expectWords('hydration', 'time', 'estimate')
  c.acceptPunct('=')
  options.hydrationEstimate = c.string()
  c.expectPunct(')')
}

/** `(ON HYDRATION (HYDRATION SIZE = '…' [, LINGER DURATION = '…']))`, or `()` to turn it off. */
function parseAutoScaling(c: Cursor): string {
  c.expectPunct('(')
  if (c.acceptPunct(')')) return 'NULL'
  c.expectWords('on', 'hydration')
  c.expectPunct('(')
  let size: string | null = null
  let linger: string | null = null
  do {
    if (c.acceptWords('hydration', 'size')) {
      c.acceptPunct('=')
      size = c.string()
    } else if (c.acceptWords('linger', 'duration')) {
      c.acceptPunct('=')
      linger = c.string()
    } else c.fail('HYDRATION SIZE or LINGER DURATION')
  } while (c.acceptPunct(','))
  c.expectPunct(')')
  c.expectPunct(')')
  if (size === null) throw new MaterializeError('42601', 'HYDRATION SIZE option is required')
  return `mz_emulator.auto_scaling_strategy(${lit(size)}, ${lit(linger)})`
}

function parseClusterOption(c: Cursor, options: ClusterOptions): void {
  if (c.acceptWords('auto', 'scaling', 'strategy')) {
    c.acceptPunct('=')
    options.autoScaling = parseAutoScaling(c)
  } else if (c.acceptWords('size')) {
    c.acceptPunct('=')
    options.size = c.string()
  } else if (c.acceptWords('replication', 'factor')) {
    c.acceptPunct('=')
    options.replicationFactor = parseNumber(c)
  } else if (c.acceptWords('schedule')) {
    c.acceptPunct('=')
    parseSchedule(c, options)
  } else {
    throw new MaterializeError(
      '0A000',
      `cluster option ${c.peek()?.text ?? ''} is not supported by the Materialize emulator`
    )
  }
}

function parseClusterOptions(c: Cursor): ClusterOptions {
  const options: ClusterOptions = {
    size: null,
    replicationFactor: null,
    schedule: null,
    hydrationEstimate: null
  }
  c.expectPunct('(')
  do parseClusterOption(c, options)
  while (c.acceptPunct(','))
  c.expectPunct(')')
  return options
}

interface ReplicaSpec {
  name: string
  size: string | null
  zone: string | null
}

function parseReplica(c: Cursor): ReplicaSpec {
  const replica: ReplicaSpec = { name: c.identifier(), size: null, zone: null }
  c.expectPunct('(')
  do {
    if (c.acceptWords('size')) {
      c.acceptPunct('=')
      replica.size = c.string()
    } else if (c.acceptWords('availability', 'zone')) {
      c.acceptPunct('=')
      replica.zone = c.string()
    } else c.fail('SIZE or AVAILABILITY ZONE')
  } while (c.acceptPunct(','))
  c.expectPunct(')')
  return replica
}

function createUnmanagedCluster(c: Cursor, name: string): ServerStatement[] {
  const replicas: ReplicaSpec[] = []
  c.expectPunct('(')
  if (!c.atPunct(')')) {
    do replicas.push(parseReplica(c))
    while (c.acceptPunct(','))
  }
  c.expectPunct(')')
  c.expectEnd()
  return calls(
    'CREATE CLUSTER',
    `SELECT mz_emulator.create_cluster(${lit(name)}, false, NULL, NULL, NULL, NULL)`,
    ...replicas.map(
      (r) =>
        `SELECT mz_emulator.add_replica(${lit(name)}, ${lit(r.name)}, ${lit(r.size)}, ${lit(r.zone)})`
    )
  )
}

const createCluster: Rule = (c) => {
  if (!c.acceptWords('create', 'cluster')) return undefined
  if (c.atWords('replica')) return unsupported('CREATE CLUSTER REPLICA')
  const name = c.identifier()
  if (c.acceptWords('replicas')) return createUnmanagedCluster(c, name)
  const o = parseClusterOptions(c)
  c.expectEnd()
  if (o.size === null) throw new MaterializeError('42601', 'SIZE option is required')
  const factor = o.replicationFactor ?? 'NULL'
  const args = [lit(name), 'true', lit(o.size), factor, lit(o.schedule), lit(o.hydrationEstimate)]
  if (o.autoScaling !== undefined) args.push(o.autoScaling)
  return calls('CREATE CLUSTER', `SELECT mz_emulator.create_cluster(${args.join(', ')})`)
}

const dropCluster: Rule = (c) => {
  if (!c.acceptWords('drop', 'cluster')) return undefined
  if (c.atWords('replica')) return unsupported('DROP CLUSTER REPLICA')
  const ifExists = c.acceptWords('if', 'exists')
  const names = c.identifierList()
  const cascade = c.acceptWords('cascade')
  if (!cascade) c.acceptWords('restrict')
  c.expectEnd()
  return calls(
    'DROP CLUSTER',
    ...names.map((n) => `SELECT mz_emulator.drop_cluster(${lit(n)}, ${ifExists}, ${cascade})`)
  )
}

const alterCluster: Rule = (c) => {
  if (!c.acceptWords('alter', 'cluster')) return undefined
  const name = c.identifier()
  if (c.acceptWords('swap', 'with')) {
    const other = c.identifier()
    c.expectEnd()
    return calls('ALTER CLUSTER', `SELECT mz_emulator.swap_clusters(${lit(name)}, ${lit(other)})`)
  }
  if (c.acceptWords('set')) {
    const { size, schedule, hydrationEstimate, replicationFactor, autoScaling } =
      parseClusterOptions(c)
    c.expectEnd()
    if (size !== null || (replicationFactor === null && !autoScaling && schedule === null)) {
      return unsupported(
        'ALTER CLUSTER … SET with options other than REPLICATION FACTOR, SCHEDULE and AUTO SCALING STRATEGY'
      )
    }
    // Only the cluster's owner may alter it (Materialize's ownership rule).
    const sql = [`SELECT mz_emulator.require_cluster_owners(${litArray([name])})`]
    if (schedule !== null)
      sql.push(
        `SELECT mz_emulator.set_schedule(${lit(name)}, ${lit(schedule)}, ${lit(hydrationEstimate)})`
      )
    if (replicationFactor !== null)
      sql.push(`SELECT mz_emulator.set_replicas(${lit(name)}, ${replicationFactor})`)
    if (autoScaling) sql.push(`SELECT mz_emulator.set_auto_scaling(${lit(name)}, ${autoScaling})`)
    return calls('ALTER CLUSTER', ...sql)
  }
  if (c.acceptWords('reset')) {
    c.expectPunct('(')
    c.expectWords('auto', 'scaling', 'strategy')
    c.expectPunct(')')
    c.expectEnd()
    return calls(
      'ALTER CLUSTER',
      `SELECT mz_emulator.require_cluster_owners(${litArray([name])})`,
      `SELECT mz_emulator.set_auto_scaling(${lit(name)}, NULL)`
    )
  }
  if (c.acceptWords('owner', 'to')) {
    const owner = c.identifier()
    c.expectEnd()
    return calls(
      'ALTER CLUSTER',
      `SELECT mz_emulator.alter_cluster_owner(${lit(name)}, ${lit(owner)})`
    )
  }
  return unsupported('this form of ALTER CLUSTER')
}

const commentOnCluster: Rule = (c) => {
  if (!c.acceptWords('comment', 'on', 'cluster')) return undefined
  const name = c.identifier()
  c.expectWords('is')
  const comment = c.acceptWords('null') ? null : c.string()
  c.expectEnd()
  return calls('COMMENT', `SELECT mz_emulator.comment_on_cluster(${lit(name)}, ${lit(comment)})`)
}

function privilegeList(c: Cursor): string[] {
  const privileges: string[] = []
  do {
    const word = c.identifier().toUpperCase()
    if (word === 'ALL') c.acceptWords('privileges')
    privileges.push(word)
  } while (c.acceptPunct(','))
  return privileges
}

const grantOnCluster: Rule = (c) => {
  const isGrant = c.atWords('grant')
  if (!isGrant && !c.atWords('revoke')) return undefined
  const onCluster = c.tokens.findIndex((t, i) => i > 0 && /^cluster$/i.test(t.text))
  if (onCluster < 0 || !/^on$/i.test(c.tokens[onCluster - 1]?.text ?? '')) return undefined
  c.pos++
  const privileges = privilegeList(c)
  c.expectWords('on', 'cluster')
  const clusters = c.identifierList()
  c.expectWords(isGrant ? 'to' : 'from')
  const roles = c.identifierList()
  c.expectEnd()
  const tag = isGrant ? 'GRANT' : 'REVOKE'
  return calls(
    tag,
    ...clusters.map(
      (cl) =>
        `SELECT mz_emulator.grant_on_cluster(${lit(cl)}, ${litArray(privileges)}, ${litArray(roles)}, ${isGrant})`
    )
  )
}

// ---------------------------------------------------------------------------------------
// Roles and privileges (see catalog.ts ROLE_HELPERS)

const roleName = (name: string): string =>
  name === 'public' ? 'PUBLIC' : `"${name.replace(/"/g, '""')}"`

/** `GRANT|REVOKE <privileges> ON SYSTEM|DATABASE … TO|FROM <roles>`; other targets pass through. */
const grantOnSystemOrDatabase: Rule = (c) => {
  const isGrant = c.acceptWords('grant')
  if (!isGrant && !c.acceptWords('revoke')) return undefined
  const privileges = privilegeList(c)
  if (!c.acceptWords('on')) return undefined // GRANT role TO member: plain PostgreSQL
  const onSystem = c.acceptWords('system')
  if (!onSystem && !c.acceptWords('database')) return undefined
  const databases = onSystem ? [] : c.identifierList()
  c.expectWords(isGrant ? 'to' : 'from')
  const roles = c.identifierList()
  c.expectEnd()
  const tag = isGrant ? 'GRANT' : 'REVOKE'
  if (onSystem) {
    const args = `${litArray(privileges)}, ${litArray(roles)}, ${isGrant}`
    return calls(tag, `SELECT mz_emulator.grant_system(${args})`)
  }
  // A Materialize database's USAGE is PostgreSQL's CONNECT.
  const pgPrivileges = privileges.map((p) => (p === 'USAGE' ? 'CONNECT' : p)).join(', ')
  const targets = databases.map(roleName).join(', ')
  const sql = `${tag} ${pgPrivileges} ON DATABASE ${targets} ${isGrant ? 'TO' : 'FROM'} ${roles.map(roleName).join(', ')}`
  return [{ sql, hidden: false }]
}

/** FOR ALL ROLES (superusers only upstream) has no PostgreSQL form; FOR ROLE passes through. */
const alterDefaultPrivileges: Rule = (c) => {
  if (!c.acceptWords('alter', 'default', 'privileges')) return undefined
  if (!c.acceptWords('for', 'all', 'roles')) return undefined
  const action = 'ALTER DEFAULT PRIVILEGES FOR ALL ROLES'
  return calls(
    'ALTER DEFAULT PRIVILEGES',
    `SELECT mz_emulator.require_superuser(${lit(action)})`,
    rejection(
      new MaterializeError('0A000', `${action} is not supported by the Materialize emulator`)
    ).sql
  )
}

// ---------------------------------------------------------------------------------------
// Schemas and session

const swapSchemas: Rule = (c) => {
  if (!c.acceptWords('alter', 'schema')) return undefined
  const name = c.qualifiedName().parts.at(-1)!
  if (!c.acceptWords('swap', 'with')) return undefined // RENAME, OWNER TO: plain PostgreSQL
  const other = c.identifier()
  c.expectEnd()
  return calls('ALTER SCHEMA', `SELECT mz_emulator.swap_schemas(${lit(name)}, ${lit(other)})`)
}

function settingValue(c: Cursor): string | null {
  if (c.acceptWords('default')) return null
  const token = c.peek()
  if (token?.kind === 'string') return c.string()
  return c.identifier()
}

/** `SET cluster = x` and friends map to the custom setting `mz_emulator.cluster`. */
const setCluster: Rule = (c) => {
  if (c.acceptWords('show', 'cluster')) {
    c.expectEnd()
    return [visible(`SELECT current_setting('mz_emulator.cluster') AS cluster`)]
  }
  if (c.acceptWords('reset', 'cluster')) {
    c.expectEnd()
    return [visible('RESET mz_emulator.cluster')]
  }
  if (!c.acceptWords('set')) return undefined
  const scope = c.acceptWords('local') ? 'LOCAL ' : c.acceptWords('session') ? 'SESSION ' : ''
  if (!c.acceptWords('cluster')) return undefined
  if (!c.acceptPunct('=')) c.expectWords('to')
  const value = settingValue(c)
  c.expectEnd()
  const target = value === null ? 'DEFAULT' : lit(value)
  return [visible(`SET ${scope}mz_emulator.cluster TO ${target}`)]
}

/**
 * Materialize has no SET ROLE (MaterializeInc/materialize#19165): its parser wants `=` or TO
 * after a variable name, and `role` is no session variable. PostgreSQL would switch roles, so
 * dbt's `set role x` (a profile's `role:`) must fail here as it does on Materialize.
 */
const rejectSetRole: Rule = (c) => {
  if (!c.acceptWords('set')) return undefined
  if (!c.acceptWords('local')) c.acceptWords('session')
  if (!c.acceptWords('role')) return undefined
  if (c.acceptPunct('=') || c.acceptWords('to'))
    throw new MaterializeError('42704', 'unrecognized configuration parameter "role"')
  const next = c.peek()
  const found = !next
    ? 'EOF'
    : next.kind === 'string'
      ? `string "${stringValue(next)}"`
      : `identifier "${identifierName(next)}"`
  throw new MaterializeError('42601', `Expected equals sign or TO, found ${found}`)
}

// ---------------------------------------------------------------------------------------
// Materialized views and indexes

function optionalInCluster(c: Cursor): string | null {
  return c.acceptWords('in', 'cluster') ? c.identifier() : null
}

const createMaterializedView: Rule = (c) => {
  if (!c.acceptWords('create')) return undefined
  const orReplace = c.acceptWords('or', 'replace')
  if (!c.acceptWords('materialized', 'view')) return undefined
  const ifNotExists = c.acceptWords('if', 'not', 'exists')
  const name = c.qualifiedName().text
  const columns = c.atPunct('(') ? `(${c.parenthesized()}) ` : ''
  const cluster = optionalInCluster(c)
  const refresh = c.acceptWords('with') ? refreshOptions(new Cursor(c.parenthesized())) : null
  if (!c.atWords('as')) c.fail('AS')
  const body = rewriteExpressions(c.rest())
  const create = `CREATE MATERIALIZED VIEW ${ifNotExists ? 'IF NOT EXISTS ' : ''}${name} ${columns}${body}`
  const bind = `SELECT mz_emulator.bind_cluster(${lit(name)}, ${lit(cluster)})`
  const replace = orReplace
    ? [{ sql: `DROP MATERIALIZED VIEW IF EXISTS ${name}`, hidden: true }]
    : []
  const tagged = { sql: create, hidden: false, tag: 'CREATE MATERIALIZED VIEW' }
  const schedule = refresh
    ? [
        {
          sql: `SELECT mz_emulator.set_refresh(${lit(name)}, ${lit(refresh.every)}, ${lit(refresh.alignedTo)}, ${refresh.atCreation})`,
          hidden: true
        }
      ]
    : []
  return [...replace, tagged, { sql: bind, hidden: true }, ...schedule]
}

function skipOption(c: Cursor): void {
  while (!c.done() && !c.atPunct(',')) {
    if (c.atPunct('(')) c.parenthesized()
    else c.pos++
  }
}

interface RefreshOptions {
  every: string | null
  alignedTo: string | null
  atCreation: boolean
}

/**
 * A materialized view's WITH options: REFRESH EVERY '<interval>' [ALIGNED TO '<time>'],
 * REFRESH AT CREATION and REFRESH ON COMMIT; others (ASSERT NOT NULL, RETAIN HISTORY) have no
 * meaning here. Null when no REFRESH option makes it other than ON COMMIT.
 */
function refreshOptions(c: Cursor): RefreshOptions | null {
  const options: RefreshOptions = { every: null, alignedTo: null, atCreation: false }
  while (!c.done()) {
    if (c.acceptWords('refresh', 'every')) {
      options.every = c.string()
      if (c.acceptWords('aligned', 'to')) options.alignedTo = c.string()
    } else if (c.acceptWords('refresh', 'at', 'creation')) options.atCreation = true
    else if (c.acceptWords('refresh', 'at')) unsupported('REFRESH AT <time>')
    else if (!c.acceptWords('refresh', 'on', 'commit')) skipOption(c)
    if (!c.done()) c.expectPunct(',')
  }
  return options.every || options.atCreation ? options : null
}

const createIndex: Rule = (c) => {
  if (!c.acceptWords('create')) return undefined
  const isDefault = c.acceptWords('default')
  if (!c.acceptWords('index')) return undefined
  const ifNotExists = c.acceptWords('if', 'not', 'exists')
  const name = c.atWords('in', 'cluster') || c.atWords('on') ? null : c.identifier()
  const cluster = optionalInCluster(c)
  c.expectWords('on')
  const relation = c.qualifiedName().text
  c.acceptWords('using', 'arrangement')
  const columns = c.atPunct('(') ? c.parenthesized().trim() : null
  if (c.acceptWords('with')) c.parenthesized()
  c.expectEnd()
  const args = [lit(name), lit(relation), lit(cluster), isDefault, lit(columns), ifNotExists]
  return calls('CREATE INDEX', `SELECT mz_emulator.create_index(${args.join(', ')})`)
}

const dropIndex: Rule = (c) => {
  if (!c.acceptWords('drop', 'index')) return undefined
  const ifExists = c.acceptWords('if', 'exists')
  const names = [c.qualifiedName().parts]
  while (c.acceptPunct(',')) names.push(c.qualifiedName().parts)
  if (!c.acceptWords('cascade')) c.acceptWords('restrict')
  c.expectEnd()
  return calls(
    'DROP INDEX',
    ...names.map((parts) => `SELECT mz_emulator.drop_index(${litArray(parts)}, ${ifExists})`)
  )
}

// ---------------------------------------------------------------------------------------
// Connections, sources, tables from sources and sinks (catalog.ts, STORAGE_ITEMS)

/** The original text of the statement from token `from` on, for create_sql. */
const textFrom = (c: Cursor, from: number): string => c.sql.slice(c.tokens[from]!.start).trim()

/** The string literals after BROKER / BROKERS in a Kafka connection's options. */
function brokerList(options: string): string[] {
  const c = new Cursor(options)
  const brokers: string[] = []
  while (!c.done()) {
    if (c.acceptWords('broker')) {
      c.acceptPunct('=')
      brokers.push(c.string())
    } else if (c.acceptWords('brokers')) {
      c.acceptPunct('=')
      c.expectPunct('(')
      do brokers.push(c.string())
      while (c.acceptPunct(','))
      c.expectPunct(')')
    } else c.pos++
  }
  return brokers
}

const createConnection: Rule = (c) => {
  if (!c.acceptWords('create', 'connection')) return undefined
  const ifNotExists = c.acceptWords('if', 'not', 'exists')
  const name = c.qualifiedName().text
  c.expectWords('to')
  let type: string
  let brokers: string[] = []
  if (c.acceptWords('kafka')) {
    type = 'kafka'
    brokers = brokerList(c.parenthesized())
  } else if (c.acceptWords('confluent', 'schema', 'registry')) {
    type = 'confluent-schema-registry'
    c.parenthesized()
  } else return unsupported('CREATE CONNECTION other than TO KAFKA or TO CONFLUENT SCHEMA REGISTRY')
  if (c.acceptWords('with')) c.parenthesized() // VALIDATE: nothing is dialled anyway
  c.expectEnd()
  const args = [lit(name), lit(type), litArray(brokers), ifNotExists, lit(c.sql.trim())]
  return calls('CREATE CONNECTION', `SELECT mz_emulator.create_connection(${args.join(', ')})`)
}

const createSource: Rule = (c) => {
  if (!c.acceptWords('create', 'source')) return undefined
  const ifNotExists = c.acceptWords('if', 'not', 'exists')
  const name = c.qualifiedName().text
  const cluster = optionalInCluster(c)
  c.expectWords('from')
  if (!c.acceptWords('load', 'generator')) {
    return unsupported('CREATE SOURCE other than FROM LOAD GENERATOR COUNTER or AUCTION')
  }
  const generator = c.identifier().toLowerCase()
  if (generator !== 'counter' && generator !== 'auction') {
    return unsupported(`LOAD GENERATOR ${generator.toUpperCase()}`)
  }
  if (c.atPunct('(')) c.parenthesized() // TICK INTERVAL, UP TO, …
  const allTables = c.acceptWords('for', 'all', 'tables')
  if (c.atWords('for')) return unsupported('CREATE SOURCE … FOR TABLES/SCHEMAS')
  if (c.acceptWords('expose', 'progress', 'as')) c.qualifiedName()
  if (c.acceptWords('with')) c.parenthesized()
  c.expectEnd()
  const args = [lit(name), lit(cluster), lit(generator), allTables, ifNotExists, lit(c.sql.trim())]
  return calls('CREATE SOURCE', `SELECT mz_emulator.create_load_generator(${args.join(', ')})`)
}

const createTableFromSource: Rule = (c) => {
  if (!c.acceptWords('create', 'table')) return undefined
  const name = c.qualifiedName().text
  if (!c.acceptWords('from', 'source')) return undefined // plain CREATE TABLE: PostgreSQL's
  const source = c.qualifiedName().text
  let reference: string | null = null
  if (c.atPunct('(')) {
    const options = new Cursor(c.parenthesized())
    options.expectWords('reference')
    options.acceptPunct('=')
    reference = options.qualifiedName().parts.at(-1)!
  }
  if (c.acceptWords('with')) c.parenthesized()
  c.expectEnd()
  const args = [lit(name), lit(source), lit(reference), lit(c.sql.trim())]
  return calls('CREATE TABLE', `SELECT mz_emulator.create_table_from_source(${args.join(', ')})`)
}

interface SinkFormat {
  key: string | null
  value: string | null
  registry: string | null
}

/** `JSON`, `AVRO USING CONFLUENT SCHEMA REGISTRY CONNECTION c [(…)]`, `TEXT`, `BYTES`. */
function parseFormat(c: Cursor, format: SinkFormat): string {
  const name = c.identifier().toLowerCase()
  if (c.acceptWords('using', 'confluent', 'schema', 'registry', 'connection')) {
    format.registry = c.qualifiedName().text
    if (c.atPunct('(')) c.parenthesized()
  }
  return name
}

function parseSinkFormat(c: Cursor): SinkFormat {
  const format: SinkFormat = { key: null, value: null, registry: null }
  if (c.acceptWords('format')) {
    format.value = parseFormat(c, format)
  } else if (c.acceptWords('key', 'format')) {
    format.key = parseFormat(c, format)
    c.expectWords('value', 'format')
    format.value = parseFormat(c, format)
  }
  return format
}

/** The TOPIC option of a Kafka sink's connection options. */
function topicOf(options: string): string {
  const c = new Cursor(options)
  while (!c.done() && !c.atWords('topic')) c.pos++
  c.expectWords('topic')
  c.acceptPunct('=')
  return c.string()
}

const createSink: Rule = (c) => {
  if (!c.acceptWords('create', 'sink')) return undefined
  const ifNotExists = c.acceptWords('if', 'not', 'exists')
  const name = c.qualifiedName().text
  const cluster = optionalInCluster(c)
  c.expectWords('from')
  const relation = c.qualifiedName().text
  if (!c.acceptWords('into', 'kafka', 'connection'))
    return unsupported('CREATE SINK other than INTO KAFKA')
  const connection = c.qualifiedName().text
  const tail = c.pos
  const topic = topicOf(c.parenthesized())
  const key = c.acceptWords('key')
    ? c
        .parenthesized()
        .split(',')
        .map((k) => k.trim())
    : []
  c.acceptWords('not', 'enforced')
  if (c.acceptWords('headers')) c.identifier()
  const format = parseSinkFormat(c)
  const envelope = c.acceptWords('envelope') ? c.identifier().toLowerCase() : null
  if (c.acceptWords('with')) c.parenthesized()
  c.expectEnd()
  const args = [
    lit(name),
    lit(cluster),
    lit(relation),
    lit(connection),
    lit(format.registry),
    lit(topic),
    litArray(key.map((k) => k.replace(/^"|"$/g, ''))),
    lit(format.key),
    lit(format.value),
    lit(envelope),
    ifNotExists,
    lit(textFrom(c, tail))
  ]
  return calls('CREATE SINK', `SELECT mz_emulator.create_sink(${args.join(', ')})`)
}

const alterSink: Rule = (c) => {
  if (!c.acceptWords('alter', 'sink')) return undefined
  const name = c.qualifiedName().text
  if (!c.acceptWords('set', 'from')) return unsupported('ALTER SINK other than SET FROM')
  const relation = c.qualifiedName().text
  c.expectEnd()
  return calls('ALTER SINK', `SELECT mz_emulator.alter_sink_from(${lit(name)}, ${lit(relation)})`)
}

const dropStorageItem: Rule = (c) => {
  if (!c.acceptWords('drop')) return undefined
  const kind = ['sink', 'source', 'connection'].find((k) => c.acceptWords(k))
  if (!kind) return undefined
  const ifExists = c.acceptWords('if', 'exists')
  const names = [c.qualifiedName().text]
  while (c.acceptPunct(',')) names.push(c.qualifiedName().text)
  const cascade = c.acceptWords('cascade')
  if (!cascade) c.acceptWords('restrict')
  c.expectEnd()
  const drop = (n: string): string =>
    `SELECT mz_emulator.drop_item(${lit(kind)}, ${lit(n)}, ${ifExists}, ${cascade})`
  return calls(`DROP ${kind.toUpperCase()}`, ...names.map(drop))
}

// ---------------------------------------------------------------------------------------
// Rejections

function unsupported(what: string): never {
  throw new MaterializeError('0A000', `${what} is not supported by the Materialize emulator`)
}

const MATERIALIZE_ONLY: string[][] = [
  ['create', 'secret'],
  ['create', 'continual', 'task'],
  ['create', 'network', 'policy'],
  ['drop', 'secret'],
  ['alter', 'source'],
  ['alter', 'connection'],
  ['alter', 'secret'],
  ['alter', 'system'],
  ['subscribe'],
  ['validate', 'connection'],
  ['inspect', 'shard'],
  ['execute', 'unit', 'test']
]

const MATERIALIZE_SHOW = new Set(
  'objects sources sinks clusters indexes materialized views tables schemas databases secrets connections roles create columns privileges default types subsources'.split(
    ' '
  )
)
const MATERIALIZE_EXPLAIN = new Set(
  'optimized physical raw decorrelated timestamp plan filter schema'.split(' ')
)

const rejectMaterializeOnly: Rule = (c) => {
  for (const words of MATERIALIZE_ONLY) {
    if (c.atWords(...words)) unsupported(words.join(' ').toUpperCase())
  }
  const second = c.peek(1)?.text.toLowerCase() ?? ''
  if (c.atWords('show') && MATERIALIZE_SHOW.has(second)) unsupported(`SHOW ${second.toUpperCase()}`)
  if (c.atWords('explain') && MATERIALIZE_EXPLAIN.has(second)) unsupported('Materialize EXPLAIN')
  const words = c.tokens.map((t) => t.text.toLowerCase())
  if (words.includes('subscribe')) {
    const at = words.indexOf('subscribe')
    if (at > 0 && words[at - 1] === '(') unsupported('SUBSCRIBE')
  }
  const inCluster = words.findIndex((w, i) => w === 'in' && words[i + 1] === 'cluster')
  if (inCluster >= 0 && c.tokens[inCluster]?.kind === 'word') unsupported('IN CLUSTER here')
  if (c.atWords('create', 'table') && /\bfrom\s+webhook\b/i.test(c.sql)) {
    unsupported('CREATE TABLE … FROM WEBHOOK')
  }
  return undefined
}

// ---------------------------------------------------------------------------------------
// Expression fixes that apply to every statement

function nextSignificant(tokens: Token[], from: number): number {
  let i = from
  while (i < tokens.length && !isSignificant(tokens[i]!)) i++
  return i
}

function matchingParen(tokens: Token[], open: number): number {
  let depth = 0
  for (let i = open; i < tokens.length; i++) {
    const text = tokens[i]!.kind === 'punct' ? tokens[i]!.text : ''
    if (text === '(') depth++
    if (text === ')' && --depth === 0) return i
  }
  return -1
}

const isWord = (t: Token | undefined, word: string): boolean =>
  t?.kind === 'word' && t.text.toLowerCase() === word
const isPunct = (t: Token | undefined, text: string): boolean =>
  t?.kind === 'punct' && t.text === text

/** `current_user()` → `current_user` (a PostgreSQL syntax error otherwise). */
function fixCurrentUserCall(tokens: Token[], i: number): void {
  const open = nextSignificant(tokens, i + 1)
  const close = nextSignificant(tokens, open + 1)
  if (isPunct(tokens[open], '(') && isPunct(tokens[close], ')')) {
    tokens[open] = { ...tokens[open]!, text: '' }
    tokens[close] = { ...tokens[close]!, text: '' }
  }
}

/** `mz_aclexplode(x).*` → `(mz_aclexplode(x)).*`, PostgreSQL's composite-field syntax. */
function fixAclexplodeStar(tokens: Token[], i: number): void {
  let start = i
  const dot = tokens[i - 1]
  if (isPunct(dot, '.') && tokens[i - 2]?.kind === 'word') start = i - 2
  const open = nextSignificant(tokens, i + 1)
  if (!isPunct(tokens[open], '(')) return
  const close = matchingParen(tokens, open)
  const afterDot = nextSignificant(tokens, close + 1)
  if (close < 0 || !isPunct(tokens[afterDot], '.')) return
  if (!isPunct(tokens[nextSignificant(tokens, afterDot + 1)], '*')) return
  tokens[start] = { ...tokens[start]!, text: `(${tokens[start]!.text}` }
  tokens[close] = { ...tokens[close]!, text: '))' }
}

export function rewriteExpressions(sql: string): string {
  const tokens = tokenize(sql)
  for (let i = 0; i < tokens.length; i++) {
    if (isWord(tokens[i], 'current_user')) fixCurrentUserCall(tokens, i)
    if (isWord(tokens[i], 'mz_aclexplode')) fixAclexplodeStar(tokens, i)
  }
  return tokens.map((t) => t.text).join('')
}

// ---------------------------------------------------------------------------------------

const RULES: Rule[] = [
  createCluster,
  dropCluster,
  alterCluster,
  commentOnCluster,
  grantOnCluster,
  grantOnSystemOrDatabase,
  alterDefaultPrivileges,
  swapSchemas,
  setCluster,
  rejectSetRole,
  createMaterializedView,
  createIndex,
  dropIndex,
  createConnection,
  createSource,
  createTableFromSource,
  createSink,
  alterSink,
  dropStorageItem,
  rejectMaterializeOnly
]

/** Rewrites one statement (no trailing semicolon). Throws MaterializeError to reject it. */
export function rewriteStatement(sql: string): ServerStatement[] {
  for (const rule of RULES) {
    const result = rule(new Cursor(sql))
    if (result) return result
  }
  return [visible(rewriteExpressions(sql))]
}

/** The statement PostgreSQL runs in place of a rejected message: it raises the same error. */
export function rejection(error: MaterializeError): ServerStatement {
  return {
    sql: `SELECT mz_emulator.raise_error(${lit(error.sqlstate)}, ${lit(error.message)})`,
    hidden: false
  }
}

/**
 * Rewrites a simple-protocol Query. Like Materialize, a message with one statement the
 * emulator rejects runs none of its statements. A refusal (a statement Materialize refuses in
 * this transaction) runs the statements before it, then fails as Materialize does there. The
 * admission's helpers run, hidden, before their statements.
 */
export function rewriteQuery(text: string, admission?: Admission): RewrittenQuery {
  const refusal = admission?.refusal
  const originals = splitStatements(text).slice(0, refusal?.index)
  const helpers = (i: number): ServerStatement[] =>
    (admission?.before[i] ?? []).map((sql) => ({ sql, hidden: true }))
  let statements: ServerStatement[]
  try {
    statements = originals.flatMap((sql, i) => [...helpers(i), ...rewriteStatement(sql)])
  } catch (error) {
    if (!(error instanceof MaterializeError)) throw error
    return { text: rejection(error).sql, statements: [rejection(error)], changed: true }
  }
  if (refusal) statements.push(rejection(refusal.error))
  const changed =
    refusal !== undefined ||
    statements.length !== originals.length ||
    statements.some((s, i) => s.hidden || s.sql !== originals[i])
  if (!changed) return { text, statements, changed }
  // A newline before each `;` keeps a trailing `--` comment from swallowing it.
  return { text: statements.map((s) => s.sql).join('\n;\n'), statements, changed }
}

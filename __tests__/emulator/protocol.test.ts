// Wire-protocol behaviour through node-postgres: startup, multi-statement messages,
// transactions, the extended protocol, per-connection sessions and disconnects.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import type { EventEmitter } from 'node:events'
import pg from 'pg'
import { MZ_VERSION, startEmulator, type Emulator } from '../../dev/emulator/index.js'

// Generous: starting PostgreSQL and stopping backends is slow on a loaded machine.
jest.setTimeout(900_000) // a bound for hung tests only: runs take minutes on a loaded machine

let emulator: Emulator
const clients: pg.Client[] = []

function track(client: pg.Client): pg.Client {
  client.on('error', () => undefined) // dropped connections are part of the tests
  clients.push(client)
  return client
}

async function connect(): Promise<pg.Client> {
  const client = track(new pg.Client({ connectionString: emulator.url() }))
  await client.connect()
  return client
}

async function sqlError(promise: Promise<unknown>): Promise<{ code?: string; message: string }> {
  try {
    await promise
  } catch (error) {
    return error as { code?: string; message: string }
  }
  throw new Error('expected the statement to fail')
}

const exists = async (relation: string): Promise<boolean> => {
  const rows = await emulator.control.query('SELECT to_regclass($1) IS NOT NULL AS found', [
    relation
  ])
  return rows[0]!.found as boolean
}

/** Polls `condition` until it holds (the test's timeout bounds the wait). */
async function until(condition: () => Promise<boolean>): Promise<void> {
  while (!(await condition())) await new Promise((resolve) => setTimeout(resolve, 100))
}

beforeAll(async () => {
  emulator = await startEmulator()
})

afterAll(async () => {
  await Promise.all(clients.map((c) => c.end().catch(() => undefined)))
  await emulator?.stop()
})

describe('startup', () => {
  it('sends the mz_version ParameterStatus and answers SSLRequest with N', async () => {
    const client = track(new pg.Client({ connectionString: emulator.url() }))
    const statuses = new Map<string, string>()
    const connection = (client as unknown as { connection: EventEmitter }).connection
    connection.on('parameterStatus', (m: { parameterName: string; parameterValue: string }) =>
      statuses.set(m.parameterName, m.parameterValue)
    )
    await client.connect()
    expect(statuses.get('mz_version')).toBe(MZ_VERSION)
    expect(statuses.get('client_encoding')).toBe('UTF8')

    const tls = new pg.Client({ connectionString: emulator.url(), ssl: true })
    expect((await sqlError(tls.connect())).message).toMatch(/does not support SSL/)
  })

  it('strips Materialize-only startup options and keeps the cluster', async () => {
    const client = track(
      new pg.Client({
        connectionString: emulator.url(),
        options: '--auto_route_catalog_queries=on --welcome_message=off --cluster=mz_catalog_server'
      })
    )
    await client.connect()
    const { rows } = await client.query('SHOW cluster')
    expect(rows).toEqual([{ cluster: 'mz_catalog_server' }])
  })
})

describe('simple query protocol', () => {
  it("keeps a quoted ';' and a $$ body inside a multi-statement message", async () => {
    const client = await connect()
    await client.query(`create function p_semi() returns text language sql as $f$ select ';' $f$`)
    const results = (await client.query(
      `set cluster = quickstart; select 'a;b' as quoted; select $$c; 'd'$$ as dollar; ` +
        `select p_semi() as s; show cluster`
    )) as unknown as pg.QueryResult[]
    expect(results.map((r) => r.command)).toEqual(['SET', 'SELECT', 'SELECT', 'SELECT', 'SELECT'])
    expect(results[1]!.rows).toEqual([{ quoted: 'a;b' }])
    expect(results[2]!.rows).toEqual([{ dollar: "c; 'd'" }])
    expect(results[3]!.rows).toEqual([{ s: ';' }])
    expect(results[4]!.rows).toEqual([{ cluster: 'quickstart' }])
  })

  it('rolls back the whole swap transaction when a statement errors mid-way', async () => {
    const client = await connect()
    for (const statement of [
      'create schema tx_a',
      'create schema tx_b',
      'create table tx_a.marker (a int)'
    ])
      await client.query(statement)
    const failed = await sqlError(
      client.query(
        'BEGIN; ALTER SCHEMA tx_a SWAP WITH tx_b; ALTER SCHEMA tx_b SWAP WITH nowhere; COMMIT;'
      )
    )
    expect(failed).toMatchObject({ code: '3F000', message: "unknown schema 'nowhere'" })
    await client.query('ROLLBACK')
    expect(await exists('tx_a.marker')).toBe(true) // not swapped
  })

  it('rejects unknown Materialize syntax without running any statement of the message', async () => {
    const client = await connect()
    await client.query('CREATE TABLE rejected (a int)')
    const failed = await sqlError(
      client.query('INSERT INTO rejected VALUES (1); SUBSCRIBE TO rejected')
    )
    expect(failed).toMatchObject({ code: '0A000' })
    expect(failed.message).toBe('SUBSCRIBE is not supported by the Materialize emulator')
    const rows = await emulator.control.query('SELECT count(*)::int AS n FROM public.rejected')
    expect(rows[0]!.n).toBe(0)
  })

  it('reports Materialize errors for unknown clusters', async () => {
    const client = await connect()
    const failed = await sqlError(
      client.query('create materialized view mv_nowhere in cluster nowhere as select 1')
    )
    expect(failed).toMatchObject({ code: '42704', message: "unknown cluster 'nowhere'" })
    expect(await exists('public.mv_nowhere')).toBe(false)
  })
})

describe('transactions (Materialize refuses DDL mixed with anything but swaps and renames)', () => {
  const MODIFY_ONLY = 'transactions which modify objects are restricted to just modifying objects'

  it('refuses DDL in a multi-statement message, which is an implicit transaction', async () => {
    const client = await connect()
    const failed = await sqlError(
      client.query('CREATE TABLE tx_one (a int); CREATE TABLE tx_two (a int)')
    )
    expect(failed).toMatchObject({
      code: '25001',
      message: 'CREATE TABLE tx_one (a int) cannot be run inside a transaction block'
    })
    expect(await exists('public.tx_one')).toBe(false)
  })

  it('runs one DDL statement alone in BEGIN … COMMIT, and refuses a second', async () => {
    const client = await connect()
    await client.query('BEGIN; CREATE TABLE tx_alone (a int); COMMIT')
    expect(await exists('public.tx_alone')).toBe(true)
    const failed = await sqlError(
      client.query('BEGIN; CREATE TABLE tx_first (a int); CREATE TABLE tx_second (a int); COMMIT')
    )
    expect(failed).toMatchObject({
      code: '25000',
      message: 'this transaction can only execute a single statement'
    })
    await client.query('ROLLBACK')
    expect(await exists('public.tx_first')).toBe(false)
  })

  it('keeps a swap transaction to swaps and renames, across messages too', async () => {
    const client = await connect()
    for (const statement of ['CREATE SCHEMA tx_c', 'CREATE SCHEMA tx_d'])
      await client.query(statement)
    await client.query('BEGIN')
    await client.query('ALTER SCHEMA tx_c SWAP WITH tx_d')
    await client.query('ALTER SCHEMA tx_c RENAME TO tx_e')
    expect(await sqlError(client.query('SELECT 1'))).toMatchObject({
      code: '25000',
      message: MODIFY_ONLY
    })
    await client.query('ROLLBACK')
    expect(
      await sqlError(
        client.query('BEGIN; ALTER SCHEMA tx_c SWAP WITH tx_d; CREATE SCHEMA tx_f; COMMIT')
      )
    ).toMatchObject({ code: '25000', message: MODIFY_ONLY })
    await client.query('ROLLBACK')
    const schemas = await emulator.control.query<{ nspname: string }>(
      `SELECT nspname FROM pg_namespace WHERE nspname IN ('tx_c', 'tx_d', 'tx_e', 'tx_f') ORDER BY 1`
    )
    expect(schemas.map((r) => r.nspname)).toEqual(['tx_c', 'tx_d'])
  })

  it('refuses a swap after a read in the same transaction', async () => {
    const client = await connect()
    const failed = await sqlError(
      client.query(
        'BEGIN; SELECT count(*) FROM mz_clusters; ALTER CLUSTER quickstart SWAP WITH mz_catalog_server; COMMIT'
      )
    )
    expect(failed).toMatchObject({ code: '25006', message: 'transaction in read-only mode' })
    await client.query('ROLLBACK')
    const { rows } = await client.query<{ id: string }>(
      `SELECT id FROM mz_clusters WHERE name = 'quickstart'`
    )
    expect(rows[0]!.id).toMatch(/^u/) // not swapped
  })
})

describe('extended query protocol', () => {
  it('rewrites the Parse text and passes parameters through', async () => {
    const client = await connect()
    const clusters = await client.query('select id, name from mz_clusters where name = $1', [
      'quickstart'
    ])
    expect(clusters.rows).toEqual([{ id: 'u1', name: 'quickstart' }])
    const named = await client.query({
      name: 'whoami',
      text: 'select current_user() as who, $1::int + 1 as n',
      values: [41]
    })
    expect(named.rows).toEqual([{ who: emulator.user, n: 42 }])
    const failed = await sqlError(client.query('subscribe to t where a = $1', [1]))
    expect(failed.code).toBe('0A000')
  })
})

describe('sessions and connections', () => {
  it('keeps SET cluster and temporary views per connection', async () => {
    const [a, b] = [await connect(), await connect()]
    await a.query('set cluster = mz_catalog_server')
    await a.query('create temporary view only_a as select 1 as x')
    expect((await a.query('show cluster')).rows).toEqual([{ cluster: 'mz_catalog_server' }])
    expect((await b.query('show cluster')).rows).toEqual([{ cluster: 'quickstart' }])
    expect((await sqlError(b.query('select * from only_a'))).code).toBe('42P01')
    // Temporary relations sit in the schema with id '0', as dbt's column lookup expects.
    const temp = await a.query(`select schema_id from mz_relations where name = 'only_a'`)
    expect(temp.rows).toEqual([{ schema_id: '0' }])
  })

  it('releases the backend of a client that disconnects mid-query and keeps serving others', async () => {
    const doomed = await connect()
    const pid = (await doomed.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid
    const running = doomed.query('select pg_sleep(600)').catch(() => 'disconnected')
    const backendIs = async (state: 'sleeping' | 'gone'): Promise<boolean> => {
      const rows = await emulator.control.query<{ query: string }>(
        'select query from pg_stat_activity where pid = $1',
        [pid]
      )
      return state === 'gone' ? rows.length === 0 : /pg_sleep/.test(rows[0]?.query ?? '')
    }
    await until(() => backendIs('sleeping'))
    ;(
      doomed as unknown as { connection: { stream: { destroy(): void } } }
    ).connection.stream.destroy()
    expect(await running).toBe('disconnected')

    const survivor = await connect()
    expect((await survivor.query('select 1 as one')).rows).toEqual([{ one: 1 }])
    await until(() => backendIs('gone'))
  })

  it('drops client connections on request', async () => {
    const victim = await connect()
    const ended = new Promise<void>((resolve) => victim.once('end', () => resolve()))
    expect(emulator.control.dropConnections()).toBeGreaterThanOrEqual(1)
    await ended
    const fresh = await connect()
    expect((await fresh.query('select 2 as two')).rows).toEqual([{ two: 2 }])
  })

  it('cuts the connection right after a swap commits, once, and never after a failed swap', async () => {
    await emulator.control.query('CREATE SCHEMA IF NOT EXISTS cut_a')
    await emulator.control.query('CREATE SCHEMA IF NOT EXISTS cut_b')
    const ids = async (): Promise<string[]> => {
      const rows = await emulator.control.query<{ name: string; id: string }>(
        "SELECT name, id FROM mz_catalog.mz_schemas WHERE name IN ('cut_a', 'cut_b') ORDER BY name"
      )
      return rows.map((r) => r.id)
    }
    const before = await ids()
    const swapSql = 'BEGIN; ALTER SCHEMA cut_a SWAP WITH cut_b; COMMIT;'
    emulator.control.dropConnectionAfterNextSwap()

    // A swap that fails at COMMIT leaves the connection and the fault as they were.
    await emulator.control.failNextSwaps(1)
    const failing = await connect()
    expect((await sqlError(failing.query(swapSql))).code).toBe('40001')
    expect((await failing.query('select 1 as one')).rows).toEqual([{ one: 1 }])
    expect(await ids()).toEqual(before)

    // The next one commits, its client sees the commit, and then a dead connection.
    const victim = await connect()
    const ended = new Promise<void>((resolve) => victim.once('end', () => resolve()))
    await victim.query(swapSql)
    await ended
    await expect(victim.query('select 1')).rejects.toThrow()
    expect(await ids()).toEqual([...before].reverse())

    // One-shot: the next swap keeps its connection.
    const next = await connect()
    await next.query(swapSql)
    expect((await next.query('select 2 as two')).rows).toEqual([{ two: 2 }])
  })
})

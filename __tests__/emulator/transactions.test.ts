// Read-only transactions as Materialize serves them: every read of a block at one timestamp,
// and only within the time domain its first read fixed (doc/user/content/sql/begin.md). Also
// the proxy's query hooks that put a write, or a pause, between two reads.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import type { Socket } from 'node:net'
import pg from 'pg'
import { startEmulator, type Emulator } from '../../dev/emulator/index.js'
import { relationNames } from '../../dev/emulator/timedomain.js'
import * as wire from '../../dev/emulator/wire.js'

jest.setTimeout(900_000) // a bound for hung tests only: runs take minutes on a loaded machine

const OUTSIDE =
  'Transactions can only reference objects in the same timedomain. See https://materialize.com/docs/sql/begin/#same-timedomain-error'

let emulator: Emulator
const clients: pg.Client[] = []

async function connect(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: emulator.url() })
  client.on('error', () => undefined) // dropped connections are part of the tests
  clients.push(client)
  await client.connect()
  return client
}

interface SqlError {
  code?: string
  message: string
  detail?: string
}

async function sqlError(promise: Promise<unknown>): Promise<SqlError> {
  try {
    await promise
  } catch (error) {
    return error as SqlError
  }
  throw new Error('expected the statement to fail')
}

const streamOf = (client: pg.Client): Socket =>
  (client as unknown as { connection: { stream: Socket } }).connection.stream

/**
 * Takes a connected client's socket over, to send several Query messages at once (which
 * node-postgres never does) and read the first column of each answer.
 */
function pipeline(client: pg.Client) {
  const socket = streamOf(client)
  socket.removeAllListeners('data')
  const reader = new wire.MessageReader()
  const received: wire.Message[] = []
  let arrived = (): void => undefined
  socket.on('data', (chunk: Buffer) => {
    reader.push(chunk)
    for (let m = reader.nextTyped(); m; m = reader.nextTyped()) received.push(m)
    arrived()
  })
  const firstColumn = (row: wire.Message): string => {
    const length = row.body.readInt32BE(2)
    return row.body.subarray(6, 6 + length).toString()
  }
  return {
    received,
    send(...queries: string[]): void {
      socket.write(Buffer.concat(queries.map(wire.queryMessage)))
    },
    /** The first column of every row, once `count` queries were answered. */
    async answers(count: number): Promise<string[]> {
      while (received.filter((m) => m.type === 'Z').length < count) {
        await new Promise<void>((resolve) => (arrived = resolve))
      }
      return received.filter((m) => m.type === 'D').map(firstColumn)
    }
  }
}

beforeAll(async () => {
  emulator = await startEmulator()
  const client = await connect()
  // One statement per message: Materialize runs DDL only outside a transaction block.
  for (const statement of [
    'CREATE SCHEMA feed',
    'CREATE TABLE feed.events (n int)',
    'INSERT INTO feed.events VALUES (1), (2), (3)',
    'CREATE SCHEMA blue',
    'CREATE SCHEMA green',
    'CREATE TABLE blue.orders (id int)',
    'CREATE TABLE blue.items (id int)',
    'CREATE TABLE green.orders (id int)'
  ])
    await client.query(statement)
})

afterAll(async () => {
  await Promise.all(clients.map((c) => c.end().catch(() => undefined)))
  await emulator?.stop()
})

describe('relationNames', () => {
  it('finds the relations of FROM and JOIN clauses at any depth, as written', () => {
    expect(
      relationNames(
        `WITH recent AS (SELECT * FROM feed.events) SELECT extract(epoch FROM now()), ` +
          `(SELECT count(*) FROM "Blue".orders) FROM recent, materialize.green.orders o ` +
          `JOIN lateral (SELECT 1) l ON true, generate_series(1, 2) g, items WHERE a IS DISTINCT FROM b`
      )
    ).toEqual(['feed.events', '"Blue".orders', 'materialize.green.orders', 'items'])
  })
})

describe('one timestamp for the reads of a transaction block', () => {
  const count = async (client: pg.Client): Promise<number> =>
    (await client.query<{ n: number }>('SELECT count(*)::int AS n FROM feed.events')).rows[0]!.n
  const arrive = async (): Promise<void> => {
    await emulator.control.query('INSERT INTO feed.events VALUES (4), (5)')
  }

  it('serves every read of BEGIN … COMMIT at the first read, while rows arrive between them', async () => {
    const client = await connect()
    await client.query('BEGIN')
    const first = await count(client)
    const arrived = emulator.control.beforeNextQuery(/FROM feed\.events/, arrive)
    expect(await count(client)).toBe(first)
    await arrived
    await client.query('COMMIT')
    expect(await count(client)).toBe(first + 2)
  })

  it('shows each read outside a block the rows that arrived before it', async () => {
    const client = await connect()
    const first = await count(client)
    const arrived = emulator.control.beforeNextQuery(/FROM feed\.events/, arrive)
    expect(await count(client)).toBe(first + 2)
    await arrived
  })

  it('leaves write-only and swap transactions at PostgreSQL READ COMMITTED', async () => {
    const client = await connect()
    const isolation = async (): Promise<string> =>
      (await client.query<{ transaction_isolation: string }>('SHOW transaction_isolation')).rows[0]!
        .transaction_isolation
    await client.query('BEGIN')
    await client.query('INSERT INTO feed.events VALUES (6)')
    expect(await isolation()).toBe('read committed')
    await client.query('COMMIT')
    await client.query('BEGIN')
    await client.query('ALTER SCHEMA blue SWAP WITH green')
    expect(await isolation()).toBe('read committed')
    await client.query('ROLLBACK')
    await client.query('BEGIN')
    await count(client)
    expect(await isolation()).toBe('repeatable read')
    await client.query('COMMIT')
  })
})

describe('the time domain of a read-only transaction', () => {
  it('refuses a later read of a schema the first read did not name', async () => {
    const client = await connect()
    await client.query('BEGIN')
    await client.query('SELECT * FROM blue.orders')
    await client.query('SELECT * FROM blue.items') // the same schema
    await client.query('SELECT 1') // no relation: no timestamp, any domain
    await client.query('SELECT count(*) FROM pg_catalog.pg_namespace') // always in the domain
    const failed = await sqlError(client.query('SELECT * FROM green.orders'))
    expect(failed).toMatchObject({ code: '25000', message: OUTSIDE })
    expect(failed.detail).toBe(
      [
        "The following relations in the query are outside the transaction's time domain:",
        '"materialize.green.orders"',
        'Only the following relations are available:',
        '"materialize.blue.items"',
        '"materialize.blue.orders"'
      ].join('\n')
    )
    await client.query('ROLLBACK')
  })

  it('lets later reads use any schema the first read named, and starts afresh after COMMIT', async () => {
    const client = await connect()
    await client.query('BEGIN')
    await client.query('SELECT * FROM blue.orders b JOIN green.orders g ON b.id = g.id')
    await client.query('SELECT * FROM green.orders')
    await client.query('SELECT * FROM blue.items')
    await client.query('COMMIT')
    await client.query('BEGIN')
    await client.query('SELECT * FROM green.orders')
    expect(await sqlError(client.query('SELECT * FROM blue.orders'))).toMatchObject({
      code: '25000',
      message: OUTSIDE
    })
    await client.query('ROLLBACK')
  })

  it('resolves unqualified names through the search path', async () => {
    const client = await connect()
    await client.query('SET search_path = green')
    await client.query('BEGIN')
    await client.query('SELECT * FROM orders')
    const failed = await sqlError(client.query('SELECT * FROM materialize.blue.orders'))
    expect(failed).toMatchObject({ code: '25000', message: OUTSIDE })
    expect(failed.detail).toMatch(
      /outside the transaction's time domain:\n"materialize.blue.orders"\n/
    )
    await client.query('ROLLBACK')
  })

  it('keeps a domain begun in a system schema to the system schemas', async () => {
    const client = await connect()
    await client.query('BEGIN')
    await client.query('SELECT count(*) FROM mz_clusters')
    await client.query('SELECT count(*) FROM mz_internal.mz_comments')
    await client.query('SELECT count(*) FROM pg_catalog.pg_namespace')
    expect(await sqlError(client.query('SELECT * FROM blue.orders'))).toMatchObject({
      code: '25000',
      message: OUTSIDE
    })
    await client.query('ROLLBACK')
  })

  it('refuses a relation created after the first read, even in the same schema', async () => {
    const client = await connect()
    await client.query('BEGIN')
    await client.query('SELECT * FROM blue.orders')
    await emulator.control.query('CREATE TABLE blue.late (id int)')
    expect(await sqlError(client.query('SELECT * FROM blue.late'))).toMatchObject({
      code: '25000',
      message: OUTSIDE
    })
    await client.query('ROLLBACK')
  })

  it('reports a read the role may not make as a privilege error, checked first', async () => {
    const admin = await connect()
    for (const statement of [
      `CREATE ROLE td_reader WITH LOGIN PASSWORD 'reader'`,
      'GRANT USAGE ON SCHEMA blue, green TO td_reader',
      'GRANT SELECT ON blue.orders TO td_reader'
    ])
      await admin.query(statement)
    const client = new pg.Client({
      connectionString: emulator.url(undefined, { user: 'td_reader', password: 'reader' })
    })
    clients.push(client)
    await client.connect()
    await client.query('BEGIN')
    await client.query('SELECT * FROM blue.orders')
    expect(await sqlError(client.query('SELECT * FROM green.orders'))).toMatchObject({
      code: '42501'
    })
    await client.query('ROLLBACK')
  })

  it('applies to a multi-statement message, an implicit transaction', async () => {
    const client = await connect()
    const failed = await sqlError(
      client.query('SELECT * FROM blue.orders; SELECT * FROM green.orders')
    )
    expect(failed).toMatchObject({ code: '25000', message: OUTSIDE })
    const { rows } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM blue.orders')
    expect(rows).toEqual([{ n: 0 }]) // the next message is a transaction of its own
  })
})

describe('query hooks', () => {
  it('holds a query until release; its connection waits behind it, others do not', async () => {
    const held = emulator.control.holdNextQuery(/AS held_first/)
    const session = pipeline(await connect())
    session.send('SELECT 1 AS held_first', 'SELECT 2 AS second')
    expect(await held.reached).toBe('SELECT 1 AS held_first')

    // A round trip through the proxy and PostgreSQL on another connection; the hook is spent.
    const other = await connect()
    expect((await other.query('SELECT 3 AS held_first')).rows).toEqual([{ held_first: 3 }])
    expect(session.received).toEqual([])

    held.release()
    expect(await session.answers(2)).toEqual(['1', '2'])
    expect(await held.settled).toBe('forwarded')
  })

  it('drops a held query whose client disconnects, and keeps serving', async () => {
    const held = emulator.control.holdNextQuery(/held_gone/)
    const doomed = await connect()
    const running = doomed.query('CREATE TABLE held_gone (a int)').catch(() => 'disconnected')
    await held.reached
    streamOf(doomed).destroy()
    expect(await running).toBe('disconnected')
    expect(await held.settled).toBe('dropped')
    held.release()

    const fresh = await connect()
    expect((await fresh.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }])
    const rows = await emulator.control.query("SELECT to_regclass('held_gone') IS NULL AS gone")
    expect(rows).toEqual([{ gone: true }])
  })

  it("forwards the query even when the action fails, and reports the action's error", async () => {
    const client = await connect()
    const failure = new Error('the action failed')
    const done = emulator.control.beforeNextQuery(/AS after_failure/, async () => {
      throw failure
    })
    expect((await client.query('SELECT 1 AS after_failure')).rows).toEqual([{ after_failure: 1 }])
    await expect(done).rejects.toBe(failure)
  })
})

// The proxy's query hooks that put a write, or a pause, between two reads.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import type { Socket } from 'node:net'
import pg from 'pg'
import { startEmulator, type Emulator } from '../../dev/emulator/index.js'
import * as wire from '../../dev/emulator/wire.js'

jest.setTimeout(900_000) // a bound for hung tests only: runs take minutes on a loaded machine

let emulator: Emulator
const clients: pg.Client[] = []

async function connect(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: emulator.url() })
  client.on('error', () => undefined) // dropped connections are part of the tests
  clients.push(client)
  await client.connect()
  return client
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
})

afterAll(async () => {
  await Promise.all(clients.map((c) => c.end().catch(() => undefined)))
  await emulator?.stop()
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

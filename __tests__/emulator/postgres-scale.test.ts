// The PostgreSQL behind the emulator must not fail where Materialize would not: Materialize
// drops a schema of any size in one statement, while PostgreSQL locks each object a cascade
// takes and runs out of lock table ("out of shared memory") at about 10,000 objects with its
// default settings. A 10,000-model bench deploy drops that many at once.
import { afterAll, beforeAll, expect, it, jest } from '@jest/globals'
import pg from 'pg'
import { startPostgres, type PostgresServer } from '../../dev/postgres.js'

jest.setTimeout(900_000) // a bound for hung tests only: PostgreSQL starts slowly on a loaded machine

const OBJECTS = 10_000
let server: PostgresServer
let client: pg.Client

beforeAll(async () => {
  server = await startPostgres()
  client = new pg.Client({
    host: server.host,
    port: server.port,
    user: server.user,
    password: server.password,
    database: 'postgres'
  })
  await client.connect()
})

afterAll(async () => {
  await client?.end()
  await server?.stop()
})

it(`drops a schema of ${OBJECTS.toLocaleString('en')} views in one transaction`, async () => {
  await client.query('CREATE SCHEMA big; CREATE TABLE big.t (a int)')
  const views = Array.from(
    { length: OBJECTS },
    (_, i) => `CREATE VIEW big.v${i} AS SELECT a FROM big.t;`
  )
  await client.query(views.join('\n'))
  await client.query('DROP SCHEMA big CASCADE')
  const { rows } = await client.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = 'big'"
  )
  expect(rows[0]?.n).toBe(0)
})

// TLS required, as Materialize Cloud requires it: dbt (psycopg2, libpq) and node-postgres
// connect over TLS, and a plaintext startup gets Materialize's refusal
// (src/pgwire-common/src/conn.rs, FATAL 08004 "TLS encryption is required").
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import type { TLSSocket } from 'node:tls'
import pg from 'pg'
import { MZ_VERSION, startEmulator, type Emulator } from '../../dev/emulator/index.js'
import { copyFixtureProject, type DbtProject } from './support/dbt.js'

jest.setTimeout(900_000) // a bound for hung tests only: runs take minutes on a loaded machine

let emulator: Emulator
const projects: DbtProject[] = []

beforeAll(async () => {
  emulator = await startEmulator({ tls: true })
})

afterAll(async () => {
  for (const project of projects) project.remove()
  await emulator?.stop()
})

function dbtWith(sslmode: string): DbtProject {
  const project = copyFixtureProject(emulator, { env: { MZ_SSLMODE: sslmode } })
  projects.push(project)
  return project
}

describe('TLS required', () => {
  it("lets node-postgres in over TLS verified against the emulator's certificate", async () => {
    const client = new pg.Client({
      connectionString: emulator.url(),
      ssl: { ca: emulator.tls!.ca }
    })
    await client.connect()
    try {
      const { rows } = await client.query<{ version: string }>('SELECT mz_version() AS version')
      expect(rows[0]!.version).toBe(MZ_VERSION)
      const stream = (client as unknown as { connection: { stream: TLSSocket } }).connection.stream
      expect(stream.encrypted).toBe(true)
    } finally {
      await client.end()
    }
  })

  it("refuses a plaintext startup with Materialize's error", async () => {
    const client = new pg.Client({ connectionString: emulator.url(), ssl: false })
    client.on('error', () => undefined)
    await expect(client.connect()).rejects.toMatchObject({
      code: '08004',
      message: 'TLS encryption is required'
    })
  })

  it('connects a dbt profile with sslmode require, and refuses sslmode disable', async () => {
    const required = await dbtWith('require').run(['debug', '--connection'])
    expect(required.output).toContain('Connection test: [OK connection ok]')
    expect(required.code).toBe(0)

    const plaintext = await dbtWith('disable').run(['debug', '--connection'])
    expect(plaintext.output).toContain('TLS encryption is required')
    expect(plaintext.code).not.toBe(0)
  })
})

// The Materialize emulator: a Postgres-wire proxy plus an emulated catalog in front of a
// throwaway PostgreSQL. See README.md for what it does and does not emulate.
import { startPostgres, type PostgresServer } from '../postgres.js'
import { freePort } from '../net.js'
import { withPgClient } from '../pg.js'
import { BOOTSTRAP_SQL, databaseSettingsSql } from './catalog.js'
import { EmulatorControl } from './control.js'
import { startProxy } from './proxy.js'
import { selfSignedCertificate } from './tls.js'

export {
  EmulatorControl,
  type HydrationScript,
  type LagMode,
  type RefreshReplicas
} from './control.js'
export type { GateOutcome, HeldQuery } from './proxy.js'
export { MZ_VERSION } from './version.js'

export const DEFAULT_USER = 'materialize'
export const DEFAULT_PASSWORD = 'materialize'
export const DEFAULT_DATABASE = 'materialize'

export interface EmulatorOptions {
  /** Use this PostgreSQL (its user/password become the emulator's); default: start one. */
  postgres?: PostgresServer
  /** Loopback port to listen on; default: a free port. */
  port?: number
  /** Database to (re)create and emulate; default `materialize`. */
  database?: string
  /**
   * Require TLS, as Materialize Cloud does: a self-signed certificate is made at start, and a
   * plaintext startup gets Materialize's FATAL 08004 "TLS encryption is required".
   */
  tls?: boolean
}

export interface Login {
  user: string
  password: string
}

export interface Emulator {
  host: string
  port: number
  user: string
  password: string
  database: string
  /**
   * `postgres://user:password@host:port/database` through the emulator; `login` connects as
   * another role (e.g. one made with `CREATE ROLE deployer WITH LOGIN PASSWORD '…'`).
   */
  url(database?: string, login?: Login): string
  control: EmulatorControl
  /** With `tls: true`: the PEM certificate to verify the emulator with (sslrootcert). */
  tls?: { ca: string }
  /** Stops the proxy, and the PostgreSQL server if the emulator started it. */
  stop(): Promise<void>
}

/** Recreates `database` and installs the emulated catalog in it. */
export async function bootstrapDatabase(postgres: PostgresServer, database: string): Promise<void> {
  const quoted = `"${database.replace(/"/g, '""')}"`
  await withPgClient(postgres.url('postgres'), async (client) => {
    await client.query(`DROP DATABASE IF EXISTS ${quoted} WITH (FORCE)`)
    await client.query(`CREATE DATABASE ${quoted}`)
  })
  await withPgClient(postgres.url(database), async (client) => {
    await client.query(databaseSettingsSql(database))
    await client.query(BOOTSTRAP_SQL)
  })
}

/**
 * Starts a Materialize emulator on 127.0.0.1 (a free port unless `port` is given). Without
 * `postgres`, it starts its own PostgreSQL with user/password `materialize`/`materialize`.
 * Connect with any PostgreSQL client (sslmode disable or prefer; with `tls`, require or
 * verify-full against `tls.ca`) to `url()`.
 */
export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const ownsPostgres = !options.postgres
  const postgres =
    options.postgres ??
    (await startPostgres({
      user: DEFAULT_USER,
      password: DEFAULT_PASSWORD,
      // Lets PostgreSQL notice a vanished client during a long query.
      settings: { client_connection_check_interval: '1000' }
    }))
  const database = options.database ?? DEFAULT_DATABASE
  try {
    await bootstrapDatabase(postgres, database)
    const certificate = options.tls ? await selfSignedCertificate() : undefined
    const proxy = await startProxy({
      backendHost: postgres.host,
      backendPort: postgres.port,
      port: options.port ?? (await freePort()),
      tls: certificate
    })
    const control = new EmulatorControl(postgres.url(database), proxy)
    const { user, password } = postgres
    const credentials = (login: Login): string =>
      `${encodeURIComponent(login.user)}:${encodeURIComponent(login.password)}`
    return {
      host: proxy.host,
      port: proxy.port,
      user,
      password,
      database,
      url: (db = database, login = { user, password }) =>
        `postgres://${credentials(login)}@${proxy.host}:${proxy.port}/${db}`,
      control,
      tls: certificate && { ca: certificate.cert },
      async stop() {
        await control.close()
        await proxy.close()
        if (ownsPostgres) await postgres.stop()
      }
    }
  } catch (error) {
    if (ownsPostgres) await postgres.stop()
    throw error
  }
}

// The action's own connection to the warehouse (PostgreSQL or Materialize), over `pg`.
// Queries use the simple protocol with quoted literals, which Materialize and its
// emulator both accept.
import * as core from '@actions/core'
import pg from 'pg'
import type { ProfileTarget } from '../dbt/profile.js'
import { ActionError, errorMessage } from '../errors.js'
import { connectFailure, refusedTransport, tlsAttempts, type TlsAttempt } from './tls.js'

export interface Sql {
  query<R extends pg.QueryResultRow>(text: string): Promise<R[]>
}

export interface Warehouse extends Sql {
  readonly isMaterialize: boolean
  /** The server or the network dropped the connection: open a new one for the next step. */
  readonly lost?: boolean
  schemaNames(): Promise<string[]>
  clusterNames(): Promise<string[]>
  dropSchema(name: string): Promise<void>
  dropCluster(name: string): Promise<void>
  close(): Promise<void>
}

/** Opens the action's own connection to a profile target. */
export type ConnectWarehouse = (target: ProfileTarget) => Promise<Warehouse>

export const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`
export const quoteLiteral = (value: string): string => `'${value.replace(/'/g, "''")}'`
export const literalList = (values: string[]): string => values.map(quoteLiteral).join(', ')

/**
 * A statement outlived "statement-timeout". Not an ActionError: a readiness poll retries it on
 * the new connection; any other step fails with this message.
 */
export class StatementTimeoutError extends Error {
  constructor(statement: string) {
    const first = statement.trim().split('\n')[0]!.slice(0, 120)
    super(
      `A statement took longer than "statement-timeout" allows, so its connection was closed and the next step opens a new one: ${first}`
    )
    this.name = 'StatementTimeoutError'
  }
}

export interface ConnectOptions {
  /** Client-side bound on each statement (Materialize's statement_timeout skips SELECT and DDL). */
  statementTimeoutMs?: number
}

async function open(
  target: ProfileTarget,
  ssl: TlsAttempt,
  { statementTimeoutMs }: ConnectOptions
): Promise<pg.Client> {
  const client = new pg.Client({
    host: target.host,
    port: target.port,
    user: target.user,
    password: target.password,
    database: target.database,
    ssl,
    application_name: 'dbt-materialize-deploy',
    // As dbt-materialize does: catalog reads go to mz_catalog_server, whatever the role's
    // default cluster (which may not exist), so the action needs no cluster of its own.
    options: target.type === 'materialize' ? '--auto_route_catalog_queries=on' : undefined,
    connectionTimeoutMillis: 30_000,
    // The connection idles for minutes while dbt runs: keep NATs and load balancers from
    // dropping it silently.
    keepAlive: true,
    keepAliveInitialDelayMillis: 30_000,
    query_timeout: statementTimeoutMs
  })
  // Errors before the warehouse takes the client over (a failed connect) are thrown by
  // connect(); this keeps a late one from crashing the process.
  client.on('error', () => undefined)
  try {
    await client.connect()
    // As dbt-postgres does: the profile's role owns what dbt builds, so it drops it too.
    if (target.role) await client.query(`set role ${quoteIdent(target.role)}`)
    return client
  } catch (error) {
    await client.end().catch(() => undefined)
    throw error
  }
}

export class PgWarehouse implements Warehouse {
  lost = false

  private constructor(
    private readonly client: pg.Client,
    readonly isMaterialize: boolean
  ) {
    // An idle connection dropped by the server (while dbt runs) must not crash the process:
    // the run opens a new one before its next step.
    const markLost = (error?: Error) => {
      if (this.lost) return
      this.lost = true
      core.warning(
        `The Materialize connection was lost${error ? `: ${errorMessage(error)}` : ''}; the next step reconnects.`
      )
    }
    client.on('error', markLost)
    client.on('end', () => markLost())
  }

  static async connect(target: ProfileTarget, options: ConnectOptions = {}): Promise<PgWarehouse> {
    const attempts = tlsAttempts(target)
    for (const [i, attempt] of attempts.entries()) {
      try {
        return new PgWarehouse(await open(target, attempt, options), target.type === 'materialize')
      } catch (error) {
        if (i + 1 < attempts.length && refusedTransport(error, attempt)) continue
        const via = attempt === false ? 'without TLS' : 'over TLS'
        throw new ActionError(
          `Could not connect to ${target.type} at ${target.host}:${target.port} as ${target.user} ${via} (profile target "${target.target}", sslmode ${target.sslmode ?? 'prefer'}): ${connectFailure(error, attempt)}`
        )
      }
    }
    throw new ActionError(`No connection to try for profile target "${target.target}".`)
  }

  async query<R extends pg.QueryResultRow>(text: string): Promise<R[]> {
    try {
      return (await this.client.query<R>(text)).rows
    } catch (error) {
      // node-pg gives up on the reply but the server may still run the statement, and the
      // connection would queue every later one behind it: drop it, so the next step reconnects.
      if (errorMessage(error) === 'Query read timeout') {
        this.lost = true
        this.client.end().catch(() => undefined)
        throw new StatementTimeoutError(text)
      }
      throw error
    }
  }

  async schemaNames(): Promise<string[]> {
    const result = await this.client.query<{ name: string }>(
      'select nspname as name from pg_catalog.pg_namespace'
    )
    return result.rows.map((row) => row.name)
  }

  async clusterNames(): Promise<string[]> {
    if (!this.isMaterialize) return []
    const result = await this.client.query<{ name: string }>(
      'select name from mz_catalog.mz_clusters'
    )
    return result.rows.map((row) => row.name)
  }

  async dropSchema(name: string): Promise<void> {
    await this.client.query(`drop schema if exists ${quoteIdent(name)} cascade`)
  }

  async dropCluster(name: string): Promise<void> {
    await this.client.query(`drop cluster if exists ${quoteIdent(name)} cascade`)
  }

  async close(): Promise<void> {
    this.lost = true // closing on purpose: no warning
    await this.client.end()
  }
}

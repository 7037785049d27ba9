// EmulatorControl: the test-facing control surface. Hydration, lag, replica failures and swap
// faults are SQL functions in the `mz_emulator` schema (so they are also callable from psql
// or through the emulator itself); dropping client connections is done by the proxy.
import pg from 'pg'
import type { HeldQuery, Proxy } from './proxy.js'

export interface HydrationScript {
  /** Seconds after creation before `mz_hydration_statuses.hydrated` turns true. */
  delaySeconds?: number
  /** `mz_wallclock_global_lag.lag` once hydrated, in seconds. */
  lagSeconds?: number
  /** Never hydrate (a stalled dataflow). */
  neverHydrates?: boolean
  /** Seconds after creation with no `mz_hydration_statuses` row at all (the catalog lags). */
  rowDelaySeconds?: number
  /**
   * Seconds after creation before the replicas report the object: until then its one row
   * has a NULL `replica_id` (and `hydrated` false), as upstream's LEFT JOIN gives.
   */
  replicaDelaySeconds?: number
}

/** `live`: one current lag per object; `binned`: upstream's per-minute minimums, late. */
export type LagMode = 'live' | 'binned'

/** Whether ON REFRESH clusters have replicas only while refreshing (Materialize) or always. */
export type RefreshReplicas = 'during-refresh' | 'always'

const orNull = <T>(value: T | undefined): T | null => (value === undefined ? null : value)

export class EmulatorControl {
  private connection?: Promise<pg.Client>

  constructor(
    private readonly backendUrl: string,
    private readonly proxy: Proxy
  ) {}

  /** Runs SQL directly against the backing PostgreSQL database (bypassing the proxy). */
  async query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    sql: string,
    params: unknown[] = []
  ): Promise<R[]> {
    const client = await (this.connection ??= this.connect())
    return (await client.query<R>(sql, params)).rows
  }

  /**
   * One connection, kept open between calls. PostgreSQL may end it while it is idle (a Ctrl-C
   * in a terminal reaches the server too): then it is forgotten, and the next call opens another.
   */
  private connect(): Promise<pg.Client> {
    const client = new pg.Client({ connectionString: this.backendUrl })
    const connection = client.connect().then(() => client)
    const forget = (): void => {
      if (this.connection === connection) this.connection = undefined
    }
    client.on('error', forget)
    client.on('end', forget)
    connection.catch(forget)
    return connection
  }

  /** Defaults for objects created from now on (indexes, materialized views). */
  async setDefaultHydration(script: HydrationScript): Promise<void> {
    const { delaySeconds, lagSeconds, neverHydrates, rowDelaySeconds, replicaDelaySeconds } = script
    await this.query('SELECT mz_emulator.set_defaults($1, $2, $3)', [
      orNull(delaySeconds),
      orNull(lagSeconds),
      orNull(neverHydrates)
    ])
    await this.query('SELECT mz_emulator.set_arrival_defaults($1, $2)', [
      orNull(rowDelaySeconds),
      orNull(replicaDelaySeconds)
    ])
  }

  /**
   * Scripts existing objects matched by id (`u12`), name (`order_totals`) or `schema.name`.
   * The delay still counts from the object's creation. Returns how many objects matched.
   */
  async scriptObject(target: string, script: HydrationScript): Promise<number> {
    const { delaySeconds, lagSeconds, neverHydrates, rowDelaySeconds, replicaDelaySeconds } = script
    const rows = await this.query<{ n: number }>(
      'SELECT mz_emulator.script_object($1, $2, $3, $4) AS n',
      [target, orNull(delaySeconds), orNull(lagSeconds), orNull(neverHydrates)]
    )
    await this.query('SELECT mz_emulator.script_arrival($1, $2, $3)', [
      target,
      orNull(rowDelaySeconds),
      orNull(replicaDelaySeconds)
    ])
    return rows[0]!.n
  }

  /**
   * Moves the emulated clock (behind `mz_now()`, hydration delays and lag) `seconds` on. Each
   * minute it crosses records a lag sample of every object, as Materialize does every minute.
   * Returns the emulated time reached.
   */
  async advanceClock(seconds: number): Promise<Date> {
    const rows = await this.query<{ at: Date }>('SELECT mz_emulator.advance_clock($1) AS at', [
      seconds
    ])
    return rows[0]!.at
  }

  /** Advances the emulated clock to the next minute, closing the current lag bin. */
  async closeLagBin(): Promise<Date> {
    return (await this.query<{ at: Date }>('SELECT mz_emulator.close_lag_bin() AS at'))[0]!.at
  }

  async setLagMode(mode: LagMode): Promise<void> {
    await this.query('SELECT mz_emulator.set_lag_mode($1)', [mode])
  }

  /** An ON REFRESH cluster's refresh starts: its replicas are provisioned. */
  async startRefresh(cluster: string): Promise<void> {
    await this.query('SELECT mz_emulator.set_refreshing($1, true)', [cluster])
  }

  /** The refresh ends: the cluster's replicas are removed again. */
  async finishRefresh(cluster: string): Promise<void> {
    await this.query('SELECT mz_emulator.set_refreshing($1, false)', [cluster])
  }

  async setRefreshReplicas(mode: RefreshReplicas): Promise<void> {
    await this.query('SELECT mz_emulator.set_refresh_replicas($1)', [mode])
  }

  /** Records `events` recent `oom-killed` status events (3 make a replica problematic). */
  async failReplicas(cluster: string, events = 3): Promise<void> {
    await this.query('SELECT mz_emulator.fail_replicas($1, $2)', [cluster, events])
  }

  async healReplicas(cluster: string): Promise<void> {
    await this.query('SELECT mz_emulator.heal_replicas($1)', [cluster])
  }

  /** Replaces the cluster's replicas with `factor` new ones; 0 leaves it without replicas. */
  async setReplicationFactor(cluster: string, factor: number): Promise<void> {
    await this.query('SELECT mz_emulator.set_replicas($1, $2)', [cluster, factor])
  }

  /** The next `times` transactions that swap schemas or clusters fail at COMMIT with 40001. */
  async failNextSwaps(times = 1): Promise<void> {
    await this.query('SELECT mz_emulator.fail_next_swaps($1)', [times])
  }

  /**
   * The connection whose next swap transaction commits is cut right after the commit reaches
   * it (one-shot; `false` disarms): whatever deploy_promote runs after its COMMIT then fails.
   */
  dropConnectionAfterNextSwap(armed = true): void {
    this.proxy.dropAfterNextSwap(armed)
  }

  /**
   * The connection whose next simple query matches `pattern` is cut instead of running it
   * (one-shot; undefined disarms): the client cannot tell whether the statement ran.
   */
  dropConnectionOnNextQuery(pattern?: RegExp): void {
    this.proxy.dropOnNextQuery(pattern)
  }

  /**
   * Runs `action` when the next simple query matching `pattern` arrives (from any connection;
   * one-shot), and only then forwards that query: e.g. an INSERT through `query()` that lands
   * between two reads. That connection's later messages wait behind it; other connections do
   * not. Arming is immediate: do not await the result before the query is sent. The result
   * resolves once the query went on (or was dropped with its connection), or rejects with the
   * action's error: the query goes on anyway.
   */
  beforeNextQuery(pattern: RegExp, action: () => Promise<void>): Promise<void> {
    return this.proxy.beforeNextQuery(pattern, action)
  }

  /**
   * Holds the next simple query matching `pattern` (from any connection; one-shot) until
   * `release()`; `reached` resolves with its text once it is held, `settled` with
   * `'forwarded'` once it went on or `'dropped'` if its client disconnected while it was held.
   * That connection's later messages wait behind it; other connections do not.
   */
  holdNextQuery(pattern: RegExp): HeldQuery {
    return this.proxy.holdNextQuery(pattern)
  }

  /** Cuts every client connection to the emulator. Returns how many were open. */
  dropConnections(): number {
    return this.proxy.dropConnections()
  }

  async close(): Promise<void> {
    const connection = this.connection
    this.connection = undefined
    const client = await connection?.catch(() => undefined)
    await client?.end()
  }
}

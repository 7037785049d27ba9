// Readiness as real Materialize reports it (issue 11, "Tests must show" 1 and 3): hydration rows
// that arrive late, or with a NULL replica_id, never make green ready before every object on its
// cluster has hydrated; with minute-binned lag, a REFRESH EVERY view (whose lag follows its
// schedule) does not hold a healthy green, and a green lagging production beyond the threshold
// is not promoted until it catches up. The emulator's clock stands still until the test moves it, so each step
// waits for an event (a progress line of the action), never for time.
import { expect, it, jest } from '@jest/globals'
import { describeEmulatorOnly } from './support/backends.js'
import type { HydrationScript } from '../../dev/emulator/control.js'
import {
  GREEN_CLUSTER,
  GREEN_SCHEMA,
  PROD_CLUSTER,
  PROD_SCHEMA,
  expectOutputs,
  greenLeftovers,
  releaseIn,
  releaseModel,
  sql,
  useBlueGreenSuite
} from './support/bluegreen.js'
import type { ActionRun } from './support/runner.js'
import { expectExit } from './support/slim.js'

jest.setTimeout(900_000) // a bound for hung tests only: runs take minutes on a loaded machine

const ARRIVE_NOW = { delaySeconds: 0, lagSeconds: 0, neverHydrates: false }
const HOUR = 3600

/** A run's lines as they come, and a wait for the first line matching a pattern. */
class LineLog {
  readonly lines: string[] = []
  private waiters: Array<{ pattern: RegExp; resolve: () => void }> = []
  pending!: Promise<ActionRun>

  onLine = (line: string): void => {
    this.lines.push(line)
    for (const w of this.waiters.filter((w) => w.pattern.test(line))) w.resolve()
  }

  /** Resolves at the first line matching `pattern`; rejects if the run ends before one. */
  until(pattern: RegExp): Promise<void> {
    if (this.lines.some((l) => pattern.test(l))) return Promise.resolve()
    const seen = new Promise<void>((resolve) => this.waiters.push({ pattern, resolve }))
    const ended = this.pending.then((result) => {
      const last = this.lines.slice(-15).join('\n')
      throw new Error(
        `the run ended (exit ${result.exitCode}) before printing ${pattern}; its last lines:\n${last}`
      )
    })
    return Promise.race([seen, ended])
  }
}

describeEmulatorOnly(
  'late and NULL-replica rows and the clock are switched through the control API'
)('readiness on introspection rows that arrive late', () => {
  const suite = useBlueGreenSuite('bg-readiness', {
    afterEach: ({ emulator }) =>
      emulator.control.setDefaultHydration({
        ...ARRIVE_NOW,
        rowDelaySeconds: 0,
        replicaDelaySeconds: 0
      })
  })

  it.each<[string, string, HydrationScript]>([
    ['late rows (no row yet for an object)', 'v-late-rows', { rowDelaySeconds: HOUR }],
    ['NULL-replica rows', 'v-null-replica', { replicaDelaySeconds: HOUR }]
  ])(
    '1. %s: green is not ready until every object on its cluster has hydrated',
    async (_case, release, arrival) => {
      const { emulator } = suite
      suite.ws.commit(`Release ${release}`, releaseModel(release))
      await emulator.control.setDefaultHydration({ ...ARRIVE_NOW, ...arrival })
      const log = new LineLog()
      log.pending = suite.run(
        { 'await-timeout': '6h', 'run-tests': 'false' },
        { onLine: log.onLine }
      )
      // In the hydration wait no object has a hydrated row on a replica. Then the materialized
      // view's rows arrive; its index's only once the clock moves.
      await log.until(new RegExp(`${GREEN_CLUSTER}: hydrating.*hydrated 0/2`))
      await emulator.control.scriptObject(`${GREEN_SCHEMA}.order_totals`, {
        rowDelaySeconds: 0,
        replicaDelaySeconds: 0
      })
      await log.until(new RegExp(`${GREEN_CLUSTER}: hydrating.*hydrated 1/2`))
      // Production's manifest does not depend on green: dbt parses it during the wait.
      await log.until(/dbt parsed production's manifest while green hydrates/)
      const movedAt = log.lines.length
      await emulator.control.advanceClock(HOUR + 60)

      const result = await log.pending
      expectExit(result, 0)
      expectOutputs(result, { status: 'promoted', promoted: 'true' })
      expect(await releaseIn(emulator, 'prod')).toBe(release)
      expect(await greenLeftovers(emulator)).toEqual([])
      // Ready only after the clock moved: before, 1 of the 2 objects was hydrated, and the
      // pending one was named.
      const firstReady = log.lines.findIndex((l) => l.includes(`${GREEN_CLUSTER}: ready`))
      expect(firstReady).toBeGreaterThanOrEqual(movedAt)
      const before = log.lines.slice(0, movedAt).filter((l) => l.includes(`${GREEN_CLUSTER}:`))
      expect(before.some((l) => /hydrated 1\/2 .*pending: prod_dbt_deploy\./.test(l))).toBe(true)
      expect(before.some((l) => l.includes(`${GREEN_CLUSTER}: ready`))).toBe(false)
    }
  )
})

/** A view refreshed at creation and then hourly: its wallclock lag grows between refreshes. */
const HOURLY_MODEL = {
  'models/hourly_counts.sql':
    "{{ config(materialized='materialized_view', refresh_interval={'every': '1 hour', 'at_creation': True}) }}\n\n" +
    "select count(*) as orders from {{ ref('stg_orders') }}\n"
}

describeEmulatorOnly('minute-binned lag and the clock are switched through the control API')(
  'readiness on minute-binned lag, with a REFRESH EVERY view',
  () => {
    const suite = useBlueGreenSuite('bg-binned-lag', {
      afterEach: async ({ emulator }) => {
        await emulator.control.setDefaultHydration(ARRIVE_NOW)
        await emulator.control.setLagMode('live')
      }
    })

    const start = async (release: string): Promise<LineLog> => {
      suite.ws.commit(`Release ${release}`, { ...releaseModel(release), ...HOURLY_MODEL })
      const log = new LineLog()
      log.pending = suite.run(
        { 'await-timeout': '6h', 'run-tests': 'false' },
        { onLine: log.onLine }
      )
      await log.until(new RegExp(`${GREEN_CLUSTER}: hydrating`))
      return log
    }

    it('3. a healthy green is promoted though its REFRESH EVERY view lags by half an hour', async () => {
      const { emulator } = suite
      await emulator.control.setLagMode('binned')
      await emulator.control.setDefaultHydration({ ...ARRIVE_NOW, delaySeconds: 600 })
      const log = await start('v-binned-refresh')
      await emulator.control.advanceClock(1800) // 30 minute bins close: every object sampled

      const result = await log.pending
      expectExit(result, 0)
      expectOutputs(result, { status: 'promoted', promoted: 'true' })
      expect(await releaseIn(emulator, PROD_SCHEMA)).toBe('v-binned-refresh')
      const ready = log.lines.find((l) => l.includes(`${GREEN_CLUSTER}: ready`))
      expect(ready).toContain('1 REFRESH view(s) judged by their first refresh')
      // What was not held against it: the REFRESH view's lag, half an hour since its refresh.
      const [lag] = await sql<{ seconds: number }>(
        emulator,
        `SELECT extract(epoch FROM l.lag)::int AS seconds FROM mz_internal.mz_wallclock_global_lag l
         JOIN mz_objects o ON o.id = l.object_id JOIN mz_schemas s ON s.id = o.schema_id
         WHERE s.name = '${PROD_SCHEMA}' AND o.name = 'hourly_counts'`
      )
      expect(lag!.seconds).toBeGreaterThan(1000)
    })

    it('3. a green lagging production beyond the threshold is held until it catches up', async () => {
      const { emulator } = suite
      await emulator.control.setLagMode('binned')
      await emulator.control.setDefaultHydration({ ...ARRIVE_NOW, delaySeconds: 90 })
      const log = await start('v-binned-lagging')
      await emulator.control.scriptObject(`${GREEN_SCHEMA}.order_totals`, { lagSeconds: 120 })
      await emulator.control.advanceClock(240) // hydrated at 90 s; later bins sample 120 s

      await log.until(
        new RegExp(`${GREEN_CLUSTER}: lagging.*lagging: ${GREEN_SCHEMA}\\.order_totals`)
      )
      expect(await releaseIn(emulator, PROD_SCHEMA)).toBe('v-binned-refresh')
      await emulator.control.scriptObject(`${GREEN_SCHEMA}.order_totals`, { lagSeconds: 0 })
      await emulator.control.advanceClock(60) // a new bin: caught up

      const result = await log.pending
      expectExit(result, 0)
      expectOutputs(result, { status: 'promoted', promoted: 'true' })
      expect(await releaseIn(emulator, PROD_SCHEMA)).toBe('v-binned-lagging')
    })

    it('2. an ON REFRESH green waits for its first refresh, never failing for want of replicas', async () => {
      const { emulator } = suite
      // deploy_init gives green production's schedule: no replica outside a refresh.
      await sql(emulator, `ALTER CLUSTER ${PROD_CLUSTER} SET (SCHEDULE = ON REFRESH)`)
      const log = await start('v-on-refresh')
      await log.until(
        new RegExp(
          `${GREEN_CLUSTER}: hydrating \\(ON REFRESH: waiting for the first refresh\\), hydrated 2/3, pending: ${GREEN_SCHEMA}\\.hourly_counts,.*0 replica`
        )
      )
      await emulator.control.startRefresh(GREEN_CLUSTER)
      await emulator.control.finishRefresh(GREEN_CLUSTER)

      const result = await log.pending
      expectExit(result, 0)
      expectOutputs(result, { status: 'promoted', promoted: 'true' })
      expect(await releaseIn(emulator, PROD_SCHEMA)).toBe('v-on-refresh')
      expect(result.stdout).not.toMatch(/replica-grace/)
      expect(log.lines.some((l) => l.includes('ON REFRESH: every view refreshed'))).toBe(true)
    })
  }
)

// Readiness as real Materialize reports it (issue 11, "Tests must show" 1): hydration rows that
// arrive late, or with a NULL replica_id, never make green ready before every object on its
// cluster has hydrated. The emulator's clock stands still until the test moves it, so each step
// waits for an event (a progress line of the action), never for time.
import { expect, it, jest } from '@jest/globals'
import { describeEmulatorOnly } from './support/backends.js'
import type { HydrationScript } from '../../dev/emulator/control.js'
import {
  GREEN_CLUSTER,
  GREEN_SCHEMA,
  expectOutputs,
  greenLeftovers,
  releaseIn,
  releaseModel,
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
      throw new Error(`the run ended (exit ${result.exitCode}) before printing ${pattern}`)
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

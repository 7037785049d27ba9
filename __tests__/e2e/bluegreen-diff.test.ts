// The data diff before the promote (issue 15): green against production, read in one
// read-only transaction per object, reported in the summary and the `diff-result` output, and
// in gate mode a block on the promote that leaves production as it was.
import { describe, expect, it, jest } from '@jest/globals'
import {
  PROD_SCHEMA,
  blueGreenTarget,
  errorText,
  expectOutputs,
  greenLeftovers,
  releaseIn,
  sql,
  useBlueGreenSuite
} from './support/bluegreen.js'
import { emulatorOnly } from './support/backends.js'
import { annotationsOf, expectExit } from './support/slim.js'
import type { ActionRun } from './support/runner.js'

// A bound for hung tests only: each test runs one to three blue/green runs.
jest.setTimeout(1_800_000)

/**
 * models/scores.sql: 100 rows keyed on `id` (declared by a unique test), with `bump` rows of
 * `score` raised by one, `keep` of the rows kept, and an extra column when `channel` is set.
 */
function scoresModel(options: { bump?: number[]; keep?: number; channel?: boolean } = {}) {
  const { bump = [], keep = 100, channel = false } = options
  const score =
    bump.length > 0
      ? `case when n in (${bump.join(', ')}) then n * 10 + 1 else n * 10 end`
      : 'n * 10'
  const sqlText =
    `{{ config(materialized='view') }}\n\n` +
    `select n as id, ${score} as score${channel ? `, 'web' as channel` : ''}\n` +
    `from generate_series(1, ${keep}) as s(n)\n`
  const schema =
    'version: 2\n\nmodels:\n  - name: scores\n    columns:\n      - name: id\n        data_tests: [unique]\n'
  return { 'models/scores.sql': sqlText, 'models/scores.yml': schema }
}

interface DiffedObject {
  model: string
  status: string
  schema?: { added: Array<{ name: string }>; removed: unknown[] }
  rows?: { blue: number; green: number }
  rowChangePercent?: number
  key?: {
    columns: string[]
    onlyBlue: number
    onlyGreen: number
    changed: number
    changedColumns: Record<string, number>
  }
  sample?: Array<Record<string, string | null>>
  breaches: string[]
}

const diffed = (run: ActionRun, model: string): DiffedObject | undefined =>
  (
    JSON.parse(run.outputs['diff-result'] ?? '{"objects": []}') as { objects: DiffedObject[] }
  ).objects.find((o) => o.model === model)

describe(`the data diff before the promote on ${blueGreenTarget()}`, () => {
  const suite = useBlueGreenSuite('bg-diff')
  const scores = async (schema: string) =>
    sql<{ rows: string; bumped: string }>(
      suite.mz,
      `select count(*) as rows, count(*) filter (where score % 10 = 1) as bumped from ${schema}.scores`
    )

  it('reports a new column and 3 changed rows on the key, and promotes in report mode', async () => {
    suite.ws.commit('Add scores', scoresModel())
    const first = await suite.run({ diff: 'report' })
    expectExit(first, 0)
    expect(diffed(first, 'scores')).toMatchObject({ status: 'new' })

    suite.ws.commit('Scores by channel, 3 bumped', scoresModel({ bump: [7, 8, 9], channel: true }))
    const second = await suite.run({ diff: 'report' })
    expectExit(second, 0)
    expectOutputs(second, { status: 'promoted', promoted: 'true' })
    const scoresDiff = diffed(second, 'scores')
    expect(scoresDiff).toMatchObject({
      status: 'compared',
      schema: { added: [{ name: 'channel' }], removed: [] },
      rows: { blue: 100, green: 100 },
      key: { columns: ['id'], onlyBlue: 0, onlyGreen: 0, changed: 3, changedColumns: { score: 3 } },
      breaches: []
    })
    expect(scoresDiff?.sample?.map((r) => [r.id, r['score (blue)'], r['score (green)']])).toEqual([
      ['7', '70', '71'],
      ['8', '80', '81'],
      ['9', '90', '91']
    ])
    // Models the commit did not change are not compared.
    expect(diffed(second, 'order_totals')).toBeUndefined()
    expect(second.summary).toContain('### Data diff: production → green')
    expect(second.summary).toMatch(
      /\| 🔍 `"[^`]*"\."prod_dbt_deploy"\."scores"` \| \+channel \| 100 → 100 \| 0\.0% \| 0 \| 0 \| 3 \|/
    )
    expect(second.summary).toContain('changed columns `score` (3)')
    expect(await scores(PROD_SCHEMA)).toEqual([{ rows: '100', bumped: '3' }])
  })

  it('blocks the promote in gate mode when half the rows go, and leaves production as it was', async () => {
    const before = await releaseIn(suite.mz, PROD_SCHEMA)
    suite.ws.commit('Half the scores', scoresModel({ bump: [7, 8, 9], channel: true, keep: 50 }))
    const run = await suite.run({ diff: 'gate' })
    expectExit(run, 1)
    expectOutputs(run, { status: 'failed', promoted: 'false' })
    expect(errorText(run)).toContain('The data diff stopped the run ("diff: gate"): scores (')
    expect(errorText(run)).toContain(
      '50.0% of its rows differ, more than "diff-max-row-change" (10%)'
    )
    expect(diffed(run, 'scores')).toMatchObject({
      rows: { blue: 100, green: 50 },
      rowChangePercent: 50,
      key: { onlyBlue: 50, onlyGreen: 0, changed: 0 }
    })
    expect(run.summary).toContain('⛔')
    // Production is unchanged, and green was dropped ("cleanup-on-failure" defaults to true).
    expect(await scores(PROD_SCHEMA)).toEqual([{ rows: '100', bumped: '3' }])
    expect(await releaseIn(suite.mz, PROD_SCHEMA)).toBe(before)
    expect(await greenLeftovers(suite.mz)).toEqual([])
  })

  /** stg_orders with a comment that changes its checksum, and so its place in the diff, not its rows. */
  const touchedOrders = (mark: string) => ({
    'models/stg_orders.sql':
      `{{ config(materialized='view') }}\n\n-- ${mark}\n` +
      `select order_id, customer_id, status, amount\nfrom {{ source('raw', 'raw_orders') }}\n`
  })
  const RAW_ORDERS = 'prod_raw.raw_orders'
  const orderCount = async () =>
    Number((await sql<{ n: string }>(suite.mz, `select count(*) as n from ${RAW_ORDERS}`))[0]?.n)

  emulatorOnly('scripts an insert between two reads through the control API')(
    'reads both sides at one time while the input changes between two reads',
    async () => {
      const before = await orderCount()
      // scores back as production has it (the gated commit before is not deployed): not compared.
      suite.ws.commit('Touch stg_orders', {
        ...scoresModel({ bump: [7, 8, 9], channel: true }),
        ...touchedOrders('streaming')
      })
      // Between the count of production's stg_orders and green's, a new order arrives.
      const inserted = suite.emulator.control.beforeNextQuery(
        /count\(\*\) as rows from "[^"]+"\."prod_dbt_deploy"\."stg_orders"/,
        async () => {
          await suite.emulator.control.query(
            `insert into ${RAW_ORDERS} (order_id, customer_id, status, amount) values (9001, 13, 'completed', 7)`
          )
        }
      )
      const run = await suite.run({ diff: 'gate' })
      await inserted
      expectExit(run, 0)
      expectOutputs(run, { status: 'promoted', promoted: 'true' })
      // Both sides were read before the insert, at one time: no false difference.
      expect(diffed(run, 'stg_orders')).toMatchObject({
        status: 'compared',
        rows: { blue: before, green: before },
        key: { columns: ['order_id'], onlyBlue: 0, onlyGreen: 0, changed: 0 },
        breaches: []
      })
      expect(await orderCount()).toBe(before + 1)
    }
  )

  emulatorOnly('holds a diff query through the control API')(
    'names what it compared when diff-timeout runs out: gate mode fails, report mode warns',
    async () => {
      suite.ws.commit('Scores and stg_orders', {
        ...scoresModel({ bump: [7, 8, 9, 10], channel: true }),
        ...touchedOrders('timeout')
      })
      const before = await releaseIn(suite.mz, PROD_SCHEMA)
      // scores is compared first (models in id order); stg_orders' first query never answers.
      // 20 s leaves scores' four small queries time on a loaded machine.
      const held = suite.emulator.control.holdNextQuery(/full outer join[\s\S]*"stg_orders"/)
      const gated = await suite.run({ diff: 'gate', 'diff-timeout': '20s' })
      expect(await held.reached).toContain('"prod_dbt_deploy"."stg_orders"')
      expect(await held.settled).toBe('dropped')
      expectExit(gated, 1)
      expect(errorText(gated)).toContain(
        'The data diff stopped the run ("diff: gate"): "diff-timeout" (20 s) ran out; compared: scores.'
      )
      expect(diffed(gated, 'stg_orders')).toMatchObject({
        status: 'not-compared',
        reason: '"diff-timeout" (20 s) ran out'
      })
      expect(await releaseIn(suite.mz, PROD_SCHEMA)).toBe(before)

      const heldAgain = suite.emulator.control.holdNextQuery(/full outer join[\s\S]*"stg_orders"/)
      const reported = await suite.run({ diff: 'report', 'diff-timeout': '20s' })
      await heldAgain.reached
      expectExit(reported, 0)
      expectOutputs(reported, { status: 'promoted', promoted: 'true' })
      expect(annotationsOf(reported, 'warning')).toContain(
        'Data diff: "diff-timeout" (20 s) ran out; compared: scores.'
      )
      expect(reported.summary).toContain('cut short by "diff-timeout"')
    }
  )

  it('diffs again at the promote of a staged deploy and notes what changed since', async () => {
    suite.ws.commit('Touch stg_orders again', touchedOrders('staged'))
    const staged = await suite.run({ phase: 'deploy', diff: 'report' })
    expectExit(staged, 0)
    const atDeploy = diffed(staged, 'stg_orders')
    expect(atDeploy).toMatchObject({ status: 'compared', breaches: [] })
    const rows = atDeploy!.rows!.blue
    await sql(
      suite.mz,
      `insert into ${RAW_ORDERS} (order_id, customer_id, status, amount) values (9002, 14, 'pending', 3)`
    )
    const promoted = await suite.run({ phase: 'promote', diff: 'report' })
    expectExit(promoted, 0)
    expectOutputs(promoted, { status: 'promoted', promoted: 'true' })
    expect(diffed(promoted, 'stg_orders')).toMatchObject({
      rows: { blue: rows + 1, green: rows + 1 }
    })
    expect(promoted.summary).toContain(
      `Data diff of stg_orders since "phase: deploy": production ${rows} → ${rows + 1} rows, green ${rows} → ${rows + 1}.`
    )
  })
})

import { jest, describe, it, expect, beforeEach } from '@jest/globals'
import * as core from '../../__fixtures__/core.js'
import { diffOff } from './support/diff.js'
import type { DiffReport, DiffSettings, ObjectDiff } from '../../src/diff/model.js'

jest.unstable_mockModule('@actions/core', () => core)
const { changedModels, inferKey, readDiffManifest, withDownstream } =
  await import('../../src/diff/manifest.js')
const { schemaChange } = await import('../../src/diff/compare.js')
const { breaches, gateError, rowChangePercent } = await import('../../src/diff/gate.js')
const { renderDiff, diffResult } = await import('../../src/diff/render.js')
const { runDiff } = await import('../../src/diff/index.js')

const gate: DiffSettings = { ...diffOff, mode: 'gate' }

function model(name: string, { config, ...extra }: Record<string, unknown> = {}, checksum = name) {
  return {
    resource_type: 'model',
    name,
    database: 'materialize',
    schema: 'analytics',
    alias: name,
    checksum: { checksum },
    config: { materialized: 'view', enabled: true, ...(config as object) },
    ...extra
  }
}

function uniqueTest(model: string, column: string, extra: Record<string, unknown> = {}) {
  return {
    resource_type: 'test',
    name: `unique_${model}_${column}`,
    column_name: column,
    attached_node: `model.p.${model}`,
    depends_on: { nodes: [`model.p.${model}`] },
    test_metadata: { name: 'unique', kwargs: { column_name: column } },
    config: { enabled: true },
    ...extra
  }
}

const manifest = (nodes: Record<string, unknown>, childMap: Record<string, string[]> = {}) =>
  readDiffManifest(JSON.stringify({ nodes, child_map: childMap }), 'test manifest')

describe('key inference', () => {
  const current = manifest({
    'model.p.orders': model('orders', { config: { unique_key: ['order_id', 'line'] } }),
    'model.p.customers': model('customers', { config: { unique_key: 'lower(email)' } }),
    'model.p.items': model('items'),
    'model.p.plain': model('plain'),
    'test.p.unique_customers_id': uniqueTest('customers', 'id'),
    'test.p.unique_items_sku': uniqueTest('items', 'sku'),
    'test.p.unique_items_code': uniqueTest('items', 'code'),
    'test.p.unique_plain_x': uniqueTest('plain', 'x', { config: { where: 'x > 0' } }),
    'test.p.not_null_plain_y': { ...uniqueTest('plain', 'y'), test_metadata: { name: 'not_null' } }
  })
  const key = (name: string, overrides: Record<string, string[]> = {}) =>
    inferKey(current, current.models.get(`model.p.${name}`)!, overrides)

  it('takes diff-keys first, then unique_key, then a unique test on one column', () => {
    expect(key('orders', { orders: ['id'] })).toEqual({ columns: ['id'], source: 'diff-keys' })
    expect(key('orders')).toEqual({ columns: ['order_id', 'line'], source: 'unique_key' })
    // An expression is no key; the unique test is.
    expect(key('customers')).toEqual({ columns: ['id'], source: 'unique test' })
    // Of several unique tests, the first column by name, so the choice is stable.
    expect(key('items')).toEqual({ columns: ['code'], source: 'unique test' })
  })

  it('ignores unique tests with a where clause and other tests: no key', () => {
    expect(key('plain')).toBeUndefined()
  })

  it('reads a comma-separated unique_key string as columns', () => {
    const m = manifest({ 'model.p.a': model('a', { config: { unique_key: 'a, b' } }) })
    expect(inferKey(m, m.models.get('model.p.a')!, {})).toEqual({
      columns: ['a', 'b'],
      source: 'unique_key'
    })
  })
})

describe('changed models', () => {
  const previous = manifest({
    'model.p.a': model('a', {}, 'a1'),
    'model.p.b': model('b', {}, 'b1'),
    'model.p.c': model('c', {}, 'c1')
  })

  it('are the new ones and those whose SQL or materialization changed', () => {
    const current = manifest({
      'model.p.a': model('a', {}, 'a2'),
      'model.p.b': model('b', { config: { materialized: 'materialized_view' } }, 'b1'),
      'model.p.c': model('c', { config: { tags: ['x'] } }, 'c1'),
      'model.p.d': model('d', {}, 'd1'),
      'model.p.e': model('e', { config: { materialized: 'ephemeral' } }, 'e1'),
      'model.p.f': model('f', { config: { materialized: 'sink' } }, 'f1')
    })
    expect(changedModels(current, previous)).toEqual(['model.p.a', 'model.p.b', 'model.p.d'])
  })

  it('are all models without a published manifest, and downstream ones on request', () => {
    const current = manifest(
      { 'model.p.a': model('a'), 'model.p.b': model('b'), 'model.p.c': model('c') },
      { 'model.p.a': ['model.p.b', 'test.p.t'], 'model.p.b': ['model.p.c'] }
    )
    expect(changedModels(current)).toEqual(['model.p.a', 'model.p.b', 'model.p.c'])
    expect(withDownstream(current, ['model.p.a'])).toEqual(['model.p.a', 'model.p.b', 'model.p.c'])
  })
})

describe('schema change', () => {
  const col = (name: string, type = 'integer') => ({ name, type })

  it('names added, removed and retyped columns, and a new order', () => {
    expect(
      schemaChange(
        [col('id'), col('amount'), col('note', 'text')],
        [col('id'), col('amount', 'numeric'), col('channel', 'text')]
      )
    ).toEqual({
      added: [col('channel', 'text')],
      removed: [col('note', 'text')],
      retyped: [{ name: 'amount', from: 'integer', to: 'numeric' }],
      reordered: false
    })
    expect(schemaChange([col('a'), col('b')], [col('b'), col('a')]).reordered).toBe(true)
  })
})

function compared(overrides: Partial<ObjectDiff> = {}): ObjectDiff {
  return {
    model: 'orders',
    blue: '"materialize"."analytics"."orders"',
    green: '"materialize"."analytics_dbt_deploy"."orders"',
    status: 'compared',
    schema: { added: [], removed: [], retyped: [], reordered: false },
    rows: { blue: 100, green: 100 },
    key: {
      columns: ['id'],
      source: 'unique test',
      onlyBlue: 0,
      onlyGreen: 0,
      changed: 3,
      changedColumns: { amount: 3 }
    },
    sample: [],
    breaches: [],
    ...overrides
  }
}

describe('the gate', () => {
  beforeEach(() => core.resetCore())

  it('counts rows only on one side and changed rows against production', () => {
    expect(rowChangePercent(compared())).toBe(3)
    const halved = compared({
      rows: { blue: 100, green: 50 },
      key: { ...compared().key!, onlyBlue: 50, changed: 0 }
    })
    expect(rowChangePercent(halved)).toBe(50)
    expect(breaches(halved, gate)).toEqual([
      '50.0% of its rows differ, more than "diff-max-row-change" (10%)'
    ])
    expect(breaches(compared(), gate)).toEqual([])
  })

  it('without a key, counts whole rows only on one side', () => {
    const keyless = compared({ key: undefined, rowSet: { onlyBlue: 4, onlyGreen: 6 } })
    expect(rowChangePercent(keyless)).toBe(10)
    expect(breaches(keyless, gate)).toEqual([])
    expect(breaches(keyless, { ...gate, maxRowChangePercent: 9.5 })).toHaveLength(1)
  })

  it('an empty production: any new row is a change of 100%', () => {
    const fromEmpty = compared({
      rows: { blue: 0, green: 5 },
      key: undefined,
      rowSet: { onlyBlue: 0, onlyGreen: 5 }
    })
    expect(rowChangePercent(fromEmpty)).toBe(100)
    expect(rowChangePercent(compared({ rows: { blue: 0, green: 0 }, key: undefined }))).toBe(0)
  })

  it('refuses a schema change only when told to', () => {
    const widened = compared({
      schema: {
        added: [{ name: 'channel', type: 'text' }],
        removed: [],
        retyped: [],
        reordered: false
      }
    })
    expect(breaches(widened, gate)).toEqual([])
    expect(breaches(widened, { ...gate, allowSchemaChange: false })).toEqual([
      'its columns changed ("diff-allow-schema-change: false")'
    ])
  })

  function report(objects: ObjectDiff[], timedOut = false): DiffReport {
    return {
      mode: 'gate',
      labels: { blue: 'production', green: 'green' },
      objects,
      timedOut,
      seconds: 1
    }
  }

  it('gate mode: an error naming each breaking object; report mode: warnings', () => {
    const halved = compared({ breaches: ['50.0% of its rows differ'] })
    const error = gateError(report([halved]), gate)
    expect(error?.message).toBe(
      'The data diff stopped the run ("diff: gate"): orders ("materialize"."analytics_dbt_deploy"."orders"): 50.0% of its rows differ.'
    )
    expect(gateError(report([halved]), { ...gate, mode: 'report' })).toBeUndefined()
    expect(core.warning.mock.calls).toEqual([
      [
        'Data diff: orders ("materialize"."analytics_dbt_deploy"."orders"): 50.0% of its rows differ.'
      ]
    ])
  })

  it('a timeout names what was compared', () => {
    const cut = compared({ model: 'late', status: 'not-compared', reason: 'timeout' })
    expect(gateError(report([compared(), cut], true), { ...gate, timeoutMs: 5000 })?.message).toBe(
      'The data diff stopped the run ("diff: gate"): "diff-timeout" (5 s) ran out; compared: orders.'
    )
  })
})

describe('rendering', () => {
  const labels = { blue: 'production', green: 'green' }

  it('shows one row per object and the changed columns with a sample', () => {
    const markdown = renderDiff({
      mode: 'report',
      labels,
      timedOut: false,
      seconds: 1.25,
      objects: [
        compared({
          schema: {
            added: [{ name: 'channel', type: 'text' }],
            removed: [],
            retyped: [],
            reordered: false
          },
          sample: [{ diff: 'changed', id: '7', 'amount (blue)': '10', 'amount (green)': '11' }]
        }),
        {
          ...compared({ model: 'fresh', green: '"x"."fresh"' }),
          status: 'new',
          reason: 'no production counterpart',
          rows: undefined,
          key: undefined,
          schema: undefined
        }
      ]
    })
    expect(markdown).toContain('### Data diff: production → green')
    expect(markdown).toContain('1 of 2 object(s) compared in 1.3 s ("diff: report").')
    expect(markdown).toContain(
      '| 🔍 `"materialize"."analytics_dbt_deploy"."orders"` | +channel | 100 → 100 | 0.0% | 0 | 0 | 3 |'
    )
    expect(markdown).toContain(
      '| 🆕 `"x"."fresh"` | no production counterpart | – | – | – | – | – |'
    )
    expect(markdown).toContain('changed columns `amount` (3)')
    expect(markdown).toContain('| diff | id | amount (production) | amount (green) |')
    expect(markdown).toContain('| changed | 7 | 10 | 11 |')
  })

  it('marks a breaking object and gives the row change in the output', () => {
    const broken = compared({ breaches: ['too many'] })
    const r: DiffReport = { mode: 'gate', labels, timedOut: false, seconds: 0, objects: [broken] }
    expect(renderDiff(r)).toContain('| ⛔ `')
    expect(renderDiff(r)).toContain('⛔ too many')
    // In report mode the same breach is a warning, not a block.
    expect(renderDiff({ ...r, mode: 'report' })).toContain('| ⚠️ `')
    const output = JSON.parse(diffResult(r)) as { objects: unknown[] }
    expect(output.objects[0]).toMatchObject({
      model: 'orders',
      rowChangePercent: 3
    })
  })
})

describe('runDiff', () => {
  const pair = (model: string) => ({
    model,
    blue: { database: 'db', schema: 'analytics', name: model },
    green: { database: 'db', schema: 'analytics_dbt_deploy', name: model }
  })

  it('lists objects beyond diff-max-objects as not compared, and a failed connection as errors', async () => {
    const r = await runDiff(
      { ...gate, maxObjects: 1 },
      [pair('a'), pair('b')],
      () => Promise.reject(new Error('connection refused')),
      { blue: 'production', green: 'green' },
      undefined
    )
    expect(r.objects.map((o) => [o.model, o.status, o.reason])).toEqual([
      ['a', 'error', 'connection refused'],
      ['b', 'not-compared', 'beyond "diff-max-objects" (1)']
    ])
    expect(r.objects[0]!.breaches).toEqual(['it could not be compared: connection refused'])
  })
})

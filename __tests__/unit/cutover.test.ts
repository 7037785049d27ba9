import { jest, describe, it, expect, beforeEach } from '@jest/globals'
import * as core from '../../__fixtures__/core.js'
import { MemoryStore } from '../../__fixtures__/store.js'
import type { Warehouse } from '../../src/warehouse/pg.js'
import type { SwapRecord, SwapSides } from '../../src/store/records.js'

jest.unstable_mockModule('@actions/core', () => core)
const { cutoverMismatches, decideSwap, holdsPrevious, nameParts, settleSwap, sinkMismatches } =
  await import('../../src/bluegreen/cutover.js')
const { undoResources } = await import('../../src/undo.js')
const { readSwapRecord } = await import('../../src/store/records.js')

beforeEach(() => core.resetCore())

/** prod/analytics (production u1/u2) about to swap with their green (u11/u12). */
const SIDES: SwapSides = {
  schemas: ['prod'],
  clusters: ['analytics'],
  productionSchemaIds: ['u1'],
  greenSchemaIds: ['u11'],
  productionClusterIds: ['u2'],
  greenClusterIds: ['u12']
}

const BEFORE = {
  schemas: { prod: 'u1', prod_dbt_deploy: 'u11' },
  clusters: { analytics: 'u2', analytics_dbt_deploy: 'u12' }
}
const SWAPPED = {
  schemas: { prod: 'u11', prod_dbt_deploy: 'u1' },
  clusters: { analytics: 'u12', analytics_dbt_deploy: 'u2' }
}

describe('decideSwap', () => {
  it('is committed once production names carry green’s former ids', () => {
    expect(decideSwap(SIDES, SWAPPED)).toBe('committed')
    // Committed even when the previous production is gone since.
    expect(decideSwap(SIDES, { schemas: { prod: 'u11' }, clusters: { analytics: 'u12' } })).toBe(
      'committed'
    )
  })

  it('is not committed while production names keep their own ids, green there or not', () => {
    expect(decideSwap(SIDES, BEFORE)).toBe('not-committed')
    expect(decideSwap(SIDES, { schemas: { prod: 'u1' }, clusters: { analytics: 'u2' } })).toBe(
      'not-committed'
    )
  })

  it('is unclear when the catalog matches neither side', () => {
    const mixed = { schemas: SWAPPED.schemas, clusters: BEFORE.clusters }
    expect(decideSwap(SIDES, mixed)).toBe('unclear')
    expect(decideSwap(SIDES, { schemas: {}, clusters: {} })).toBe('unclear')
  })
})

describe('cutover checks', () => {
  it('verifies a swap whose both sides moved, and names each mismatch otherwise', () => {
    expect(cutoverMismatches(SIDES, SWAPPED)).toEqual([])
    expect(cutoverMismatches(SIDES, BEFORE)).toEqual([
      `schema "prod" is u1, not green's u11`,
      `schema "prod_dbt_deploy" is u11, not the previous production's u1`,
      `cluster "analytics" is u2, not green's u12`,
      `cluster "analytics_dbt_deploy" is u12, not the previous production's u2`
    ])
    const dropped = { schemas: { prod: 'u11' }, clusters: SWAPPED.clusters }
    expect(cutoverMismatches(SIDES, dropped)).toEqual([
      `schema "prod_dbt_deploy" is missing, not the previous production's u1`
    ])
  })

  it('sees the previous production under green’s names', () => {
    expect(holdsPrevious(SIDES, SWAPPED)).toBe(true)
    expect(holdsPrevious(SIDES, BEFORE)).toBe(false)
    expect(holdsPrevious(SIDES, { schemas: { prod: 'u11' }, clusters: { analytics: 'u12' } })).toBe(
      false
    )
  })
})

/** A catalog answering with `ids`, recording every drop. */
function fakeWarehouse(ids: typeof BEFORE) {
  const dropped: string[] = []
  const rows = [
    ...Object.entries(ids.schemas).map(([name, id]) => ({ kind: 'schema', name, id })),
    ...Object.entries(ids.clusters).map(([name, id]) => ({ kind: 'cluster', name, id }))
  ]
  const names = (kind: string) => rows.filter((r) => r.kind === kind).map((r) => r.name)
  const warehouse: Warehouse = {
    isMaterialize: true,
    query: async <R>() => rows as R[],
    schemaNames: async () => names('schema'),
    clusterNames: async () => names('cluster'),
    dropSchema: async (name) => void dropped.push(`schema ${name}`),
    dropCluster: async (name) => void dropped.push(`cluster ${name}`),
    close: async () => undefined
  }
  return { warehouse, dropped }
}

const KEYS = { swap: 'prod/swap.json', previous: 'prod/previous.json', lock: 'prod/deploy.lock' }

function storeWithSwap(): MemoryStore {
  const store = new MemoryStore()
  const record: SwapRecord = {
    ...SIDES,
    sha: 'new',
    previousSha: 'old',
    target: 'prod',
    recordedAt: '2026-11-29T00:00:00Z',
    outcome: 'about-to-swap'
  }
  store.objects.set(KEYS.swap, { body: JSON.stringify(record), etag: '"s"', metadata: {} })
  store.objects.set(KEYS.lock, {
    body: JSON.stringify({
      owner: 'us',
      nonce: 'ours',
      acquiredAt: '2026-11-29T00:00:00Z',
      expiresAt: '2999-01-01T00:00:00Z'
    }),
    etag: '"l"',
    metadata: {}
  })
  return store
}

describe('settleSwap', () => {
  it('records a committed swap and keeps the previous production for rollback', async () => {
    const store = storeWithSwap()
    const { warehouse } = fakeWarehouse(SWAPPED)
    expect(await settleSwap(store, warehouse, KEYS, SIDES)).toBe('committed')
    expect((await readSwapRecord(store, KEYS.swap))?.outcome).toBe('committed')
    expect(JSON.parse(store.objects.get(KEYS.previous)!.body)).toMatchObject({
      sha: 'old',
      replacedBy: 'new'
    })
  })

  it('records a swap that did not commit, and keeps nothing', async () => {
    const store = storeWithSwap()
    const { warehouse } = fakeWarehouse(BEFORE)
    expect(await settleSwap(store, warehouse, KEYS, SIDES)).toBe('not-committed')
    expect((await readSwapRecord(store, KEYS.swap))?.outcome).toBe('not-committed')
    expect(store.objects.has(KEYS.previous)).toBe(false)
  })
})

describe('undoResources after a swap (main failing or cancelled mid-swap, or the post step)', () => {
  const resources = [
    { kind: 'lock' as const, key: KEYS.lock, nonce: 'ours' },
    { kind: 'green' as const, schemas: ['prod_dbt_deploy'], clusters: ['analytics_dbt_deploy'] },
    { kind: 'swap' as const, key: KEYS.swap, previousKey: KEYS.previous, ...SIDES }
  ]

  it('never drops green’s names once the swap committed: it says so and what to run next', async () => {
    const store = storeWithSwap()
    const { warehouse, dropped } = fakeWarehouse(SWAPPED)
    await undoResources(resources, { store: async () => store, warehouse: async () => warehouse })
    expect(dropped).toEqual([])
    expect(core.warning).toHaveBeenCalledWith(
      expect.stringMatching(/swap committed.*intact under prod_dbt_deploy.*phase: rollback/)
    )
    expect((await readSwapRecord(store, KEYS.swap))?.outcome).toBe('committed')
    expect(store.objects.has(KEYS.lock)).toBe(false)
  })

  it('drops green as before when the swap did not commit', async () => {
    const store = storeWithSwap()
    const { warehouse, dropped } = fakeWarehouse(BEFORE)
    const left = await undoResources(resources, {
      store: async () => store,
      warehouse: async () => warehouse
    })
    expect(dropped).toEqual(['schema prod_dbt_deploy', 'cluster analytics_dbt_deploy'])
    expect(store.objects.has(KEYS.lock)).toBe(false)
    expect(left).toEqual([])
  })

  it('hands back a green whose drop failed, with the swap record that decides it', async () => {
    const store = storeWithSwap()
    const { warehouse } = fakeWarehouse(BEFORE)
    warehouse.dropSchema = async () => {
      throw new Error('connection terminated')
    }
    const left = await undoResources(resources, {
      store: async () => store,
      warehouse: async () => warehouse
    })
    expect(left.map((r) => r.kind)).toEqual(['swap', 'green'])
    expect(core.warning).toHaveBeenCalledWith(
      expect.stringContaining('Could not undo green prod_dbt_deploy, analytics_dbt_deploy')
    )
    // The lock was still released: the post step retries only the drop.
    expect(store.objects.has(KEYS.lock)).toBe(false)
  })

  it('keeps green when it cannot tell whether the swap committed', async () => {
    const store = storeWithSwap()
    const { warehouse, dropped } = fakeWarehouse(BEFORE)
    warehouse.query = async () => {
      throw new Error('catalog query timed out')
    }
    await undoResources(resources, { store: async () => store, warehouse: async () => warehouse })
    expect(dropped).toEqual([])
    expect(core.warning).toHaveBeenCalledWith(
      expect.stringMatching(/Could not settle the swap \(catalog query timed out\)/)
    )
  })

  it('drops green when the lease is gone (an earlier post step released it)', async () => {
    const store = storeWithSwap()
    store.objects.delete(KEYS.lock)
    const { warehouse, dropped } = fakeWarehouse(BEFORE)
    const [lock, greenResource] = resources
    await undoResources([lock!, greenResource!], {
      store: async () => store,
      warehouse: async () => warehouse
    })
    expect(dropped).toEqual(['schema prod_dbt_deploy', 'cluster analytics_dbt_deploy'])
  })

  it('leaves green and the lease to the run that took the deploy lock over', async () => {
    const store = storeWithSwap()
    const lease = store.objects.get(KEYS.lock)!
    store.objects.set(KEYS.lock, { ...lease, body: lease.body.replace('ours', 'theirs') })
    const { warehouse, dropped } = fakeWarehouse(SWAPPED)
    await undoResources(resources, { store: async () => store, warehouse: async () => warehouse })
    expect(dropped).toEqual([])
    expect(core.warning).toHaveBeenCalledWith(
      expect.stringMatching(/Another run holds the deploy lock/)
    )
    expect(store.objects.get(KEYS.lock)!.body).toContain('theirs')
    // Not even the swap record is touched: S3 may hold the other run's by now.
    expect((await readSwapRecord(store, KEYS.swap))?.outcome).toBe('about-to-swap')
    expect(store.objects.has(KEYS.previous)).toBe(false)
  })
})

describe('sinkMismatches', () => {
  const REPOINT = {
    sink: '"materialize"."sinks"."totals_sink"',
    from: '"materialize"."prod"."totals"',
    statement:
      'ALTER SINK "materialize"."sinks"."totals_sink" SET FROM "materialize"."prod"."totals"'
  }
  /** Objects by `db.schema.name` → id, and what the sink (u9) reads. */
  function catalog(objects: Record<string, string>, sinkReads: string[]) {
    const names = Object.fromEntries(Object.entries(objects).map(([name, id]) => [id, name]))
    return {
      async query<R>(text: string): Promise<R[]> {
        if (text.includes('mz_object_dependencies'))
          return sinkReads.map((id) => ({ id, name: names[id] })) as R[]
        const wanted = [...text.matchAll(/ = '([^']*)'/g)].map((m) => m[1]).join('.')
        const id = objects[wanted]
        return (id ? [{ id, name: wanted }] : []) as R[]
      }
    }
  }
  const OBJECTS = {
    'materialize.sinks.totals_sink': 'u9',
    'materialize.prod.totals': 'u21',
    'materialize.prod_dbt_deploy.totals': 'u5'
  }

  it('splits quoted names, doubled quotes included', () => {
    expect(nameParts('"materialize"."we""ird"."t.x"')).toEqual(['materialize', 'we"ird', 't.x'])
  })

  it('is empty when each sink reads the object its from names now', async () => {
    expect(await sinkMismatches(catalog(OBJECTS, ['u21']), [REPOINT])).toEqual([])
  })

  it('names a sink still reading the previous production, by name and id', async () => {
    const [mismatch] = await sinkMismatches(catalog(OBJECTS, ['u5']), [REPOINT])
    expect(mismatch).toEqual({
      repoint: REPOINT,
      problem:
        'sink materialize.sinks.totals_sink reads materialize.prod_dbt_deploy.totals (u5), not materialize.prod.totals (u21)'
    })
  })

  it('names a missing sink or source object', async () => {
    const without = (name: string) =>
      Object.fromEntries(Object.entries(OBJECTS).filter(([key]) => key !== name))
    const noSink = await sinkMismatches(catalog(without('materialize.sinks.totals_sink'), []), [
      REPOINT
    ])
    expect(noSink[0]?.problem).toBe('sink "materialize"."sinks"."totals_sink" does not exist')
    const noFrom = await sinkMismatches(catalog(without('materialize.prod.totals'), ['u5']), [
      REPOINT
    ])
    expect(noFrom[0]?.problem).toBe(
      '"materialize"."prod"."totals", which sink "materialize"."sinks"."totals_sink" should read, does not exist'
    )
  })
})

// The dependents walk and the production-side check (src/bluegreen/impact.ts) on a fake
// catalog: mz_objects and mz_object_dependencies as tables, queries answered by what they ask.
import { jest, describe, it, expect } from '@jest/globals'
import * as core from '../../__fixtures__/core.js'

jest.unstable_mockModule('@actions/core', () => core)
const { checkProductionSide, dependentsOf, productionSideProblems, surveyImpact } =
  await import('../../src/bluegreen/impact.js')
type CatalogObject = import('../../src/bluegreen/impact.js').CatalogObject

const config = { target: 'prod', schemas: ['prod'], clusters: ['analytics'] }

function object(
  id: string,
  schema: string,
  name: string,
  type: string,
  cluster: string | null = null
): CatalogObject {
  return { id, database: 'materialize', schema, name, type, cluster, here: true }
}

/** A catalog: objects and `[object, referenced]` edges; records every query it answers. */
function fakeCatalog(objects: CatalogObject[], edges: Array<[string, string]>, subscriptions = 0) {
  const queries: string[] = []
  const byId = new Map(objects.map((o) => [o.id, o]))
  const idsIn = (text: string): string[] =>
    [...(/referenced_object_id in \(([^)]*)\)/.exec(text)?.[1] ?? '').matchAll(/'([^']*)'/g)].map(
      (m) => m[1]!
    )
  const sql = {
    queries,
    async query<R>(text: string): Promise<R[]> {
      queries.push(text)
      if (text.includes('mz_subscriptions')) return [{ n: String(subscriptions) }] as R[]
      if (text.includes('mz_object_dependencies')) {
        const wanted = idsIn(text)
        return edges
          .filter(([, referenced]) => wanted.includes(referenced))
          .map(([id, referenced]) => ({ referenced_id: referenced, ...byId.get(id)! })) as R[]
      }
      // The deployment's objects: in a deployment schema or on a deployment cluster.
      const names = ['prod', 'prod_dbt_deploy', 'analytics', 'analytics_dbt_deploy']
      return objects.filter(
        (o) => names.includes(o.schema) || (o.cluster !== null && names.includes(o.cluster))
      ) as R[]
    }
  }
  return sql
}

const production = [
  object('u1', 'prod', 'stg', 'view'),
  object('u2', 'prod', 'totals', 'materialized-view', 'analytics'),
  object('u3', 'prod', 'totals_idx', 'index', 'analytics')
]

describe('dependentsOf', () => {
  it('walks the graph level by level, each object once, with what it was found reading', async () => {
    const objects = [
      ...production,
      object('u10', 'reporting', 'big', 'view'),
      object('u11', 'reporting', 'bigger', 'view'),
      object('u12', 'reporting', 'both', 'view')
    ]
    const sql = fakeCatalog(objects, [
      ['u2', 'u1'],
      ['u3', 'u2'],
      ['u10', 'u2'],
      ['u11', 'u10'],
      ['u12', 'u10'],
      ['u12', 'u11']
    ])
    const found = await dependentsOf(sql, [production[0]!])
    expect(found.map((d) => [d.id, d.reads.id])).toEqual([
      ['u2', 'u1'],
      ['u3', 'u2'],
      ['u10', 'u2'],
      ['u11', 'u10'],
      ['u12', 'u10']
    ])
    // One query per level: u1 → u2 → u3, u10 → u11, u12 → only u12 again, already known.
    expect(sql.queries).toHaveLength(4)
  })

  it('asks nothing without roots', async () => {
    const sql = fakeCatalog([], [])
    expect(await dependentsOf(sql, [])).toEqual([])
    expect(sql.queries).toEqual([])
  })
})

describe('surveyImpact', () => {
  const objects = [
    ...production,
    object('u4', 'prod_dbt_deploy', 'totals', 'materialized-view', 'analytics_dbt_deploy'),
    object('u10', 'reporting', 'big', 'view'),
    object('u11', 'prod', 'totals_serving_idx', 'index', 'serving'),
    object('u12', 'other', 'other_idx', 'index', 'analytics_dbt_deploy'),
    object('u13', 'prod_dbt_deploy', 'green_view', 'view'),
    object('u14', 'prod', 'events', 'source', 'analytics')
  ]
  const edges: Array<[string, string]> = [
    ['u10', 'u2'],
    ['u11', 'u2'],
    ['u13', 'u4']
  ]

  it('production: outside objects reading it, recursively, and those on its clusters', async () => {
    const impact = await surveyImpact(fakeCatalog(objects, edges, 2), config, 'production')
    expect(impact.dependents.map((d) => [d.id, d.reason])).toEqual([
      ['u11', 'in schema prod, on cluster serving'],
      ['u10', 'reads materialize.prod.totals']
    ])
    expect(impact.sourcesAndTables.map((o) => o.id)).toEqual(['u14'])
    expect(impact.subscriptions).toBe(2)
  })

  it('green: a foreign index on a green cluster is taken by the drop; green objects are not outside', async () => {
    const impact = await surveyImpact(fakeCatalog(objects, edges), config, 'green')
    expect(impact.dependents.map((d) => [d.id, d.reason])).toEqual([
      ['u12', 'in schema other, on cluster analytics_dbt_deploy']
    ])
  })

  it('counts an object in another database as outside, whatever its schema name', async () => {
    const elsewhere = { ...object('u20', 'prod', 'copy', 'view'), database: 'other', here: false }
    const impact = await surveyImpact(
      fakeCatalog([...production, elsewhere], [['u20', 'u2']]),
      config,
      'production'
    )
    expect(impact.dependents.map((d) => d.id)).toEqual(['u20'])
  })
})

describe('the production side', () => {
  it('is safe with only the deployment on it', () => {
    expect(productionSideProblems(config, production)).toEqual([])
  })

  it('names sources and tables in a production schema, foreign and PR objects on a production cluster', () => {
    const problems = productionSideProblems(config, [
      ...production,
      object('u5', 'prod', 'raw_orders', 'table'),
      object('u6', 'raw', 'events', 'source', 'analytics'),
      object('u7', 'pr_12', 'totals', 'materialized-view', 'analytics'),
      object('u8', 'pr_12_staging', 'stg_idx', 'index', 'analytics'),
      object('u9', 'prod_dbt_deploy', 'totals', 'materialized-view', 'analytics_dbt_deploy')
    ])
    expect(problems).toHaveLength(3)
    expect(problems[0]).toContain('materialize.prod.raw_orders (table)')
    expect(problems[1]).toContain('materialize.raw.events (source)')
    expect(problems[1]).not.toContain('pr_12')
    expect(problems[2]).toContain('materialize.pr_12.totals (materialized-view)')
    expect(problems[2]).toContain('materialize.pr_12_staging.stg_idx (index)')
  })

  it('accepts the seed tables the deployment rebuilds in green, not other tables', () => {
    const objects = [
      ...production,
      object('u5', 'prod', 'raw_orders', 'table'),
      object('u6', 'prod', 'hand_made', 'table')
    ]
    const problems = productionSideProblems(config, objects, ['raw_orders'])
    expect(problems).toHaveLength(1)
    expect(problems[0]).toContain('materialize.prod.hand_made (table)')
    expect(problems[0]).not.toContain('raw_orders')
  })

  it('checkProductionSide refuses with every problem, naming the deployment target', async () => {
    const sql = fakeCatalog([...production, object('u5', 'prod', 'raw_orders', 'table')], [])
    await expect(checkProductionSide(sql, config)).rejects.toThrow(
      /vars\.deployment\.prod: sources or tables in a production schema.*materialize\.prod\.raw_orders/
    )
    await expect(checkProductionSide(fakeCatalog(production, []), config)).resolves.toBeUndefined()
  })
})

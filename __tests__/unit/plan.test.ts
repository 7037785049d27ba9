// The cutover plan (src/bluegreen/plan.ts): the sinks deploy_promote repoints, read from the
// production manifest as its discover_sinks reads dbt's graph, and the plan's rendering.
import { jest, describe, it, expect } from '@jest/globals'
import * as core from '../../__fixtures__/core.js'

jest.unstable_mockModule('@actions/core', () => core)
const { buildPlan, planStatements, renderPlan, seedTables, sinkRepoints } =
  await import('../../src/bluegreen/plan.js')
type Impact = import('../../src/bluegreen/impact.js').Impact

const config = { target: 'prod', schemas: ['prod'], clusters: ['analytics'] }

const model = (schema: string, name: string, materialized: string, dependsOn: string[] = []) => ({
  resource_type: 'model',
  database: 'materialize',
  schema,
  name,
  config: { materialized },
  depends_on: { nodes: dependsOn }
})

const manifest = JSON.stringify({
  nodes: {
    'model.p.totals': model('prod', 'totals', 'materialized_view'),
    'model.p.other': model('staging', 'other', 'view'),
    'model.p.totals_sink': model('sinks', 'totals_sink', 'sink', [
      'model.p.totals',
      'model.p.other'
    ]),
    'model.p.other_sink': model('sinks', 'other_sink', 'sink', ['model.p.other']),
    'model.p.source_sink': model('sinks', 'source_sink', 'sink', ['source.p.raw.events']),
    'seed.p.raw': { resource_type: 'seed', schema: 'prod', name: 'raw' },
    'seed.p.codes': { resource_type: 'seed', schema: 'prod', name: 'codes', alias: 'iso_codes' },
    'seed.p.elsewhere': { resource_type: 'seed', schema: 'seeds', name: 'elsewhere' }
  }
})

const impact: Impact = {
  objects: [],
  dependents: [
    {
      id: 'u9',
      database: 'materialize',
      schema: 'sinks',
      name: 'totals_sink',
      type: 'sink',
      cluster: 'sinks',
      here: true,
      reason: 'reads materialize.prod.totals'
    },
    {
      id: 'u10',
      database: 'materialize',
      schema: 'reporting',
      name: 'big',
      type: 'view',
      cluster: null,
      here: true,
      reason: 'reads materialize.prod.totals'
    }
  ],
  sourcesAndTables: [],
  subscriptions: 1
}

describe('sinkRepoints', () => {
  it('repoints sink models whose first upstream node is in a deployment schema, as deploy_promote does', () => {
    expect(sinkRepoints(manifest, config)).toEqual([
      {
        sink: '"materialize"."sinks"."totals_sink"',
        from: '"materialize"."prod"."totals"',
        statement:
          'ALTER SINK "materialize"."sinks"."totals_sink" SET FROM "materialize"."prod"."totals"'
      }
    ])
  })

  it('finds nothing in a manifest without sink models', () => {
    expect(sinkRepoints(JSON.stringify({ nodes: {} }), config)).toEqual([])
  })
})

describe('seedTables', () => {
  it('names the seed tables in a deployment schema by their relation name', () => {
    expect(seedTables(manifest, config)).toEqual(['raw', 'iso_codes'])
  })
})

describe('the plan', () => {
  const sinks = sinkRepoints(manifest, config)

  it('lists the swap, each ALTER SINK and the drop of the previous production, in order', () => {
    const plan = buildPlan(config, impact, sinks, { keepPrevious: false, dryRun: false })
    expect(planStatements(plan)).toEqual([
      'BEGIN;',
      'ALTER SCHEMA "prod" SWAP WITH "prod_dbt_deploy";',
      'ALTER CLUSTER "analytics" SWAP WITH "analytics_dbt_deploy";',
      'COMMIT;',
      '-- then deploy_promote repoints each sink:',
      'ALTER SINK "materialize"."sinks"."totals_sink" SET FROM "materialize"."prod"."totals";',
      '-- then the previous production, now under the *_dbt_deploy names, is dropped:',
      'DROP SCHEMA IF EXISTS "prod_dbt_deploy" CASCADE;',
      'DROP CLUSTER IF EXISTS "analytics_dbt_deploy" CASCADE;'
    ])
    // A sink that deploy_promote repoints is marked; other dependents keep their reason.
    expect(plan.dependents.map((d) => [d.name, d.reason])).toEqual([
      [
        'materialize.sinks.totals_sink',
        'reads materialize.prod.totals; deploy_promote repoints it'
      ],
      ['materialize.reporting.big', 'reads materialize.prod.totals']
    ])
  })

  it('says when the previous production is kept, or why its drop was blocked', () => {
    const kept = buildPlan(config, impact, [], { keepPrevious: true, dryRun: false })
    expect(planStatements(kept).slice(4)).toEqual([
      '-- no sink model reads a deployment schema: no ALTER SINK',
      '-- previous production kept under the *_dbt_deploy names ("keep-previous")'
    ])
    const blocked = buildPlan(config, impact, [], { keepPrevious: false, dryRun: false })
    blocked.previous.blockedBy = ['materialize.reporting.big']
    expect(planStatements(blocked).at(-1)).toBe(
      '-- previous production kept: dropping it would take materialize.reporting.big'
    )
  })

  it('renders the summary section: dry run, SQL, dependents, accepted drops and SUBSCRIBEs', () => {
    const plan = buildPlan(config, impact, sinks, { keepPrevious: false, dryRun: true })
    plan.previous.accepted = ['materialize.reporting.big']
    const markdown = renderPlan(plan)
    expect(markdown).toContain('### Cutover plan')
    expect(markdown).toContain('**Dry run**: nothing below was run.')
    expect(markdown).toContain('```sql\nBEGIN;\n')
    expect(markdown).toContain(
      '| materialize.reporting.big | view | – | reads materialize.prod.totals |'
    )
    expect(markdown).toContain('Dropped with it ("allow-dependents"): materialize.reporting.big.')
    expect(markdown).toContain(
      'Active SUBSCRIBEs on the swapped clusters: 1 (the swap breaks them).'
    )
    expect(markdown).not.toContain('Sources and tables')
  })

  it('says so when nothing outside the deployment reads production', () => {
    const quiet = { ...impact, dependents: [], subscriptions: 0 }
    const markdown = renderPlan(
      buildPlan(config, quiet, [], { keepPrevious: false, dryRun: false })
    )
    expect(markdown).toContain('No object outside the deployment reads production.')
    expect(markdown).toContain('Active SUBSCRIBEs on the swapped clusters: 0.')
    expect(markdown).not.toContain('Dry run')
  })
})

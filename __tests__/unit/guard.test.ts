// The drop guard (src/bluegreen/guard.ts) on a fake run and catalog: what "allow-dependents"
// accepts is noted and dropped, anything else blocks with an error that names it.
import { jest, describe, it, expect } from '@jest/globals'
import * as core from '../../__fixtures__/core.js'

jest.unstable_mockModule('@actions/core', () => core)
const { blockingDependents, guardGreenDrop } = await import('../../src/bluegreen/guard.js')
const { buildPlan } = await import('../../src/bluegreen/plan.js')
type BlueGreenRun = import('../../src/bluegreen/run.js').BlueGreenRun

const config = { target: 'prod', schemas: ['prod'], clusters: ['analytics'] }
const base = { database: 'materialize', here: true }
const green = {
  ...base,
  id: 'u2',
  schema: 'prod_dbt_deploy',
  name: 'totals',
  type: 'materialized-view',
  cluster: 'analytics_dbt_deploy'
}
const view = { ...base, id: 'u10', schema: 'reporting', name: 'big', type: 'view', cluster: null }
const sink = { ...base, id: 'u11', schema: 'sinks', name: 'out', type: 'sink', cluster: 'sinks' }

/** The green side holds `green`; the view and the sink read it. */
function fakeRun(allowDependents: string[]) {
  const sql = {
    async query<R>(text: string): Promise<R[]> {
      if (text.includes('mz_subscriptions')) return [{ n: '0' }] as R[]
      if (text.includes('mz_object_dependencies'))
        return (
          text.includes("'u2'") ? [view, sink].map((o) => ({ ...o, referenced_id: 'u2' })) : []
        ) as R[]
      return [green] as R[]
    }
  }
  const run = {
    config,
    inputs: { blueGreen: { allowDependents } },
    notes: [] as string[],
    cutover: buildPlan(
      config,
      { objects: [], dependents: [], sourcesAndTables: [], subscriptions: 0 },
      [],
      { keepPrevious: false, dryRun: false }
    ),
    warehouse: () => Promise.resolve(sql)
  }
  return run as typeof run & BlueGreenRun
}

describe('the drop guard', () => {
  it('blocks on every outside object "allow-dependents" does not name, and records it in the plan', async () => {
    const run = fakeRun(['materialize.sinks.out'])
    const blocking = await blockingDependents(run)
    expect(blocking.map((d) => d.id)).toEqual(['u10'])
    expect(run.cutover.previous).toMatchObject({
      action: 'keep',
      blockedBy: ['materialize.reporting.big'],
      accepted: ['materialize.sinks.out']
    })
    expect(run.notes.join('\n')).toContain(
      '"allow-dependents" accepts: materialize.sinks.out (sink'
    )
  })

  it('guardGreenDrop throws naming each blocking object and how to finish, or passes when all are accepted', async () => {
    const refused = guardGreenDrop(fakeRun([]), 'green')
    await expect(refused).rejects.toThrow(
      'Dropping green (prod_dbt_deploy, analytics_dbt_deploy) would also drop 2 object(s) outside the deployment: ' +
        'materialize.reporting.big (view, reads materialize.prod_dbt_deploy.totals); ' +
        'materialize.sinks.out (sink, reads materialize.prod_dbt_deploy.totals). Nothing was dropped.'
    )
    await expect(guardGreenDrop(fakeRun([]), 'green')).rejects.toThrow(
      '"allow-dependents: materialize.reporting.big materialize.sinks.out"'
    )
    const all = fakeRun(['materialize.reporting.big', 'materialize.sinks.out'])
    await expect(guardGreenDrop(all, 'green')).resolves.toBeUndefined()
    expect(all.cutover.previous.action).toBe('drop')
  })
})

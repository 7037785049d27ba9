import { describe, it, expect } from '@jest/globals'
import { dropEnvironment } from '../../src/warehouse/environment.js'
import type { Warehouse } from '../../src/warehouse/pg.js'

function fakeWarehouse(schemas: string[], clusters: string[], isMaterialize = true) {
  const dropped: string[] = []
  const warehouse: Warehouse = {
    isMaterialize,
    query: async () => [],
    schemaNames: async () => schemas,
    clusterNames: async () => (isMaterialize ? clusters : []),
    dropSchema: async (name) => void dropped.push(`schema ${name}`),
    dropCluster: async (name) => void dropped.push(`cluster ${name}`),
    close: async () => undefined
  }
  return { warehouse, dropped }
}

const SCHEMAS = ['prod', 'prod_dbt_deploy', 'prod_dbt_deploy_x', 'pr_7', 'pr_7_extra', 'pr_70']
const CLUSTERS = ['analytics', 'analytics_dbt_deploy', 'pr_7', 'pr_70']

describe('dropEnvironment', () => {
  it('exact: only the named schemas and clusters, schemas first', async () => {
    const { warehouse, dropped } = fakeWarehouse(SCHEMAS, CLUSTERS)
    const names = { schemas: ['prod_dbt_deploy'], clusters: ['analytics_dbt_deploy'] }
    expect(await dropEnvironment(warehouse, names, 'exact')).toEqual([
      'schema prod_dbt_deploy',
      'cluster analytics_dbt_deploy'
    ])
    expect(dropped).toEqual(['schema prod_dbt_deploy', 'cluster analytics_dbt_deploy'])
  })

  it('with-suffixes: the name and every <name>_*, never a longer number', async () => {
    const { warehouse, dropped } = fakeWarehouse(SCHEMAS, CLUSTERS)
    await dropEnvironment(warehouse, { schemas: ['pr_7'], clusters: ['pr_7'] }, 'with-suffixes')
    expect(dropped).toEqual(['schema pr_7', 'schema pr_7_extra', 'cluster pr_7'])
  })

  it('drops nothing that does not exist, and reports that', async () => {
    const { warehouse, dropped } = fakeWarehouse(['prod'], [], false)
    const names = { schemas: ['prod_dbt_deploy'], clusters: ['analytics_dbt_deploy'] }
    expect(await dropEnvironment(warehouse, names, 'exact')).toEqual([])
    expect(dropped).toEqual([])
  })
})

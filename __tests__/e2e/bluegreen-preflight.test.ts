// The checks before deploy_init (issue 9, "Tests must show" 4, 5, 6, 7 and 10), in order on one
// emulator (or the real Materialize), one workspace and one bucket: production starts at release v1. A refused run
// must leave production, green and S3 as they were and never reach deploy_init.
import { describe, expect, it, jest } from '@jest/globals'
import {
  GREEN_SCHEMA,
  KEYS,
  PROD_SCHEMA,
  blueGreenTarget,
  errorText,
  expectOutputs,
  greenLeftovers,
  production,
  releaseIn,
  releaseModel,
  scriptHydration,
  sql,
  useBlueGreenSuite
} from './support/bluegreen.js'
import type { ActionRun } from './support/runner.js'
import { getObject, listKeys } from './support/s3.js'
import { expectExit } from './support/slim.js'
import { dbtWithMaterialize } from './support/venvs.js'

jest.setTimeout(900_000) // a bound for hung tests only: runs take minutes on a loaded machine

/** The command line the action echoes when it starts deploy_init. */
const DEPLOY_INIT = /run-operation[^\n]*deploy_init/

const notices = (run: ActionRun): string =>
  run.annotations
    .filter((a) => a.level === 'notice')
    .map((a) => a.message)
    .join('\n')

describe(`blue/green preflight on ${blueGreenTarget()}`, () => {
  const suite = useBlueGreenSuite('bg-preflight')
  const { run } = suite

  /** Runs a deploy that must be refused before deploy_init; returns its error text. */
  async function expectRefused(
    inputs: Record<string, string>,
    env: Record<string, string> = {}
  ): Promise<string> {
    const before = await production(suite.mz)
    const keysBefore = await listKeys(suite.bucket)
    const result = await run(inputs, { env })
    expectExit(result, 1)
    expect(result.stdout).not.toMatch(DEPLOY_INIT)
    expect(await greenLeftovers(suite.mz)).toEqual([])
    expect(await production(suite.mz)).toEqual(before)
    // Nothing staged or published, and the lock released.
    expect(await listKeys(suite.bucket)).toEqual(keysBefore)
    expect(result.outputs.deployed).toBe('false')
    return errorText(result)
  }

  it('5. dbt-materialize 1.9.7 is refused before anything is created, naming the floor', async () => {
    const oldDbt = await dbtWithMaterialize('1.9.7')
    suite.ws.commit('Release v2', releaseModel('v2'))

    const message = await expectRefused({ 'dbt-path': oldDbt })
    expect(message).toMatch(/dbt-materialize 1\.9\.7 is older than 1\.9\.8/)
    expect(message).toMatch(/max_retries/)
    expect(message).toContain('https://github.com/MaterializeInc/materialize/pull/36155')
  })

  it('4. a generate_schema_name that ignores the deploy suffix is refused before deploy_init', async () => {
    const override =
      '{% macro generate_schema_name(custom_schema_name, node) -%}\n' +
      '    {{ target.schema }}\n' +
      '{%- endmacro %}\n'
    suite.ws.commit('Own schema names', { 'macros/generate_schema_name.sql': override })

    const message = await expectRefused({})
    expect(message).toMatch(/model\.bluegreen\.release builds into schema "prod"/)
    expect(message).toContain(GREEN_SCHEMA)
    expect(message).toMatch(/bluegreen\.generate_schema_name/)
    suite.ws.commit('dbt-materialize schema names', { 'macros/generate_schema_name.sql': null })
  })

  it('7. a test on an excluded source model does not block promotion', async () => {
    // A source model (excluded by default) with a test: green never builds it, so its test
    // would fail against green if dbt test did not use the run's exclusions.
    suite.ws.commit('Add a source model with a test', {
      ...releaseModel('v3'),
      'models/counter.sql':
        "{{ config(materialized='source', cluster='analytics') }}\n\nFROM LOAD GENERATOR COUNTER\n",
      'models/counter.yml':
        'version: 2\n\nmodels:\n  - name: counter\n    columns:\n      - name: counter\n        data_tests: [not_null]\n'
    })
    await scriptHydration(suite.warehouse, 0)

    const result = await run()
    expectExit(result, 0)
    expectOutputs(result, { status: 'promoted', promoted: 'true' })
    expect(result.stdout).toMatch(/unique_release_version/)
    expect(result.stdout).not.toMatch(/not_null_counter_counter/)
    expect(await releaseIn(suite.mz, PROD_SCHEMA)).toBe('v3')
    expect(await greenLeftovers(suite.mz)).toEqual([])
  })

  it('6. CI_TAG in the job environment is kept from dbt, with a notice, and the deploy goes through', async () => {
    suite.ws.commit('Release v4', releaseModel('v4'))

    const result = await run({ 'run-tests': 'false' }, { env: { CI_TAG: 'gh_ci_42' } })
    expectExit(result, 0)
    expectOutputs(result, { status: 'promoted', promoted: 'true' })
    const notice = notices(result)
    expect(notice).toMatch(
      /CI_TAG is set in the job's environment; blue\/green runs dbt without it/
    )
    // The installed dbt-materialize 1.9.10 is one of the releases where CI_TAG breaks deploy_init.
    expect(notice).toContain('https://github.com/MaterializeInc/materialize/pull/38066')
    expect(result.summary).toContain('CI_TAG')
    expect(await releaseIn(suite.mz, PROD_SCHEMA)).toBe('v4')
    expect(await greenLeftovers(suite.mz)).toEqual([])
  })

  it('10. a jaffle_shop-style project with its seed in the production schema deploys, seed and all', async () => {
    // The seed moves into the deployment schema and the staging model reads it with ref().
    const project = [
      'name: bluegreen',
      "version: '1.0'",
      'config-version: 2',
      'profile: bluegreen',
      '',
      "model-paths: ['models']",
      "seed-paths: ['seeds']",
      '',
      'models:',
      '  bluegreen:',
      '    +cluster: analytics',
      '',
      'vars:',
      '  deployment:',
      '    prod:',
      "      clusters: ['analytics']",
      "      schemas: ['prod']",
      ''
    ].join('\n')
    const staging =
      "{{ config(materialized='view') }}\n\n" +
      "select order_id, customer_id, status, amount\nfrom {{ ref('raw_orders') }}\n"
    const sha = suite.ws.commit('Seeds in the production schema', {
      ...releaseModel('v5'),
      'dbt_project.yml': project,
      'models/stg_orders.sql': staging
    })

    const first = await run()
    expectExit(first, 0)
    expectOutputs(first, { status: 'promoted', promoted: 'true' })
    expect(first.summary).toContain('dbt seed (green)')
    const seeded = await sql<{ n: string }>(
      suite.mz,
      `SELECT count(*) AS n FROM ${PROD_SCHEMA}.raw_orders`
    )
    expect(seeded[0]?.n).toBe('5')
    const totals = await sql<{ n: string }>(
      suite.mz,
      `SELECT count(*) AS n FROM ${PROD_SCHEMA}.order_totals`
    )
    expect(totals[0]?.n).toBe('3')
    expect(await releaseIn(suite.mz, PROD_SCHEMA)).toBe('v5')
    expect(await greenLeftovers(suite.mz)).toEqual([])
    expect((await getObject(suite.bucket, KEYS.manifest))?.metadata['git-sha']).toBe(sha)

    // The next push deploys again: the seed, now in production, is rebuilt into green.
    suite.ws.commit('Release v6', releaseModel('v6'))
    const second = await run({ 'run-tests': 'false' })
    expectExit(second, 0)
    expectOutputs(second, { status: 'promoted', promoted: 'true' })
    expect(await releaseIn(suite.mz, PROD_SCHEMA)).toBe('v6')
    const reseeded = await sql<{ n: string }>(
      suite.mz,
      `SELECT count(*) AS n FROM ${PROD_SCHEMA}.raw_orders`
    )
    expect(reseeded[0]?.n).toBe('5')
    expect(await greenLeftovers(suite.mz)).toEqual([])
  })
})

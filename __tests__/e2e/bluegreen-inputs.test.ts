// Bad blue/green inputs are refused before anything is touched (issue 4, "Tests must show" 11;
// the rollback-without-keep-previous case is in bluegreen-deploy). S3 goes through a recording
// proxy, so "nothing touched S3" means no request at all; where the check needs no
// Materialize, Materialize is unreachable, so a run that tried SQL first would fail on that.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import { freePort } from '../../dev/net.js'
import {
  FIXTURE_VARS,
  blueGreenTarget,
  errorText,
  greenLeftovers,
  production,
  projectWithVars,
  useBlueGreenSuite
} from './support/bluegreen.js'
import { startFaultProxy, type FaultProxy } from './support/s3-faults.js'
import { listKeys, s3Endpoint } from './support/s3.js'
import { expectExit } from './support/slim.js'

jest.setTimeout(900_000) // a bound for hung tests only: runs take minutes on a loaded machine

interface BadInput {
  name: string
  inputs?: Record<string, string>
  /** Replaces the fixture's `vars:` block. */
  vars?: string
  /** The check needs the production catalog, so Materialize stays reachable. */
  needsMaterialize?: boolean
  /** Patterns the error must match, naming what is wrong. */
  error: RegExp[]
}

const deploymentVars = (clusters: string, schemas: string): string =>
  `  deployment:\n    prod:\n      clusters: ${clusters}\n      schemas: ${schemas}\n`

const CASES: BadInput[] = [
  {
    name: 'a target without a deployment config',
    inputs: { target: 'staging' },
    error: [/staging/, /deployment/]
  },
  { name: 'a project without vars.deployment', vars: '', error: [/deployment/] },
  {
    name: 'an empty cluster list',
    vars: deploymentVars('[]', "['prod']"),
    error: [/clusters/, /empty/i]
  },
  {
    name: 'an empty schema list',
    vars: deploymentVars("['analytics']", '[]'),
    error: [/schemas/, /empty/i]
  },
  { name: 'an unknown phase', inputs: { phase: 'promte' }, error: [/promte/, /phase/] },
  {
    name: 'a target missing from profiles.yml',
    inputs: { target: 'prdo' },
    error: [/Input "target" is "prdo"/, /"prod", "staging"/]
  },
  {
    name: 'a dbt-path that is not there',
    inputs: { 'dbt-path': 'bin/dbt' },
    error: [/Input "dbt-path" resolves to "[^"]*\/bin\/dbt"/]
  },
  {
    name: 'a materialize-url password with an unencoded "%"',
    inputs: { 'materialize-url': 'postgres://materialize:50%off@127.0.0.1:6875/materialize' },
    error: [/Input "materialize-url"/, /percent-encode/i, /"%25"/]
  },
  {
    name: "a diff on production's cluster",
    inputs: { diff: 'report', 'diff-cluster': 'analytics' },
    error: [/Input "diff-cluster" is "analytics", a production cluster/, /"analytics_dbt_deploy"/]
  },
  {
    name: 'a diff key that is an expression',
    inputs: { diff: 'gate', 'diff-keys': '{scores: "lower(id)"}' },
    error: [/Input "diff-keys"/, /scores/]
  },
  {
    name: 'a malformed duration',
    inputs: { 'await-timeout': 'soon' },
    error: [/await-timeout/, /soon/]
  },
  {
    name: 'an environment-url that is not a URL',
    inputs: { 'environment-url': 'console.materialize.com' },
    error: [/Input "environment-url" is "console\.materialize\.com"/, /http:\/\/ or https:\/\//]
  },
  {
    name: 'an environment name longer than GitHub allows',
    inputs: { environment: 'p'.repeat(256) },
    error: [/Input "environment"/, /up to 255 characters/]
  },
  {
    name: 'a production schema that does not exist',
    vars: deploymentVars("['analytics']", "['prod', 'marts']"),
    needsMaterialize: true,
    error: [/marts/]
  },
  {
    name: 'a production cluster that does not exist',
    vars: deploymentVars("['analytics', 'reporting']", "['prod']"),
    needsMaterialize: true,
    error: [/reporting/]
  }
]

describe(`blue/green input validation on ${blueGreenTarget()}`, () => {
  const suite = useBlueGreenSuite('bg-inputs')
  let s3: FaultProxy

  beforeAll(async () => {
    s3 = await startFaultProxy(s3Endpoint())
  })

  afterAll(async () => {
    await s3?.stop()
  })

  it.each(CASES)('11. refuses $name before touching S3 or Materialize', async (bad) => {
    suite.ws.commit(bad.name, projectWithVars(bad.vars ?? FIXTURE_VARS))
    const before = await production(suite.mz)
    s3.requests.length = 0
    const env: Record<string, string> = bad.needsMaterialize
      ? {}
      : { MZ_PORT: String(await freePort()) }

    const inputs = { ...bad.inputs, 's3-endpoint': s3.url }
    const result = await suite.run(inputs, { env })
    expectExit(result, 1)
    const message = errorText(result)
    for (const pattern of bad.error) expect(message).toMatch(pattern)
    expect(message).not.toContain('50%off')
    expect(message).not.toMatch(/ECONNREFUSED/)
    expect(s3.requests.map((r) => `${r.method} ${r.path}`)).toEqual([])
    expect(await listKeys(suite.bucket)).toEqual([])
    expect(await greenLeftovers(suite.mz)).toEqual([])
    expect(await production(suite.mz)).toEqual(before)
  })
})

import { jest, describe, it, expect, beforeEach, afterAll } from '@jest/globals'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import yaml from 'js-yaml'
import * as core from '../../__fixtures__/core.js'

jest.unstable_mockModule('@actions/core', () => core)
const { getInputs, parseStateUri, MODE_ONLY_INPUTS } = await import('../../src/inputs.js')
const { InputError } = await import('../../src/errors.js')

const workspace = mkdtempSync(path.join(os.tmpdir(), 'inputs-'))
writeFileSync(path.join(workspace, 'dbt_project.yml'), 'name: p\n')
mkdirSync(path.join(workspace, 'noprofiles'))
mkdirSync(path.join(workspace, 'profiles'))
writeFileSync(path.join(workspace, 'profiles', 'profiles.yml'), 'p: {}\n')

const valid = { mode: 'slim', 'state-uri': 's3://state-bucket/prod' }

function withInputs(values: Record<string, string>): void {
  core.resetCore()
  Object.assign(core.inputs, values)
}

beforeEach(() => {
  process.env.GITHUB_WORKSPACE = workspace
  withInputs(valid)
})
afterAll(() => rmSync(workspace, { recursive: true, force: true }))

describe('getInputs', () => {
  it('applies the documented defaults', () => {
    const parsed = getInputs()
    expect(parsed).toMatchObject({
      mode: 'slim',
      phase: 'build',
      state: { bucket: 'state-bucket', prefix: 'prod', uri: 's3://state-bucket/prod' },
      s3: { maxAttempts: 3, timeoutMs: 30_000 },
      defer: false,
      favorState: false,
      skipUnchanged: true,
      uploadManifest: 'auto',
      onStateError: 'fail',
      selection: { select: undefined, selector: undefined, exclude: undefined },
      dbt: { executable: 'dbt', projectDir: workspace, vars: {}, extraArgs: [], cacheParse: true }
    })
  })

  it('parses vars, dbt-args and lists', () => {
    withInputs({
      ...valid,
      vars: '{a: 1, b: [x]}',
      'dbt-args': `--threads 8 --full-refresh --log-format 'json'`,
      exclude: 'tag:slow  tag:big',
      'profiles-dir': 'profiles'
    })
    const parsed = getInputs()
    expect(parsed.dbt.vars).toEqual({ a: 1, b: ['x'] })
    expect(parsed.dbt.extraArgs).toEqual([
      '--threads',
      '8',
      '--full-refresh',
      '--log-format',
      'json'
    ])
    expect(parsed.phase === 'build' && parsed.selection.exclude).toEqual(['tag:slow', 'tag:big'])
    expect(parsed.dbt.profilesDir).toBe(path.join(workspace, 'profiles'))
  })

  it('masks the github token as soon as it is read', () => {
    withInputs({ ...valid, 'github-token': 'ghs_secret_token' })
    getInputs()
    expect(core.setSecret).toHaveBeenCalledWith('ghs_secret_token')
  })

  it('needs no state-uri for teardown', () => {
    withInputs({ mode: 'slim', phase: 'teardown' })
    expect(getInputs()).toMatchObject({ phase: 'teardown' })
  })

  it('keeps a date in vars the text dbt renders, as YAML core schema does', () => {
    withInputs({ ...valid, vars: '{as_of: 2024-01-01, at: 2024-01-01T10:00:00Z, n: 1.5}' })
    expect(getInputs().dbt.vars).toEqual({
      as_of: '2024-01-01',
      at: '2024-01-01T10:00:00Z',
      n: 1.5
    })
  })

  it('takes a relative dbt-path from the workspace, not from project-dir', () => {
    mkdirSync(path.join(workspace, 'project'), { recursive: true })
    writeFileSync(path.join(workspace, 'project', 'dbt_project.yml'), 'name: p\n')
    withInputs({ ...valid, 'project-dir': 'project', 'dbt-path': 'tools/dbt' })
    expect(getInputs().dbt.executable).toBe(path.join(workspace, 'tools', 'dbt'))
    withInputs({ ...valid, 'dbt-path': 'dbt-wrapper' })
    expect(getInputs().dbt.executable).toBe('dbt-wrapper')
  })

  it('reads the data diff settings', () => {
    expect(getInputs().diff).toEqual({
      mode: 'off',
      maxRowChangePercent: 10,
      allowSchemaChange: true,
      timeoutMs: 300_000,
      maxObjects: 20,
      cluster: undefined,
      keys: {},
      downstream: false
    })
    withInputs({
      ...valid,
      diff: 'gate',
      'diff-max-row-change': '2.5%',
      'diff-timeout': '90s',
      'diff-cluster': 'diff_cluster',
      'diff-keys': '{orders: order_id, lines: [order_id, line]}'
    })
    expect(getInputs().diff).toMatchObject({
      mode: 'gate',
      maxRowChangePercent: 2.5,
      timeoutMs: 90_000,
      cluster: 'diff_cluster',
      keys: { orders: ['order_id'], lines: ['order_id', 'line'] }
    })
  })

  it('refuses favor-state without defer, naming both inputs', () => {
    withInputs({ ...valid, 'favor-state': 'true' })
    expect(() => getInputs()).toThrow(
      expect.objectContaining({
        input: 'favor-state',
        message: expect.stringContaining('"defer: true"')
      })
    )
    withInputs({ ...valid, 'favor-state': 'true', defer: 'true' })
    expect(getInputs()).toMatchObject({ defer: true, favorState: true })
  })

  const badInputs: Array<[string, Record<string, string>]> = [
    ['mode', { mode: 'turbo' }],
    ['diff', { diff: 'strict' }],
    ['diff-max-row-change', { 'diff-max-row-change': '101' }],
    ['diff-max-row-change', { 'diff-max-row-change': 'ten' }],
    ['diff-allow-schema-change', { 'diff-allow-schema-change': 'yes' }],
    ['diff-timeout', { 'diff-timeout': 'forever' }],
    ['diff-max-objects', { 'diff-max-objects': '0' }],
    ['diff-keys', { 'diff-keys': '[orders]' }],
    ['diff-keys', { 'diff-keys': '{orders: "lower(id)"}' }],
    ['diff-keys', { 'diff-keys': '{orders: []}' }],
    ['diff-downstream', { 'diff-downstream': 'all' }],
    ['phase', { phase: 'deploy-everything' }],
    ['state-uri', { 'state-uri': 'https://bucket/prod' }],
    ['state-uri', { 'state-uri': 's3://' }],
    ['state-uri', { 'state-uri': 's3://UPPER_case/prod' }],
    ['state-uri', { 'state-uri': '' }],
    ['defer', { defer: 'yes' }],
    ['favor-state', { 'favor-state': 'maybe' }],
    ['skip-unchanged', { 'skip-unchanged': '1' }],
    ['cache-packages', { 'cache-packages': 'on' }],
    ['pr-comment', { 'pr-comment': 'nope' }],
    ['project-dir', { 'project-dir': '../outside' }],
    ['project-dir', { 'project-dir': 'missing-dir' }],
    ['project-dir', { 'project-dir': 'profiles' }],
    ['profiles-dir', { 'profiles-dir': '/etc' }],
    ['profiles-dir', { 'profiles-dir': 'noprofiles' }],
    ['s3-max-attempts', { 's3-max-attempts': '-1' }],
    ['s3-max-attempts', { 's3-max-attempts': '11' }],
    ['s3-timeout', { 's3-timeout': '0' }],
    ['s3-timeout', { 's3-timeout': '2.5' }],
    ['s3-endpoint', { 's3-endpoint': 'not a url' }],
    ['upload-manifest', { 'upload-manifest': 'sometimes' }],
    ['on-state-error', { 'on-state-error': 'ignore' }],
    ['vars', { vars: '{unclosed: [' }],
    ['vars', { vars: '- a list' }],
    ['vars', { vars: 'just-a-string' }],
    ['pr-environment', { 'pr-environment': 'bad-name!' }],
    ['pr-environment', { 'pr-environment': '9lives' }],
    ['dbt-args', { 'dbt-args': '--target prod' }],
    ['dbt-args', { 'dbt-args': '--select=foo' }],
    ['dbt-args', { 'dbt-args': "--threads '4" }],
    ['selector', { select: 'a', selector: 'b' }]
  ]

  it.each(badInputs)('rejects a bad "%s" with a message naming it', (name, values) => {
    withInputs({ ...valid, ...values })
    let caught: unknown
    try {
      getInputs()
    } catch (error) {
      caught = error
    }
    expect(caught).toBeInstanceOf(InputError)
    expect((caught as Error).message).toContain(`"${name}"`)
    expect((caught as Error).message).toMatch(
      /accepted|must|needs|required|cannot|outside|not a directory|holds no|use the/
    )
  })
})

describe('parseStateUri', () => {
  it.each([
    ['s3://bucket', { bucket: 'bucket', prefix: '' }],
    ['s3://bucket/', { bucket: 'bucket', prefix: '' }],
    ['s3://my.bucket-1/a/b/', { bucket: 'my.bucket-1', prefix: 'a/b' }]
  ])('%s', (uri, expected) => {
    expect(parseStateUri(uri)).toMatchObject(expected)
  })
})

describe('blue/green inputs', () => {
  const blueGreen = { mode: 'blue-green', 'state-uri': 's3://state-bucket/prod' }

  it('defaults to phase all with bounded waits', () => {
    withInputs(blueGreen)
    expect(getInputs()).toMatchObject({
      mode: 'blue-green',
      phase: 'all',
      blueGreen: {
        awaitWith: 'action',
        lagThresholdSeconds: 1,
        replicaGraceSeconds: 120,
        pollIntervalMs: 1000,
        awaitTimeoutMs: 1_800_000,
        runTests: true,
        keepPrevious: false,
        cleanupOnFailure: true,
        swapRetries: 3
      }
    })
  })

  it('reads allow-dependents as qualified names and dry-run on phase promote', () => {
    withInputs({
      ...blueGreen,
      phase: 'promote',
      'dry-run': 'true',
      'allow-dependents': 'materialize.reporting.big, materialize.sinks.out\nmaterialize.x.y'
    })
    expect(getInputs()).toMatchObject({
      blueGreen: {
        dryRun: true,
        allowDependents: ['materialize.reporting.big', 'materialize.sinks.out', 'materialize.x.y']
      }
    })
    withInputs(blueGreen)
    expect(getInputs()).toMatchObject({ blueGreen: { dryRun: false, allowDependents: [] } })
  })

  it('masks materialize-url and its password', () => {
    withInputs({
      ...blueGreen,
      'materialize-url': 'postgres://deployer:p%40ss@mz.example:6875/materialize'
    })
    getInputs()
    expect(core.setSecret).toHaveBeenCalledWith(
      'postgres://deployer:p%40ss@mz.example:6875/materialize'
    )
    expect(core.setSecret).toHaveBeenCalledWith('p@ss')
  })

  it.each([
    ['a "%"', 'postgres://deployer:50%off@mz.example:6875/materialize', '50%off'],
    ['a "/"', 'postgres://deployer:a/b@mz.example:6875/materialize', 'a/b'],
    ['a "%" in the user name', 'postgres://de%ployer:pw@mz.example:6875/materialize', 'de%ployer']
  ])(
    'refuses materialize-url with %s unencoded, saying how to encode and never showing it',
    (_name, url, secret) => {
      withInputs({ ...blueGreen, 'materialize-url': url })
      let caught: unknown
      try {
        getInputs()
      } catch (error) {
        caught = error
      }
      expect(caught).toBeInstanceOf(InputError)
      const message = (caught as Error).message
      expect(message).toContain('"materialize-url"')
      expect(message).toMatch(/percent-encode/i)
      expect(message).toContain('"%25"')
      expect(message).toContain('"%2F"')
      expect(message).toContain('"%40"')
      expect(message).not.toContain(secret)
    }
  )

  it.each([
    ['phase', { phase: 'build' }],
    ['phase', { phase: 'ship-it' }],
    ['await', { await: 'sleep' }],
    ['lag-threshold', { 'lag-threshold': 'fast' }],
    ['poll-interval', { 'poll-interval': '10ms' }],
    ['await-timeout', { 'await-timeout': '0s' }],
    ['await-timeout', { 'await-timeout': '2d' }],
    ['lock-timeout', { 'lock-timeout': 'forever' }],
    ['lock-ttl', { 'lock-ttl': '1s' }],
    ['swap-retries', { 'swap-retries': '11' }],
    ['keep-previous', { 'keep-previous': 'yes' }],
    ['run-tests', { 'run-tests': 'skip' }],
    ['force', { force: 'please' }],
    ['cleanup-on-failure', { 'cleanup-on-failure': 'y' }],
    ['materialize-url', { 'materialize-url': 'mysql://x@y/z' }],
    ['materialize-url', { 'materialize-url': 'not a url' }],
    ['state-uri', { 'state-uri': '' }],
    ['allow-dependents', { 'allow-dependents': 'reporting.big' }],
    ['allow-dependents', { 'allow-dependents': 'materialize."reporting".big' }],
    ['dry-run', { 'dry-run': 'true' }],
    ['dry-run', { phase: 'deploy', 'dry-run': 'true' }],
    ['dry-run', { phase: 'promote', 'dry-run': 'maybe' }]
  ])('rejects a bad "%s"', (name, values) => {
    withInputs({ ...blueGreen, ...values })
    expect(() => getInputs()).toThrow(`"${name}"`)
  })
})

describe('inputs that only one mode reads', () => {
  it('have the defaults action.yml documents', () => {
    const spec = yaml.load(readFileSync('action.yml', 'utf8'), {
      schema: yaml.FAILSAFE_SCHEMA
    }) as {
      inputs: Record<string, { default?: string }>
    }
    for (const table of Object.values(MODE_ONLY_INPUTS)) {
      for (const [name, fallback] of Object.entries(table)) {
        expect([name, spec.inputs[name]?.default ?? '']).toEqual([name, fallback])
      }
    }
  })

  it('warn when set under the other mode, never showing the value', () => {
    withInputs({ ...valid, 'await-timeout': '5m', 'materialize-url': 'postgres://u:pw@h/db' })
    getInputs()
    const warnings = core.warning.mock.calls.map(([message]) => String(message))
    expect(warnings).toEqual([
      'Input "await-timeout" applies only to mode "blue-green"; it has no effect with mode "slim".',
      'Input "materialize-url" applies only to mode "blue-green"; it has no effect with mode "slim".'
    ])
    withInputs({ ...valid, mode: 'blue-green', defer: 'true', 'skip-unchanged': 'true' })
    getInputs()
    expect(core.warning.mock.calls.map(([message]) => String(message))).toEqual([
      'Input "defer" applies only to mode "slim"; it has no effect with mode "blue-green".'
    ])
  })

  it('stay quiet at their defaults', () => {
    withInputs({ ...valid, 'lag-threshold': '1s', 'run-tests': 'TRUE' })
    getInputs()
    expect(core.warning).not.toHaveBeenCalled()
  })
})

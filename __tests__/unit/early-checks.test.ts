// The settings checked before anything is touched: target, selector and dbt-path.
import { jest, describe, it, expect, beforeEach, afterAll } from '@jest/globals'
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import * as core from '../../__fixtures__/core.js'
import { diffOff, noConnection } from './support/diff.js'

jest.unstable_mockModule('@actions/core', () => core)
const { checkTarget } = await import('../../src/dbt/target.js')
const { checkSelector } = await import('../../src/slim/selection.js')
const { readProject } = await import('../../src/dbt/project.js')
const { DbtCli } = await import('../../src/dbt/cli.js')
const { slimBuild } = await import('../../src/slim/build.js')
const { InputError } = await import('../../src/errors.js')
type SlimBuildInputs = import('../../src/inputs.js').SlimBuildInputs
type DbtSettings = import('../../src/inputs.js').DbtSettings

const dir = mkdtempSync(path.join(os.tmpdir(), 'early-checks-'))
const projectDir = path.join(dir, 'project')
mkdirSync(projectDir)
writeFileSync(path.join(projectDir, 'dbt_project.yml'), 'name: shop\nprofile: shop\n')
writeFileSync(
  path.join(projectDir, 'selectors.yml'),
  'selectors:\n  - name: nightly\n    definition: "tag:nightly"\n'
)
// Targets are read by name only: the unset env var in `pg` must not matter.
writeFileSync(
  path.join(projectDir, 'profiles.yml'),
  'shop:\n  target: pg\n  outputs:\n    pg:\n      password: "{{ env_var(\'UNSET_SECRET\') }}"\n    mz: {}\n'
)
const project = readProject(projectDir)
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const settings = (overrides: Partial<DbtSettings> = {}): DbtSettings => ({
  executable: 'dbt',
  projectDir,
  vars: {},
  extraArgs: [],
  cacheParse: false,
  ...overrides
})

/** The InputError `action` throws. */
function inputError(action: () => unknown): InstanceType<typeof InputError> {
  try {
    action()
  } catch (error) {
    if (error instanceof InputError) return error
    throw error
  }
  throw new Error('no InputError was thrown')
}

describe('checkTarget', () => {
  it('accepts a target of the profile, or no target', () => {
    expect(() => checkTarget(settings({ target: 'mz' }), project)).not.toThrow()
    expect(() => checkTarget(settings(), project)).not.toThrow()
  })

  it('refuses a target missing from the profile, listing the targets', () => {
    const error = inputError(() => checkTarget(settings({ target: 'prod' }), project))
    expect(error.input).toBe('target')
    expect(error.message).toMatch(/"prod".*profile "shop".*accepted: "pg", "mz"/)
  })

  it('refuses a target when the profile itself is missing', () => {
    const other = { ...project, profile: 'elsewhere' }
    expect(inputError(() => checkTarget(settings({ target: 'pg' }), other)).message).toMatch(
      /profile "elsewhere".*does not exist/
    )
  })
})

describe('checkSelector', () => {
  it('accepts a selector of selectors.yml, or none', () => {
    expect(() => checkSelector({ selector: 'nightly' }, project)).not.toThrow()
    expect(() => checkSelector({ select: 'orders' }, project)).not.toThrow()
  })

  it('refuses a selector typo, listing the selectors', () => {
    const error = inputError(() => checkSelector({ selector: 'nighly' }, project))
    expect(error.input).toBe('selector')
    expect(error.message).toMatch(/"nighly".*accepted: "nightly"/)
  })

  it('says when the project has no selectors at all', () => {
    const bare = { ...project, selectors: new Map() }
    expect(inputError(() => checkSelector({ selector: 'nightly' }, bare)).message).toMatch(
      /no selectors\.yml/
    )
  })
})

describe('locating dbt (input "dbt-path")', () => {
  const env = { PATH: path.join(dir, 'bin') }

  it('names the resolved path when it is not an executable file', async () => {
    mkdirSync(path.join(dir, 'tools'))
    for (const executable of [path.join(dir, 'tools', 'dbt'), path.join(dir, 'tools')]) {
      await expect(DbtCli.create(settings({ executable }), env)).rejects.toThrow(
        new InputError('dbt-path', `resolves to "${executable}", which is not an executable file.`)
          .message
      )
    }
  })

  it('names the command when it is not on PATH', async () => {
    await expect(DbtCli.create(settings({ executable: 'dbt-nope' }), env)).rejects.toThrow(
      /Input "dbt-path" is "dbt-nope", which was not found on PATH/
    )
  })

  it('accepts an executable file', async () => {
    const executable = path.join(dir, 'dbt-ok')
    writeFileSync(executable, '#!/bin/sh\n')
    chmodSync(executable, 0o755)
    await expect(DbtCli.create(settings({ executable }), env)).resolves.toBeInstanceOf(DbtCli)
  })
})

describe('slimBuild checks before S3', () => {
  const inputs = (overrides: Partial<SlimBuildInputs>): SlimBuildInputs => ({
    mode: 'slim',
    phase: 'build',
    workspace: dir,
    dbt: settings(),
    report: { prComment: false },
    state: { uri: 's3://b/prod', bucket: 'b', prefix: 'prod' },
    s3: { region: 'us-east-1', maxAttempts: 1, timeoutMs: 1000 },
    onStateError: 'fail',
    selection: {},
    defer: false,
    favorState: false,
    skipUnchanged: true,
    uploadManifest: 'false',
    cachePackages: false,
    diff: diffOff,
    ...overrides
  })
  const push = { eventName: 'push', sha: 'abc', ref: 'refs/heads/main', owner: 'o', repo: 'r' }
  const store = jest.fn(() => {
    throw new Error('S3 was touched')
  })

  beforeEach(() => {
    core.resetCore()
    store.mockClear()
  })

  it.each([
    ['target', { dbt: settings({ target: 'prod' }) }],
    ['selector', { selection: { selector: 'nighly' } }]
  ])('refuses a bad "%s" without creating dbt or an S3 client', async (input, overrides) => {
    const dbt = jest.fn(async () => {
      throw new Error('dbt was located')
    })
    await expect(
      slimBuild(inputs(overrides), push, { store, dbt, connect: noConnection })
    ).rejects.toThrow(`Input "${input}"`)
    expect(dbt).not.toHaveBeenCalled()
    expect(store).not.toHaveBeenCalled()
  })

  it('refuses a bad "dbt-path" without creating an S3 client', async () => {
    const dbt = jest.fn(() => DbtCli.create(settings({ executable: '/no/such/dbt' }), {}))
    await expect(
      slimBuild(inputs({}), push, { store, dbt, connect: noConnection })
    ).rejects.toThrow(/Input "dbt-path" resolves to "\/no\/such\/dbt"/)
    expect(store).not.toHaveBeenCalled()
  })
})

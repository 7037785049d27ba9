import { jest, describe, it, expect, beforeEach, afterAll } from '@jest/globals'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import * as core from '../../__fixtures__/core.js'

jest.unstable_mockModule('@actions/core', () => core)
const { maskProfileSecrets, maskedProfileTarget } = await import('../../src/dbt/masking.js')
type DbtSettings = import('../../src/inputs.js').DbtSettings
type DbtProject = import('../../src/dbt/project.js').DbtProject

const dir = mkdtempSync(path.join(os.tmpdir(), 'masking-'))
writeFileSync(
  path.join(dir, 'profiles.yml'),
  `shop:
  target: prod
  outputs:
    prod:
      type: postgres
      host: "{{ env_var('PG_HOST') }}"
      user: ci
      password: "{{ env_var('PG_PASSWORD') }}"
      threads: "{{ env_var('DBT_THREADS', 2) | as_number }}"
      keepalives_idle: "{{ 'jinja-' ~ 'value' }}"
      token: "{{ env_var('UNSET_TOKEN') }}"
`
)
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const settings = (target?: string): DbtSettings => ({
  executable: 'dbt',
  projectDir: dir,
  profilesDir: dir,
  target,
  vars: {},
  extraArgs: [],
  cacheParse: false
})
const project = { dir, profile: 'shop' } as DbtProject
const env = { PG_HOST: 'db.example', PG_PASSWORD: 'plain-env#pass' }

const masked = (): string[] => core.setSecret.mock.calls.map(([value]) => value)
const warnings = (): string =>
  core.warning.mock.calls.map(([message]) => String(message)).join('\n')

beforeEach(() => core.resetCore())

describe('maskProfileSecrets', () => {
  it('masks the password from a plain env var although other fields cannot be rendered', () => {
    maskProfileSecrets(settings(), project, env)
    expect(masked()).toContain('plain-env#pass')
    expect(masked()).toContain('plain-env%23pass')
  })

  it('warns naming the fields it could not render, never their values or Jinja', () => {
    maskProfileSecrets(settings(), project, env)
    expect(core.warning).toHaveBeenCalledTimes(1)
    expect(warnings()).toMatch(/"keepalives_idle", "token"/)
    expect(warnings()).not.toMatch(/threads|jinja-|UNSET_TOKEN|plain-env/)
    expect(core.debug).not.toHaveBeenCalled()
  })

  it('warns, not debug-logs, when the profile cannot be read at all', () => {
    maskProfileSecrets(settings('missing'), project, env)
    expect(warnings()).toMatch(/secrets are not masked: Target "missing"/)
    const empty = mkdtempSync(path.join(os.tmpdir(), 'no-profile-'))
    try {
      maskProfileSecrets({ ...settings(), projectDir: empty, profilesDir: empty }, project, env)
    } finally {
      rmSync(empty, { recursive: true, force: true })
    }
    expect(core.warning).toHaveBeenCalledTimes(2)
    expect(core.warning).toHaveBeenLastCalledWith(expect.stringMatching(/no profiles\.yml/))
  })
})

describe('maskedProfileTarget', () => {
  it('returns the connection when only fields it does not need are unrendered', () => {
    const target = maskedProfileTarget(settings(), project, env, 'Teardown')
    expect(target).toMatchObject({ host: 'db.example', user: 'ci', password: 'plain-env#pass' })
    expect(warnings()).toMatch(/"keepalives_idle", "token"/)
  })

  it('refuses, naming the field, when a field of the connection cannot be rendered', () => {
    expect(() =>
      maskedProfileTarget(settings(), project, { PG_PASSWORD: 'pw-1234' }, 'Teardown')
    ).toThrow(/Profile field "host" of target "prod": env var PG_HOST is not set/)
    // The secrets it could render are masked before it refuses.
    expect(masked()).toContain('pw-1234')
  })
})

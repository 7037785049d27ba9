import { describe, it, expect, afterAll } from '@jest/globals'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { profilesFile, readProfileTarget, renderValue } from '../../src/dbt/profile.js'

const dir = mkdtempSync(path.join(os.tmpdir(), 'profile-'))
const file = path.join(dir, 'profiles.yml')
writeFileSync(
  file,
  `shop:
  target: "{{ env_var('SHOP_TARGET', 'dev') }}"
  outputs:
    dev:
      type: materialize
      host: "{{ env_var('MZ_HOST') }}"
      port: "{{ env_var('MZ_PORT', '6875') | int }}"
      user: alice
      pass: "{{ env_var('DBT_ENV_SECRET_MZ_PASSWORD') }}"
      database: materialize
      schema: "{{ env_var('DBT_PR_ENVIRONMENT', 'analytics') }}"
      cluster: quickstart
      sslmode: require
    jinja:
      type: postgres
      host: "{{ 'a' ~ 'b' }}"
`
)
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('renderValue', () => {
  it('renders env_var with and without defaults and filters', () => {
    const env = { A: 'x' }
    expect(renderValue("{{ env_var('A') }}-{{ env_var(\"B\", 'dflt') | as_text }}", env)).toBe(
      'x-dflt'
    )
  })
  it('refuses other Jinja and unset variables without defaults', () => {
    expect(() => renderValue("{{ 'a' ~ 'b' }}", {})).toThrow(/only env_var/)
    expect(() => renderValue("{{ env_var('NOPE') }}", {})).toThrow(/NOPE is not set/)
  })
})

describe('readProfileTarget', () => {
  const env = {
    MZ_HOST: 'mz.example',
    DBT_ENV_SECRET_MZ_PASSWORD: 'pw',
    DBT_PR_ENVIRONMENT: 'pr_9'
  }

  it('renders the default target', () => {
    expect(readProfileTarget(file, 'shop', undefined, env)).toEqual({
      profile: 'shop',
      target: 'dev',
      type: 'materialize',
      host: 'mz.example',
      port: 6875,
      user: 'alice',
      password: 'pw',
      database: 'materialize',
      schema: 'pr_9',
      cluster: 'quickstart',
      sslmode: 'require'
    })
  })

  it('names the missing profile, target or field', () => {
    expect(() => readProfileTarget(file, 'nope', undefined, env)).toThrow(/Profile "nope"/)
    expect(() => readProfileTarget(file, 'shop', 'prod', env)).toThrow(
      /Target "prod".*it has: dev, jinja/
    )
    expect(() => readProfileTarget(file, 'shop', 'jinja', env)).toThrow(/Profile field "host"/)
  })

  it('finds profiles.yml in the given directory before the project', () => {
    expect(profilesFile('/nowhere', dir, {})).toBe(file)
    expect(profilesFile(dir, undefined, {})).toBe(file)
  })
})

describe('renderValue with "or"', () => {
  it('takes the first non-empty operand, like Jinja', () => {
    const value = "{{ env_var('PR', '') or env_var('PROD', 'analytics') }}"
    expect(renderValue(value, {})).toBe('analytics')
    expect(renderValue(value, { PROD: 'warehouse' })).toBe('warehouse')
    expect(renderValue(value, { PR: 'pr_7' })).toBe('pr_7')
    expect(renderValue("{{ env_var('X', '') or 'fallback' }}", {})).toBe('fallback')
  })
  it('never takes part of another call as a default', () => {
    expect(() => renderValue("{{ env_var('A', 'x') ~ env_var('B') }}", {})).toThrow(/only env_var/)
  })
})

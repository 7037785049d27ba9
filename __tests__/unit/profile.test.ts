import { describe, it, expect, afterAll } from '@jest/globals'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {
  connectionTarget,
  profilesFile,
  readProfile,
  renderValue,
  secretValues
} from '../../src/dbt/profile.js'

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
    partial:
      type: postgres
      host: db.example
      user: "{{ env_var('PG_USER') }}"
      password: "{{ env_var('PG_PASSWORD') }}"
      threads: "{{ env_var('DBT_THREADS', 2) | as_number }}"
      keepalives_idle: "{{ 60 * 5 }}"
      search_path: "{{ env_var('UNSET_SEARCH_PATH') }}"
      private_key: "{{ env_var('PG_KEY') }}"
      private_key_path: /keys/pg.p8
      private_key_passphrase: 12345678
      token: "{{ 'to' ~ 'ken' }}"
      keyfile_json:
        private_key: "{{ env_var('GCP_KEY') }}"
        token_uri: https://oauth2.example/token
        client_email: ci@example.iam
      options:
        - "{{ env_var('OPT', 'x') }}"
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
  it('takes an unquoted numeric default, as dbt does', () => {
    expect(renderValue("{{ env_var('DBT_THREADS', 2) | as_number }}", {})).toBe('2')
    expect(renderValue("{{ env_var('DBT_THREADS', 2) | as_number }}", { DBT_THREADS: '8' })).toBe(
      '8'
    )
    expect(renderValue("{{ env_var('T', -1.5) | float }}", {})).toBe('-1.5')
  })
  it('refuses other Jinja and unset variables without defaults, without echoing the Jinja', () => {
    expect(() => renderValue("{{ 'sec' ~ 'ret' }}", {})).toThrow(/only env_var/)
    expect(() => renderValue("{{ 'sec' ~ 'ret' }}", {})).not.toThrow(/sec/)
    expect(() => renderValue("{{ env_var('NOPE') }}", {})).toThrow(/NOPE is not set/)
  })
})

describe('readProfile and connectionTarget', () => {
  const env = {
    MZ_HOST: 'mz.example',
    DBT_ENV_SECRET_MZ_PASSWORD: 'pw',
    DBT_PR_ENVIRONMENT: 'pr_9'
  }

  it('renders the default target', () => {
    expect(connectionTarget(readProfile(file, 'shop', undefined, env))).toEqual({
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

  it('names the missing profile or target', () => {
    expect(() => readProfile(file, 'nope', undefined, env)).toThrow(/Profile "nope"/)
    expect(() => readProfile(file, 'shop', 'prod', env)).toThrow(
      /Target "prod".*it has: dev, jinja, partial/
    )
  })

  it('renders every field it can and names the others, never showing their Jinja', () => {
    const partialEnv = { PG_USER: 'bob', PG_PASSWORD: 'pg-pass#/+%@', PG_KEY: 'pem-key' }
    const rendered = readProfile(file, 'shop', 'partial', partialEnv)
    expect(rendered.fields).toEqual({
      type: 'postgres',
      host: 'db.example',
      user: 'bob',
      password: 'pg-pass#/+%@',
      threads: '2',
      private_key: 'pem-key',
      private_key_path: '/keys/pg.p8',
      private_key_passphrase: 12345678,
      keyfile_json: { token_uri: 'https://oauth2.example/token', client_email: 'ci@example.iam' },
      options: ['x']
    })
    expect(Object.keys(rendered.unrendered).sort()).toEqual([
      'keepalives_idle',
      'keyfile_json.private_key',
      'search_path',
      'token'
    ])
    expect(rendered.unrendered.search_path).toMatch(/UNSET_SEARCH_PATH is not set/)
    expect(JSON.stringify(rendered.unrendered)).not.toMatch(/60 \* 5|'to'/)
    // None of the connection's fields is missing, so the connection is complete.
    expect(connectionTarget(rendered)).toMatchObject({
      host: 'db.example',
      password: 'pg-pass#/+%@'
    })
  })

  it('refuses a connection whose own field cannot be rendered, naming the field', () => {
    const rendered = readProfile(file, 'shop', 'jinja', env)
    expect(rendered.unrendered).toHaveProperty('host')
    expect(() => connectionTarget(rendered)).toThrow(/Profile field "host" of target "jinja"/)
    expect(() => connectionTarget(readProfile(file, 'shop', 'dev', {}))).toThrow(
      /Profile field "host".*MZ_HOST is not set/
    )
  })

  it("keeps a PostgreSQL target's role, and refuses one on Materialize before connecting", () => {
    const target = (fields: Record<string, unknown>) =>
      connectionTarget({ profile: 'shop', target: 'ci', fields, unrendered: {} })
    expect(target({ type: 'postgres', role: 'transformer' })).toMatchObject({
      role: 'transformer'
    })
    expect(target({ type: 'materialize', role: '' }).role).toBeUndefined()
    expect(() => target({ type: 'materialize', role: 'transformer' })).toThrow(
      /Profile field "role" of target "ci" is set, but Materialize has no SET ROLE.*remove "role"/
    )
  })

  it('finds profiles.yml in the given directory before the project', () => {
    expect(profilesFile('/nowhere', dir, {})).toBe(file)
    expect(profilesFile(dir, undefined, {})).toBe(file)
  })
})

describe('secretValues', () => {
  it('finds passwords, passphrases, keys and tokens, nested ones too, but not their paths or URLs', () => {
    const secrets = secretValues({
      type: 'snowflake',
      user: 'alice',
      pass: 'p1',
      password: 'p2',
      private_key: 'k1',
      private_key_passphrase: 1234,
      private_key_path: '/keys/k.p8',
      oauth_client_secret: 's1',
      token: 't1',
      keyfile_json: { private_key: 'k2', token_uri: 'https://t.example', client_email: 'e' },
      refresh_tokens: ['t2', 't3'],
      threads: 4
    })
    expect(secrets.sort()).toEqual(['1234', 'k1', 'k2', 'p1', 'p2', 's1', 't1', 't2', 't3'])
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

import { jest, describe, it, expect, beforeEach } from '@jest/globals'
import * as core from '../../__fixtures__/core.js'

jest.unstable_mockModule('@actions/core', () => core)
const { registerSecret, registerSecretEnvironment, redact, secretForms } =
  await import('../../src/secrets.js')

const masked = (): string[] => core.setSecret.mock.calls.map(([value]) => value)
const base64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64')

beforeEach(() => core.resetCore())

// Each test registers its own values: what is registered stays registered for the process.
describe('registerSecret', () => {
  it('masks a secret with "%" once in each form, without encoding its encodings again', () => {
    registerSecret('ab%cd')
    expect(masked()).toEqual(['ab%cd', 'ab%25cd', base64('ab%cd')])
  })

  it('masks raw, URL-encoded, JSON-escaped (JavaScript and Python) and base64 forms, each once', () => {
    const secret = 'p#w/d+q%1@h:s=1&q?x y\\"é'
    registerSecret(secret)
    registerSecret(secret)
    expect(masked()).toEqual([
      secret,
      encodeURIComponent(secret),
      'p#w/d+q%1@h:s=1&q?x y\\\\\\"é',
      'p#w/d+q%1@h:s=1&q?x y\\\\\\"\\u00e9',
      base64(secret)
    ])
    expect(new Set(masked()).size).toBe(masked().length)
  })

  it('masks only the forms that differ from the raw value', () => {
    expect(secretForms('plainAlnum1')).toEqual(['plainAlnum1', base64('plainAlnum1')])
  })

  it('ignores empty and very short values, which would mask noise', () => {
    registerSecret(undefined)
    registerSecret('')
    registerSecret('abc')
    expect(masked()).toEqual([])
  })

  it('registers DBT_ENV_SECRET_* values only', () => {
    registerSecretEnvironment({ DBT_ENV_SECRET_TOKEN: 'tok/en+1', MZ_HOST: 'host.example' })
    expect(masked()).toEqual(['tok/en+1', 'tok%2Fen%2B1', base64('tok/en+1')])
  })
})

describe('redact', () => {
  it('scrubs every registered form from text the runner does not mask', () => {
    const secret = 'r3d/a+c%t é'
    registerSecret(secret)
    const text = [
      `raw ${secret}`,
      `url postgres://u:${encodeURIComponent(secret)}@h/db`,
      `json ${JSON.stringify({ password: secret })}`,
      `python {"password": "r3d/a+c%t \\u00e9"}`,
      `basic ${base64(secret)}`
    ].join('\n')
    expect(redact(text)).toBe(
      [
        'raw ***',
        'url postgres://u:***@h/db',
        'json {"password":"***"}',
        'python {"password": "***"}',
        'basic ***'
      ].join('\n')
    )
  })

  it('replaces a longer secret whole, not leaving pieces around a shorter one inside it', () => {
    registerSecret('short-one')
    registerSecret('short-one-and-longer')
    expect(redact('[short-one-and-longer] [short-one]')).toBe('[***] [***]')
  })
})

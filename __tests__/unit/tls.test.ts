// The action's own connection follows libpq's sslmode as dbt does (src/warehouse/tls.ts).
import { describe, it, expect } from '@jest/globals'
import { mkdtempSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import tls from 'node:tls'
import { connectFailure, refusedTransport, tlsAttempts } from '../../src/warehouse/tls.js'

const dir = mkdtempSync(path.join(os.tmpdir(), 'tls-test-'))
const ca = path.join(dir, 'ca.pem')
writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nnot checked here\n-----END CERTIFICATE-----\n')
const target = (fields: Record<string, string> = {}) => ({
  profile: 'p',
  target: 'prod',
  type: 'materialize',
  ...fields
})
// Node 24, the action's runtime, reads the system's trust store; an older Node has its own only.
const systemStore =
  typeof tls.getCACertificates === 'function'
    ? expect.arrayContaining(tls.getCACertificates('system'))
    : undefined
const noVerify = expect.objectContaining({ rejectUnauthorized: false }) as unknown

describe('tlsAttempts', () => {
  it('prefer (also when unset) tries TLS first, then plaintext', () => {
    expect(tlsAttempts(target())).toEqual([noVerify, false])
    expect(tlsAttempts(target({ sslmode: 'prefer' }))).toEqual([noVerify, false])
  })

  it('disable is plaintext only; allow tries plaintext first', () => {
    expect(tlsAttempts(target({ sslmode: 'disable' }))).toEqual([false])
    expect(tlsAttempts(target({ sslmode: 'allow' }))).toEqual([false, noVerify])
  })

  it('require encrypts without verifying, unless a root certificate is given', () => {
    expect(tlsAttempts(target({ sslmode: 'require' }))).toEqual([noVerify])
    const [withCa] = tlsAttempts(target({ sslmode: 'require', sslrootcert: ca }))
    expect(withCa).toMatchObject({ rejectUnauthorized: true, ca: expect.stringContaining('BEGIN') })
  })

  it('verify-ca checks the chain only; verify-full also the host name', () => {
    const [verifyCa] = tlsAttempts(target({ sslmode: 'verify-ca', sslrootcert: ca }))
    expect(verifyCa).toMatchObject({ rejectUnauthorized: true })
    expect(verifyCa && verifyCa.checkServerIdentity).toBeInstanceOf(Function)
    const [verifyFull] = tlsAttempts(target({ sslmode: 'verify-full' }))
    expect(verifyFull).toMatchObject({ rejectUnauthorized: true })
    expect(verifyFull && verifyFull.checkServerIdentity).toBeUndefined()
    expect(verifyFull && verifyFull.ca).toEqual(systemStore)
  })

  it("takes sslrootcert=system, as libpq does, for the system's trust store", () => {
    const [required] = tlsAttempts(target({ sslmode: 'require', sslrootcert: 'system' }))
    expect(required).toMatchObject({ rejectUnauthorized: true })
    expect(required && required.ca).toEqual(systemStore)
  })

  it('passes a client certificate and key', () => {
    const [tls] = tlsAttempts(target({ sslmode: 'require', sslcert: ca, sslkey: ca }))
    expect(tls).toMatchObject({ cert: expect.any(String), key: expect.any(String) })
  })

  it('names the field and what is accepted for a bad sslmode or an unreadable file', () => {
    expect(() => tlsAttempts(target({ sslmode: 'required' }))).toThrow(
      'Profile field "sslmode" of target "prod" is "required"; accepted: disable, allow, prefer, require, verify-ca, verify-full.'
    )
    expect(() => tlsAttempts(target({ sslmode: 'verify-full', sslrootcert: '/nope.pem' }))).toThrow(
      /Profile field "sslrootcert" of target "prod": cannot read \/nope.pem/
    )
  })
})

describe('refusedTransport', () => {
  it('falls back only when the server refused the transport, never on a bad password', () => {
    const tls = { rejectUnauthorized: false }
    expect(refusedTransport(new Error('The server does not support SSL connections'), tls)).toBe(
      true
    )
    expect(refusedTransport(new Error('password authentication failed'), tls)).toBe(false)
    expect(refusedTransport(new Error('TLS encryption is required'), false)).toBe(true)
    expect(refusedTransport(new Error('password authentication failed'), false)).toBe(false)
  })
})

describe('connectFailure', () => {
  const tls = { rejectUnauthorized: true }
  const withCode = (message: string, code: string) => Object.assign(new Error(message), { code })

  it('tells a plaintext connection refused for want of TLS to set sslmode', () => {
    expect(connectFailure(new Error('TLS encryption is required'), false)).toMatch(
      /^TLS encryption is required\. The server requires TLS.*set sslmode to require, verify-ca or verify-full\.$/
    )
    expect(connectFailure(new Error('password authentication failed'), false)).toBe(
      'password authentication failed.'
    )
  })

  it("tells a certificate that did not verify to set sslrootcert, without Node's own advice", () => {
    const selfSigned = withCode(
      'self-signed certificate; if the root CA is installed locally, try running Node.js with --use-system-ca',
      'DEPTH_ZERO_SELF_SIGNED_CERT'
    )
    expect(connectFailure(selfSigned, tls)).toBe(
      "self-signed certificate. The server's certificate did not verify against the system's trust store: set sslrootcert to the CA bundle that signed it."
    )
    expect(connectFailure(withCode('expired', 'CERT_HAS_EXPIRED'), tls)).toMatch(/set sslrootcert/)
    const withCa = { ...tls, ca: '-----BEGIN CERTIFICATE-----\n' }
    expect(connectFailure(selfSigned, withCa)).toMatch(
      /did not verify against the CA bundle in sslrootcert: point it at the CA that signed/
    )
    expect(connectFailure(withCode('altname', 'ERR_TLS_CERT_ALTNAME_INVALID'), tls)).toMatch(
      /does not name this host/
    )
    expect(connectFailure(withCode('refused.', 'ECONNREFUSED'), tls)).toBe('refused.')
  })
})

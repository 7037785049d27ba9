// TLS for the action's own connection, following libpq's `sslmode` as dbt's connection does:
// `prefer` (libpq's default) tries TLS first and falls back to plaintext only when the server
// refuses TLS; `require` encrypts without verifying (or verifies the CA when `sslrootcert` is
// set, as libpq does); `verify-ca` checks the chain; `verify-full` also the host name.
import { readFileSync } from 'node:fs'
import tls, { type ConnectionOptions } from 'node:tls'
import type { ProfileTarget } from '../dbt/profile.js'
import { ActionError, errorMessage } from '../errors.js'

export const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full']

/** One way to connect: plaintext (`false`) or TLS with these options. */
export type TlsAttempt = false | ConnectionOptions

/**
 * Node's CAs and the operating system's trust store, which libpq reads for `sslrootcert=system`
 * and the action also uses when `sslrootcert` is unset. Node 24 reads the system store; an
 * older runtime (the unit tests') has Node's only.
 */
function systemStore(): string[] | undefined {
  if (typeof tls.getCACertificates !== 'function') return undefined
  return [...tls.getCACertificates('default'), ...tls.getCACertificates('system')]
}

function readPem(target: ProfileTarget, field: 'sslrootcert' | 'sslcert' | 'sslkey') {
  const file = target[field]
  if (!file) return undefined
  try {
    return readFileSync(file, 'utf8')
  } catch (error) {
    throw new ActionError(
      `Profile field "${field}" of target "${target.target}": cannot read ${file}: ${errorMessage(error)}.`
    )
  }
}

function tlsOptions(target: ProfileTarget, mode: string): ConnectionOptions {
  const system = target.sslrootcert === 'system'
  const ca = system ? undefined : readPem(target, 'sslrootcert')
  const client = { cert: readPem(target, 'sslcert'), key: readPem(target, 'sslkey') }
  const verify =
    mode === 'verify-ca' || mode === 'verify-full' || (mode === 'require' && (ca || system))
  if (!verify) return { ...client, rejectUnauthorized: false }
  return {
    ...client,
    ca: ca ?? systemStore(),
    rejectUnauthorized: true,
    // verify-ca (and require with a root certificate) checks the chain, not the host name.
    ...(mode !== 'verify-full' && { checkServerIdentity: () => undefined })
  }
}

/** The connections to try, in order, for the target's `sslmode`. */
export function tlsAttempts(target: ProfileTarget): TlsAttempt[] {
  const mode = target.sslmode ?? 'prefer'
  if (!SSL_MODES.includes(mode))
    throw new ActionError(
      `Profile field "sslmode" of target "${target.target}" is "${mode}"; accepted: ${SSL_MODES.join(', ')}.`
    )
  if (mode === 'disable') return [false]
  const tls = tlsOptions(target, mode)
  if (mode === 'allow') return [false, tls]
  if (mode === 'prefer') return [tls, false]
  return [tls]
}

/** Whether a failed attempt means the next one in `tlsAttempts` should be tried. */
export function refusedTransport(error: unknown, attempt: TlsAttempt): boolean {
  const message = errorMessage(error)
  return attempt === false
    ? // Materialize and PostgreSQL refuse plaintext at startup, before authentication.
      /TLS|SSL|encryption/i.test(message)
    : /does not support SSL/i.test(message)
}

/** Node's codes for a server certificate that did not verify. */
const UNVERIFIED_CERTIFICATE = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED'
])

/** What to change in the profile when a connection failed for TLS reasons; '' otherwise. */
function tlsHint(error: unknown, attempt: TlsAttempt): string {
  if (attempt === false)
    return refusedTransport(error, attempt)
      ? ' The server requires TLS (as Materialize Cloud does): set sslmode to require, verify-ca or verify-full.'
      : ''
  const code = (error as { code?: unknown } | null)?.code
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID')
    return " The server's certificate does not name this host: connect by a name it holds, or use sslmode verify-ca."
  if (typeof code !== 'string' || !UNVERIFIED_CERTIFICATE.has(code)) return ''
  // A CA read from sslrootcert is one PEM text; the system's store is a list of them.
  return typeof attempt.ca === 'string'
    ? " The server's certificate did not verify against the CA bundle in sslrootcert: point it at the CA that signed the server's certificate."
    : " The server's certificate did not verify against the system's trust store: set sslrootcert to the CA bundle that signed it."
}

/** Why a connection attempt failed, with what to change when TLS is the cause. */
export function connectFailure(error: unknown, attempt: TlsAttempt): string {
  // Node suggests --use-system-ca, which the action's own store already covers.
  const reason = errorMessage(error)
    .replace(/; if the root CA is installed locally.*$/s, '')
    .replace(/\.$/, '')
  return `${reason}.${tlsHint(error, attempt)}`
}

// TLS for the action's own connection, following libpq's `sslmode` as dbt's connection does:
// `prefer` (libpq's default) tries TLS first and falls back to plaintext only when the server
// refuses TLS; `require` encrypts without verifying (or verifies the CA when `sslrootcert` is
// set, as libpq does); `verify-ca` checks the chain; `verify-full` also the host name.
import { readFileSync } from 'node:fs'
import type { ConnectionOptions } from 'node:tls'
import type { ProfileTarget } from '../dbt/profile.js'
import { ActionError, errorMessage } from '../errors.js'

export const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full']

/** One way to connect: plaintext (`false`) or TLS with these options. */
export type TlsAttempt = false | ConnectionOptions

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
  const ca = readPem(target, 'sslrootcert')
  const client = { cert: readPem(target, 'sslcert'), key: readPem(target, 'sslkey') }
  const verify = mode === 'verify-ca' || mode === 'verify-full' || (mode === 'require' && ca)
  if (!verify) return { ...client, rejectUnauthorized: false }
  return {
    ...client,
    ca,
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

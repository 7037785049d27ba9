// Secrets are masked in the runner's log with core.setSecret, and also scrubbed from the
// texts the runner does not mask for us: PR comments, and anything we write to files.
import * as core from '@actions/core'

const known = new Set<string>()

/** `\u00e9` for `é`: how Python's json (dbt's artifacts) writes non-ASCII characters. */
const asciiEscaped = (text: string): string =>
  text.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)

/**
 * The forms a secret takes in text: raw, URL-encoded (connection strings), JSON-escaped (as
 * JavaScript and as Python write it) and base64 (basic auth, Kubernetes-style configs). Each
 * form once; encoding a form again would never end, since `%` encodes to `%25`.
 */
export function secretForms(value: string): string[] {
  const json = JSON.stringify(value).slice(1, -1)
  return [
    ...new Set([
      value,
      encodeURIComponent(value),
      json,
      asciiEscaped(json),
      Buffer.from(value, 'utf8').toString('base64')
    ])
  ]
}

/** Masks a secret in all its forms before anything can print it. Very short values would mask noise. */
export function registerSecret(value: string | undefined): void {
  if (!value || value.length < 4) return
  for (const form of secretForms(value)) {
    if (known.has(form)) continue
    known.add(form)
    core.setSecret(form)
  }
}

/** Registers the values of dbt's secret environment variables (DBT_ENV_SECRET_*). */
export function registerSecretEnvironment(env: NodeJS.ProcessEnv = process.env): void {
  for (const [name, value] of Object.entries(env)) {
    if (name.startsWith('DBT_ENV_SECRET_')) registerSecret(value)
  }
}

/** Replaces every registered form, longest first, so no part of a longer form is left over. */
export function redact(text: string): string {
  let result = text
  for (const secret of [...known].sort((a, b) => b.length - a.length))
    result = result.split(secret).join('***')
  return result
}

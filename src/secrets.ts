// Secrets are masked in the runner's log with core.setSecret, and also scrubbed from the
// texts the runner does not mask for us: PR comments, and anything we write to files.
import * as core from '@actions/core'

const known = new Set<string>()

/** Masks a secret before anything can print it. Very short values would mask noise. */
export function registerSecret(value: string | undefined): void {
  if (!value || value.length < 4 || known.has(value)) return
  known.add(value)
  core.setSecret(value)
  const encoded = encodeURIComponent(value)
  if (encoded !== value) registerSecret(encoded)
}

/** Registers the values of dbt's secret environment variables (DBT_ENV_SECRET_*). */
export function registerSecretEnvironment(env: NodeJS.ProcessEnv = process.env): void {
  for (const [name, value] of Object.entries(env)) {
    if (name.startsWith('DBT_ENV_SECRET_')) registerSecret(value)
  }
}

export function redact(text: string): string {
  let result = text
  for (const secret of known) result = result.split(secret).join('***')
  return result
}

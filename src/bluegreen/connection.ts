// The action's own Materialize connection: the dbt profile target's credentials, or the
// `materialize-url` input.
import type { ProfileTarget } from '../dbt/profile.js'
import type { DbtProject } from '../dbt/project.js'
import { maskedProfile, maskedProfileTarget, type ProfileLocation } from '../dbt/masking.js'
import { dbtEnvironment } from '../environment.js'
import { ActionError } from '../errors.js'
import { registerSecret } from '../secrets.js'

function fromUrl(url: string, target: string): ProfileTarget {
  const parsed = new URL(url)
  const password = parsed.password ? decodeURIComponent(parsed.password) : undefined
  registerSecret(password)
  return {
    profile: 'materialize-url',
    target,
    type: 'materialize',
    host: parsed.hostname,
    port: parsed.port ? Number(parsed.port) : 6875,
    user: decodeURIComponent(parsed.username),
    password,
    database: parsed.pathname.replace(/^\//, '') || 'materialize',
    sslmode: parsed.searchParams.get('sslmode') ?? undefined,
    sslrootcert: parsed.searchParams.get('sslrootcert') ?? undefined,
    sslcert: parsed.searchParams.get('sslcert') ?? undefined,
    sslkey: parsed.searchParams.get('sslkey') ?? undefined
  }
}

/**
 * The profile target (its name is the deployment config key) and how to connect. The profile
 * is read with dbt's environment, so it resolves to what dbt connects to.
 */
export function materializeTarget(
  location: ProfileLocation,
  materializeUrl: string | undefined,
  project: DbtProject
): ProfileTarget {
  const env = dbtEnvironment(undefined)
  if (materializeUrl)
    return fromUrl(materializeUrl, maskedProfile(location, project, env, 'Blue/green').target)
  const profile = maskedProfileTarget(location, project, env, 'Blue/green')
  if (profile.type !== 'materialize') {
    throw new ActionError(
      `Blue/green deploys need a Materialize target, but profile target "${profile.target}" has type "${profile.type}".`
    )
  }
  return profile
}

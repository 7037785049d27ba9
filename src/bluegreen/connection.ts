// The action's own Materialize connection: the dbt profile target's credentials, or the
// `materialize-url` input.
import type { BlueGreenInputs } from '../inputs.js'
import type { ProfileTarget } from '../dbt/profile.js'
import type { DbtProject } from '../dbt/project.js'
import { maskedProfileTarget } from '../dbt/masking.js'
import { ActionError } from '../errors.js'

function fromUrl(url: string, target: string): ProfileTarget {
  const parsed = new URL(url)
  return {
    profile: 'materialize-url',
    target,
    type: 'materialize',
    host: parsed.hostname,
    port: parsed.port ? Number(parsed.port) : 6875,
    user: decodeURIComponent(parsed.username),
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
    database: parsed.pathname.replace(/^\//, '') || 'materialize',
    sslmode: parsed.searchParams.get('sslmode') ?? undefined
  }
}

/** The profile target (its name is the deployment config key) and how to connect. */
export function materializeTarget(inputs: BlueGreenInputs, project: DbtProject): ProfileTarget {
  const profile = maskedProfileTarget(inputs.dbt, project, process.env, 'Blue/green')
  if (inputs.blueGreen.materializeUrl)
    return fromUrl(inputs.blueGreen.materializeUrl, profile.target)
  if (profile.type !== 'materialize') {
    throw new ActionError(
      `Blue/green deploys need a Materialize target, but profile target "${profile.target}" has type "${profile.type}".`
    )
  }
  return profile
}

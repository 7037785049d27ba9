// Reads the profile target with its secrets masked before dbt or anything else can print them.
import * as core from '@actions/core'
import type { DbtSettings } from '../inputs.js'

/** Where dbt finds the profile target: all the action needs to read it again. */
export type ProfileLocation = Pick<DbtSettings, 'projectDir' | 'profilesDir' | 'target'>
import type { DbtProject } from './project.js'
import {
  connectionTarget,
  profilesFile,
  readProfile,
  secretValues,
  type ProfileTarget,
  type RenderedTarget
} from './profile.js'
import { ActionError, errorMessage } from '../errors.js'
import { registerSecret, registerSecretEnvironment } from '../secrets.js'

/** DBT_ENV_SECRET_* values and every secret the action can render from the target, masked. */
function readMasked(
  settings: ProfileLocation,
  project: DbtProject,
  env: NodeJS.ProcessEnv,
  purpose: string
): RenderedTarget {
  registerSecretEnvironment(env)
  const file = profilesFile(settings.projectDir, settings.profilesDir)
  if (!file) {
    throw new ActionError(
      `${purpose} needs the dbt profile, but no profiles.yml was found (input "profiles-dir").`
    )
  }
  const target = readProfile(file, project.profile, settings.target, env)
  for (const secret of secretValues(target.fields)) registerSecret(secret)
  return target
}

/** Names the fields left unmasked; their values (or Jinja) are never shown. */
function warnUnrendered(target: RenderedTarget): void {
  const names = Object.keys(target.unrendered)
  if (names.length === 0) return
  const fields = names.map((name) => `"${name}"`).join(', ')
  const what =
    names.length === 1
      ? `field ${fields}, so it cannot mask what it holds`
      : `fields ${fields}, so it cannot mask what they hold`
  core.warning(
    `Profile target "${target.target}": the action could not render ${what}. ` +
      `It renders only env_var(...), quoted strings and "or"; dbt renders the rest itself. Keep secrets in DBT_ENV_SECRET_* variables, which are always masked.`
  )
}

/** The target as far as the action can render it, secrets masked; `purpose` names the caller. */
export function maskedProfile(
  settings: ProfileLocation,
  project: DbtProject,
  env: NodeJS.ProcessEnv,
  purpose: string
): RenderedTarget {
  const target = readMasked(settings, project, env, purpose)
  warnUnrendered(target)
  return target
}

/** The target's connection, secrets masked; an error names a connection field it cannot render. */
export function maskedProfileTarget(
  settings: ProfileLocation,
  project: DbtProject,
  env: NodeJS.ProcessEnv,
  purpose: string
): ProfileTarget {
  const target = readMasked(settings, project, env, purpose)
  const connection = connectionTarget(target)
  warnUnrendered(target)
  return connection
}

/** Best effort before dbt runs: dbt reports profile problems itself. */
export function maskProfileSecrets(
  settings: ProfileLocation,
  project: DbtProject,
  env: NodeJS.ProcessEnv
): void {
  try {
    maskedProfile(settings, project, env, 'Masking')
  } catch (error) {
    core.warning(`The dbt profile's secrets are not masked: ${errorMessage(error)}`)
  }
}

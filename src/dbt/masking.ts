// Reads the profile target with its secrets masked before dbt or anything else can print them.
import * as core from '@actions/core'
import type { DbtSettings } from '../inputs.js'
import type { DbtProject } from './project.js'
import { profilesFile, readProfileTarget, type ProfileTarget } from './profile.js'
import { ActionError, errorMessage } from '../errors.js'
import { registerSecret, registerSecretEnvironment } from '../secrets.js'

/** The rendered target, its password and DBT_ENV_SECRET_* values masked; `purpose` names the caller. */
export function maskedProfileTarget(
  settings: DbtSettings,
  project: DbtProject,
  env: NodeJS.ProcessEnv,
  purpose: string
): ProfileTarget {
  registerSecretEnvironment()
  const file = profilesFile(settings.projectDir, settings.profilesDir)
  if (!file) {
    throw new ActionError(
      `${purpose} needs the dbt profile, but no profiles.yml was found (input "profiles-dir").`
    )
  }
  const target = readProfileTarget(file, project.profile, settings.target, env)
  registerSecret(target.password)
  return target
}

/** Best effort before dbt runs: dbt reports profile problems itself. */
export function maskProfileSecrets(
  settings: DbtSettings,
  project: DbtProject,
  env: NodeJS.ProcessEnv
): void {
  try {
    maskedProfileTarget(settings, project, env, 'Masking')
  } catch (error) {
    core.debug(`Profile not read for masking: ${errorMessage(error)}`)
  }
}

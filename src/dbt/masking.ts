// Masks the profile's password before dbt or anything else can print it.
import * as core from '@actions/core'
import type { DbtSettings } from '../inputs.js'
import type { DbtProject } from './project.js'
import { profilesFile, readProfileTarget } from './profile.js'
import { errorMessage } from '../errors.js'
import { registerSecret, registerSecretEnvironment } from '../secrets.js'
import { PR_ENVIRONMENT_ENV } from '../environment.js'

export function maskProfileSecrets(
  settings: DbtSettings,
  project: DbtProject,
  environment: string | undefined
): void {
  registerSecretEnvironment()
  const file = profilesFile(settings.projectDir, settings.profilesDir)
  if (!file) return
  const env = environment ? { ...process.env, [PR_ENVIRONMENT_ENV]: environment } : process.env
  try {
    registerSecret(readProfileTarget(file, project.profile, settings.target, env).password)
  } catch (error) {
    // dbt reports profile problems itself; we only could not look for a password to mask.
    core.debug(`Profile not read for masking: ${errorMessage(error)}`)
  }
}

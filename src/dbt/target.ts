// The "target" input, checked against the profile before anything is touched: a typo fails the
// run even when dbt would be skipped. Only names are read, so no secret needs to be set.
import type { DbtSettings } from '../inputs.js'
import { InputError } from '../errors.js'
import { profilesFile, profileTargetNames } from './profile.js'
import type { DbtProject } from './project.js'

export function checkTarget(settings: DbtSettings, project: DbtProject): void {
  const target = settings.target
  if (!target) return
  const file = profilesFile(settings.projectDir, settings.profilesDir)
  if (!file) {
    throw new InputError(
      'target',
      `is "${target}", but no profiles.yml was found to hold it: set "profiles-dir", or DBT_PROFILES_DIR, or put profiles.yml in the project directory or ~/.dbt.`
    )
  }
  const targets = profileTargetNames(file, project.profile)
  if (targets?.includes(target)) return
  const where = `profile "${project.profile}" of ${file}`
  throw new InputError(
    'target',
    targets
      ? `is "${target}", which is not a target of ${where}; accepted: ${targets.map((t) => `"${t}"`).join(', ') || 'none (the profile has no outputs)'}.`
      : `is "${target}", but ${where} does not exist (dbt_project.yml names the profile).`
  )
}

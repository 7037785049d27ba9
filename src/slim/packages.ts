// `dbt deps`, with dbt_packages/ restored from and saved to the Actions cache.
import * as cache from '@actions/cache'
import * as core from '@actions/core'
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import type { Dbt } from '../dbt/cli.js'
import type { DbtProject } from '../dbt/project.js'
import { ActionError, errorMessage } from '../errors.js'

function cacheKey(project: DbtProject): string {
  const hash = createHash('sha256')
  // The lock pins exact versions; without one, the package specs are the best key we have.
  const files = project.packageFiles.includes('package-lock.yml')
    ? ['package-lock.yml']
    : project.packageFiles
  for (const file of files) hash.update(file).update(readFileSync(path.join(project.dir, file)))
  return `dbt-packages-${process.env.RUNNER_OS ?? 'unknown'}-${hash.digest('hex').slice(0, 32)}`
}

async function restore(paths: string[], key: string): Promise<boolean> {
  try {
    return (await cache.restoreCache(paths, key)) !== undefined
  } catch (error) {
    core.warning(
      `Restoring dbt packages from the cache failed; installing them instead: ${errorMessage(error)}`
    )
    return false
  }
}

async function save(paths: string[], key: string): Promise<void> {
  try {
    await cache.saveCache(paths, key)
  } catch (error) {
    core.warning(`Saving dbt packages to the cache failed: ${errorMessage(error)}`)
  }
}

export async function installPackages(
  dbt: Dbt,
  project: DbtProject,
  useCache: boolean
): Promise<void> {
  if (project.packageFiles.length === 0) return
  await core.group('dbt deps', () => restoreOrInstall(dbt, project, useCache))
}

async function restoreOrInstall(dbt: Dbt, project: DbtProject, useCache: boolean): Promise<void> {
  const cacheable = useCache && cache.isFeatureAvailable()
  const paths = [path.join(project.dir, project.packagesPath)]
  const key = cacheable ? cacheKey(project) : ''
  if (cacheable && (await restore(paths, key))) {
    core.info(`dbt packages restored from the cache (${key}).`)
    return
  }
  const deps = await dbt.run('deps', [])
  if (deps.exitCode !== 0)
    throw new ActionError(`dbt deps failed (exit ${deps.exitCode}):\n${deps.tail}`)
  if (cacheable) await save(paths, key)
}

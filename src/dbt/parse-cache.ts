// dbt's partial parse state (partial_parse.msgpack) restored from and saved to the Actions
// cache, so that a CI run re-parses only the files that changed since an earlier run with the
// same dbt, target and vars. dbt checks a restored file itself (its version, the vars, the
// profile, every file's checksum) and parses in full when it does not match, so a stale cache
// can cost time but never change what is built.
import * as cache from '@actions/cache'
import * as core from '@actions/core'
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { errorMessage } from '../errors.js'
import type { DbtSettings } from '../inputs.js'
import type { Dbt } from './cli.js'
import { installedDbtDistributions } from './ask.js'
import { treeSha } from '../util/git.js'

const PARSE_FILE = 'partial_parse.msgpack'

export interface ParseCacheEntry {
  key: string
  /** The partial parse files (relative to the workspace), one per target path the run's dbt uses. */
  paths: string[]
  /** The key restored, exactly `key` when nothing changed since it was saved. */
  restored?: string
}

export interface ParseScope {
  executable: string
  projectDir: string
  /** Target paths relative to the project, e.g. production's and green's. */
  targetPaths: string[]
  /** What dbt's check would reject anyway: the profile target and the vars of each target path. */
  settings: unknown
}

/** Where @actions/cache resolves relative paths. */
const workspace = (): string => process.env.GITHUB_WORKSPACE || process.cwd()

function digest(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 24)
}

/** The cache entry of this scope: the setup's hash, then the project's git tree (or none). */
export async function parseCacheEntry(scope: ParseScope): Promise<ParseCacheEntry> {
  const setup = digest({
    dbt: installedDbtDistributions(scope.executable),
    settings: scope.settings,
    targetPaths: scope.targetPaths
  })
  const tree = (await treeSha(scope.projectDir)) ?? 'untracked'
  // Relative to the workspace: the cache's version hashes the paths as given.
  const project = path.relative(workspace(), scope.projectDir)
  return {
    key: `dbt-parse-${process.env.RUNNER_OS ?? 'unknown'}-${setup}-${tree}`,
    paths: scope.targetPaths.map((target) => path.join(project, target, PARSE_FILE))
  }
}

const prefixOf = (key: string): string => key.slice(0, key.lastIndexOf('-') + 1)

/** The scope of a run's dbt, or undefined when the "cache-parse" input turned caching off. */
export function parseScope(
  dbt: Dbt,
  settings: DbtSettings,
  targetPaths: string[],
  environment?: string
): ParseScope | undefined {
  if (!settings.cacheParse || !dbt.executable) return undefined
  const { projectDir, profilesDir, target, vars } = settings
  // Relative: the checkout's absolute path differs between runners and runs.
  const profiles = profilesDir && path.relative(projectDir, profilesDir)
  return {
    executable: dbt.executable,
    projectDir,
    targetPaths,
    settings: { profiles, target, vars, environment }
  }
}

/** Restores the nearest saved parse state; undefined when caching is off or unavailable. */
export async function restoreParseState(
  scope: ParseScope | undefined
): Promise<ParseCacheEntry | undefined> {
  if (!scope || !cache.isFeatureAvailable()) return undefined
  const entry = await parseCacheEntry(scope)
  try {
    entry.restored = await cache.restoreCache(entry.paths, entry.key, [prefixOf(entry.key)])
  } catch (error) {
    core.warning(`Restoring dbt's parse state from the cache failed: ${errorMessage(error)}`)
    return entry
  }
  core.info(
    entry.restored
      ? `dbt's parse state restored from the cache (${entry.restored}); dbt checks it and re-parses what changed.`
      : `No cached parse state for ${entry.key}: dbt parses the whole project.`
  )
  return entry
}

/** Saves the parse state this run left, unless the cache already holds it under this key. */
export async function saveParseState(entry: ParseCacheEntry | undefined): Promise<void> {
  if (!entry || entry.restored === entry.key) return
  const paths = entry.paths.filter((file) => existsSync(path.resolve(workspace(), file)))
  if (paths.length !== entry.paths.length) return // a run that stopped before dbt parsed
  try {
    await cache.saveCache(paths, entry.key)
    core.info(`dbt's parse state saved to the cache (${entry.key}).`)
  } catch (error) {
    core.warning(`Saving dbt's parse state to the cache failed: ${errorMessage(error)}`)
  }
}

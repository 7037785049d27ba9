// The dbt-core and dbt-materialize releases blue/green can run on: floors and known-bad
// releases, each with the upstream link that explains it. Keep every entry here.
import { askDbt, distributionVersion, installedDbtDistributions } from './ask.js'

export type DbtPackage = 'dbt-core' | 'dbt-materialize'

/** The installed releases; undefined when a package is not installed. */
export type InstalledVersions = Record<DbtPackage, string | undefined>

export interface VersionFloor {
  package: DbtPackage
  /** The oldest release that works. */
  minimum: string
  why: string
  link: string
}

export interface KnownBadReleases {
  package: DbtPackage
  from: string
  /** The newest release known to have the problem (the fix may be merged but unreleased). */
  through: string
  problem: string
  link: string
}

export const FLOORS: readonly VersionFloor[] = [
  {
    package: 'dbt-materialize',
    minimum: '1.9.8',
    why: 'older deploy_promote has no max_retries/retry_backoff arguments, so every promote would fail after green was built',
    link: 'https://github.com/MaterializeInc/materialize/pull/36155'
  },
  {
    package: 'dbt-core',
    minimum: '1.8.0',
    why: 'dbt-materialize 1.9 requires it (and the action reads the manifest dbt-core 1.8 writes)',
    link: 'https://github.com/MaterializeInc/materialize/blob/main/misc/dbt-materialize/setup.py'
  }
]

/**
 * Releases where `CI_TAG` in dbt's environment makes `deploy_init` run `COMMENT ON SCHEMA ""`
 * and fail: from the release that added CI tags (MaterializeInc/materialize#25744) to the
 * newest release; the fix is merged upstream but not released.
 */
export const CI_TAG_BREAKS_DEPLOY_INIT: KnownBadReleases = {
  package: 'dbt-materialize',
  from: '1.7.5',
  through: '1.9.11',
  problem: 'with CI_TAG set, deploy_init runs COMMENT ON SCHEMA "" and fails',
  link: 'https://github.com/MaterializeInc/materialize/pull/38066'
}

/** Known-bad releases the action refuses (none today beyond the floors). */
export const REFUSED_RELEASES: readonly KnownBadReleases[] = []

/** `1.9.8` → [1, 9, 8]; pre-release and post-release tags after the numbers are ignored. */
function numbers(version: string): number[] {
  return (/^v?(\d+(?:\.\d+)*)/.exec(version)?.[1] ?? '').split('.').map(Number)
}

/** Negative when a is older than b, 0 when equal, positive when newer. */
export function compareVersions(a: string, b: string): number {
  const [x, y] = [numbers(a), numbers(b)]
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const difference = (x[i] ?? 0) - (y[i] ?? 0)
    if (difference !== 0) return difference
  }
  return 0
}

export function isIn(version: string, releases: KnownBadReleases): boolean {
  return (
    compareVersions(version, releases.from) >= 0 && compareVersions(version, releases.through) <= 0
  )
}

/** Why the installed releases cannot run a blue/green deploy, one sentence each; empty when they can. */
export function versionProblems(installed: InstalledVersions): string[] {
  const problems: string[] = []
  for (const floor of FLOORS) {
    const version = installed[floor.package]
    if (version === undefined) problems.push(`${floor.package} is not installed.`)
    else if (compareVersions(version, floor.minimum) < 0)
      problems.push(
        `${floor.package} ${version} is older than ${floor.minimum}, the oldest release blue/green supports: ${floor.why} (${floor.link}).`
      )
  }
  for (const bad of REFUSED_RELEASES) {
    const version = installed[bad.package]
    if (version !== undefined && isIn(version, bad))
      problems.push(
        `${bad.package} ${version} is a known-bad release: ${bad.problem} (${bad.link}).`
      )
  }
  return problems
}

/** Asks dbt's own Python which releases it runs: {"dbt-core": "1.11.7", "dbt-materialize": …}. */
const PYTHON_QUERY = `import json
from importlib.metadata import PackageNotFoundError, version
def installed(name):
    try:
        return version(name)
    except PackageNotFoundError:
        return None
print(json.dumps({name: installed(name) for name in ("dbt-core", "dbt-materialize")}))`

/** The answer of PYTHON_QUERY: its last line. */
export function parseVersionsAnswer(output: string): InstalledVersions | undefined {
  try {
    const answer = JSON.parse(output.trim().split('\n').pop() ?? '') as Record<string, unknown>
    const read = (name: DbtPackage) => (typeof answer[name] === 'string' ? answer[name] : undefined)
    return { 'dbt-core': read('dbt-core'), 'dbt-materialize': read('dbt-materialize') }
  } catch {
    return undefined
  }
}

/** `dbt --version`: "installed: 1.11.7" under Core, "- materialize: 1.9.10 - …" under Plugins. */
export function parseDbtVersionOutput(output: string): InstalledVersions | undefined {
  const core = /installed(?: version)?:\s*v?(\d+\.\d+\.\d+\S*)/.exec(output)?.[1]
  if (core === undefined) return undefined
  const materialize = /-\s*materialize:\s*v?(\d+\.\d+\.\d+[^\s-]*)/.exec(output)?.[1]
  return { 'dbt-core': core, 'dbt-materialize': materialize }
}

/**
 * The installed dbt-core and dbt-materialize: read from their distributions next to dbt's
 * Python when both are there, else asked of dbt (see askDbt); undefined when it cannot tell.
 */
export async function queryInstalledVersions(
  executable: string,
  cwd: string,
  env: Record<string, string>
): Promise<InstalledVersions | undefined> {
  const distributions = installedDbtDistributions(executable)
  const core = distributionVersion(distributions, 'dbt_core')
  const materialize = distributionVersion(distributions, 'dbt_materialize')
  if (core !== undefined && materialize !== undefined)
    return { 'dbt-core': core, 'dbt-materialize': materialize }
  const answer = await askDbt(executable, cwd, env, PYTHON_QUERY)
  if (!answer) return undefined
  return answer.fromPython
    ? parseVersionsAnswer(answer.output)
    : parseDbtVersionOutput(answer.output)
}

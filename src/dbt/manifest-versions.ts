// Which manifest schema versions the installed dbt reads. dbt aborts on a `--state` manifest it
// cannot read (one written by a newer dbt, during every upgrade), so the action checks first and
// applies "on-state-error" instead.
import { askDbt, installedCoreVersion } from './ask.js'

export interface ManifestSupport {
  /** The installed dbt-core version, e.g. `1.11.7`. */
  dbtVersion: string
  /** The manifest schema versions it reads, e.g. 4 to 12. */
  versions: number[]
  /** False when dbt-core is newer than MANIFEST_BY_MINOR knows: it may read newer ones too. */
  exhaustive: boolean
}

/** The manifest's own `metadata`. */
export interface ManifestVersion {
  /** e.g. `https://schemas.getdbt.com/dbt/manifest/v12.json` */
  schemaVersion: string
  /** The dbt that wrote it. */
  dbtVersion?: string
}

const SCHEMA_URL = /^https:\/\/schemas\.getdbt\.com\/dbt\/manifest\/v(\d+)\.json$/

/**
 * The manifest version dbt-core 1.<index> writes. From 1.2 on, dbt also reads every older one
 * back to v4 (its `compatible_previous_versions`); 1.0 and 1.1 read only their own. dbt-core
 * 1.12.0 to 1.12.6 still ship only manifest v12 (dbt/artifacts/schemas/manifest/v12).
 */
const MANIFEST_BY_MINOR = [4, 5, 6, 7, 8, 9, 10, 11, 12, 12, 12, 12, 12]
const OLDEST_MANIFEST = 4

/**
 * Asks dbt's own Python for its exact rule (dbt/artifacts/schemas/base.py, is_compatible_version),
 * printing {"dbt": version, "versions": [current, ...compatible_previous_versions]}.
 */
const PYTHON_QUERY = `import json
from dbt.version import __version__
try:
    from dbt.artifacts.schemas.manifest import WritableManifest as M
except ImportError:
    from dbt.contracts.graph.manifest import WritableManifest as M
older = getattr(M, "compatible_previous_versions", lambda: [])()
versions = [M.dbt_schema_version.version] + [v for name, v in older if name == "manifest"]
print(json.dumps({"dbt": __version__, "versions": versions}))`

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i)
}

/** What dbt-core `version` reads, from the table; undefined for versions other than 1.x. */
export function supportFromTable(dbtVersion: string): ManifestSupport | undefined {
  const minor = Number(/^1\.(\d+)\./.exec(dbtVersion)?.[1] ?? NaN)
  if (Number.isNaN(minor)) return undefined
  const newest = MANIFEST_BY_MINOR[Math.min(minor, MANIFEST_BY_MINOR.length - 1)]!
  const oldest = minor < 2 ? newest : OLDEST_MANIFEST
  return {
    dbtVersion,
    versions: range(oldest, newest),
    exhaustive: minor < MANIFEST_BY_MINOR.length
  }
}

/** dbt-core's version from `dbt --version` ("installed: 1.11.7", older dbt "installed version: 1.0.0"). */
export function parseVersionOutput(output: string): string | undefined {
  return /installed(?: version)?:\s*v?(\d+\.\d+\.\d+\S*)/.exec(output)?.[1]
}

/** The answer of PYTHON_QUERY: its last line. */
export function parsePythonAnswer(output: string): ManifestSupport | undefined {
  try {
    const answer = JSON.parse(output.trim().split('\n').pop() ?? '') as {
      dbt?: unknown
      versions?: unknown
    }
    const listed: unknown[] = Array.isArray(answer.versions) ? answer.versions : []
    const versions = listed.filter((v): v is number => Number.isInteger(v))
    if (typeof answer.dbt !== 'string' || versions.length === 0) return undefined
    return { dbtVersion: answer.dbt, versions, exhaustive: true }
  } catch {
    return undefined
  }
}

/**
 * The manifest versions the installed dbt reads, asked of dbt (see askDbt); from the table when
 * only `dbt --version` answers. Undefined when it cannot tell.
 */
export async function queryManifestSupport(
  executable: string,
  cwd: string,
  env: Record<string, string>
): Promise<ManifestSupport | undefined> {
  // A dbt-core the table knows needs no process: its distribution's name tells the version.
  const installed = installedCoreVersion(executable)
  const known = installed === undefined ? undefined : supportFromTable(installed)
  if (known?.exhaustive) return known
  const answer = await askDbt(executable, cwd, env, PYTHON_QUERY)
  if (!answer) return undefined
  if (answer.fromPython) return parsePythonAnswer(answer.output)
  const version = parseVersionOutput(answer.output)
  return version === undefined ? undefined : supportFromTable(version)
}

/** e.g. `v4 to v12` */
export function readableRange(support: ManifestSupport): string {
  return `v${Math.min(...support.versions)} to v${Math.max(...support.versions)}`
}

/** Why this dbt cannot read the manifest at `source`; undefined when it can, or may. */
export function unreadableManifest(
  manifest: ManifestVersion,
  support: ManifestSupport,
  source: string
): string | undefined {
  const version = Number(SCHEMA_URL.exec(manifest.schemaVersion)?.[1] ?? NaN)
  if (support.versions.includes(version)) return undefined
  // A dbt newer than the table may read newer manifests: dbt decides.
  if (!support.exhaustive && version > Math.max(...support.versions)) return undefined
  const label = Number.isNaN(version) ? `"${manifest.schemaVersion}"` : `v${version}`
  return (
    `The production manifest ${source} has schema version ${label} (written by dbt ${manifest.dbtVersion ?? 'of an unknown version'}), ` +
    `which the installed dbt-core ${support.dbtVersion} cannot read: it reads manifest versions ${readableRange(support)}. ` +
    'Run the same dbt version here and in the workflow that publishes production state.'
  )
}

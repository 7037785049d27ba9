// Asking the installed dbt about itself in one short process: dbt's own Python when the
// executable is a Python script (pip, pipx, uv), else `dbt --version` (a wrapper, a binary).
import { closeSync, openSync, readdirSync, readSync } from 'node:fs'
import path from 'node:path'
import { runProcess } from '../util/process.js'

const QUERY_TIMEOUT_MS = 60_000

/** What dbt answered, and whether its Python ran the query (else it is `dbt --version`). */
export interface DbtAnswer {
  fromPython: boolean
  output: string
}

/** The interpreter of a Python script, e.g. ['/venv/bin/python3'] or ['/usr/bin/env', 'python3']. */
export function pythonShebang(executable: string): string[] | undefined {
  const head = Buffer.alloc(256)
  const fd = openSync(executable, 'r')
  try {
    readSync(fd, head, 0, head.length, 0)
  } finally {
    closeSync(fd)
  }
  const words = /^#!(.*)/.exec(head.toString('utf8'))?.[1]?.trim().split(/\s+/) ?? []
  return words.some((word) => /^python[\d.]*$/.test(path.basename(word))) ? words : undefined
}

/**
 * The dbt distributions next to the executable's Python (venv or pip layout), e.g.
 * `dbt_core-1.11.7.dist-info`: read from the file system, since asking dbt costs a process.
 */
export function installedDbtDistributions(executable: string): string[] {
  try {
    const python = pythonShebang(executable)?.find((word) => path.isAbsolute(word))
    if (!python) return []
    const lib = path.join(path.dirname(python), '..', 'lib')
    return readdirSync(lib)
      .filter((dir) => dir.startsWith('python'))
      .flatMap((dir) => readdirSync(path.join(lib, dir, 'site-packages')))
      .filter((name) => /^dbt[_-].*\.dist-info$/.test(name))
      .sort()
  } catch {
    return []
  }
}

/**
 * A distribution's version in a listing of installedDbtDistributions, e.g. `1.11.7` for
 * `dbt_core`. Undefined when it is not there, or there twice (a broken upgrade).
 */
export function distributionVersion(
  distributions: string[],
  distribution: 'dbt_core' | 'dbt_materialize'
): string | undefined {
  const pattern = new RegExp(`^${distribution}-(.+)\\.dist-info$`)
  const found = distributions.flatMap((name) => pattern.exec(name)?.[1] ?? [])
  return found.length === 1 ? found[0] : undefined
}

/** dbt-core's version from its distribution next to the executable's Python, without a process. */
export function installedCoreVersion(executable: string): string | undefined {
  return distributionVersion(installedDbtDistributions(executable), 'dbt_core')
}

/** Runs `pythonQuery` in dbt's Python, or `dbt --version`; undefined when neither answers. */
export async function askDbt(
  executable: string,
  cwd: string,
  env: Record<string, string>,
  pythonQuery: string
): Promise<DbtAnswer | undefined> {
  try {
    const python = pythonShebang(executable)
    const [command, ...args] = python ? [...python, '-c', pythonQuery] : [executable, '--version']
    const result = await runProcess(command, args, {
      cwd,
      env,
      echo: false,
      timeoutMs: QUERY_TIMEOUT_MS
    })
    if (result.exitCode !== 0) return undefined
    return { fromPython: python !== undefined, output: result.tail }
  } catch {
    return undefined
  }
}

// Throwaway virtualenvs with another dbt-materialize release than the shared toolchain's, for
// tests of the version table and the e2e run on the oldest supported release. Each is the
// shared .venv's site-packages hard-linked (cheap, and the shared files are never written: pip
// unlinks what it replaces) with one pinned release installed over it by pip, cached in a
// git-ignored directory of the repository.
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import {
  chmodSync,
  existsSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync
} from 'node:fs'
import path from 'node:path'
import { repoRoot } from '../../../dev/runner.js'
import { fixturesDir, venvBin } from './paths.js'

function run(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.once('error', reject)
    child.once('close', (code) =>
      code === 0
        ? resolve(output.trim())
        : reject(new Error(`${command} ${args.join(' ')} failed (exit ${code}):\n${output}`))
    )
  })
}

const sitePackages = (python: string): Promise<string> =>
  run(python, ['-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])'])

/**
 * The dbt executable of a virtualenv with dbt-materialize `version`, created from
 * `fixtures/dbt-materialize-<version>/requirements.txt` when missing, or when that file or the
 * shared toolchain changed.
 */
export async function dbtWithMaterialize(version: string): Promise<string> {
  const requirements = path.join(fixturesDir, `dbt-materialize-${version}`, 'requirements.txt')
  if (!existsSync(requirements)) {
    const known = readdirSync(fixturesDir).filter((name) => name.startsWith('dbt-materialize-'))
    throw new Error(
      `dbt-materialize ${version}: no ${requirements}; the releases with a fixture are ${known.map((n) => n.slice('dbt-materialize-'.length)).join(', ')}`
    )
  }
  const dir = path.join(repoRoot, `.venv-dbt-materialize-${version}`)
  const dbt = path.join(dir, 'bin', 'dbt')
  const stamp = path.join(dir, '.requirements-sha256')
  // The shared toolchain's stamp too: its files are hard-linked here, so a new .venv (other
  // pins) makes this one stale.
  const sharedStamp = path.join(venvBin, '..', '.requirements-sha256')
  const wanted = createHash('sha256')
    .update(readFileSync(requirements))
    .update(existsSync(sharedStamp) ? readFileSync(sharedStamp) : '')
    .digest('hex')
  if (existsSync(dbt) && existsSync(stamp) && readFileSync(stamp, 'utf8') === wanted) return dbt

  rmSync(dir, { recursive: true, force: true })
  const shared = path.join(venvBin, 'python')
  await run(shared, ['-m', 'venv', '--without-pip', dir])
  const python = path.join(dir, 'bin', 'python')
  const site = await sitePackages(python)
  rmSync(site, { recursive: true, force: true })
  await run('cp', ['-al', realpathSync(await sitePackages(shared)), site])
  await run(
    python,
    ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check'].concat([
      '--no-deps',
      '-r',
      requirements
    ])
  )
  // dbt-core's console script, as pip writes it, for this virtualenv's Python.
  const script = readFileSync(path.join(venvBin, 'dbt'), 'utf8').replace(/^#!.*/, `#!${python}`)
  writeFileSync(dbt, script)
  chmodSync(dbt, 0o755)
  writeFileSync(stamp, wanted)
  return dbt
}

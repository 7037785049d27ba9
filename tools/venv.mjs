// A project-local virtualenv kept in step with its pinned requirements file: created when it is
// missing, lacks one of its executables, or the file changed since (a stamp holds its hash).
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'

function run(command, args) {
  const result = spawnSync(command, args, { stdio: 'inherit' })
  if (result.status !== 0) {
    console.error(`${command} ${args.join(' ')} failed (exit ${result.status ?? result.signal})`)
    process.exit(1)
  }
}

/** `executables` must be in the venv's bin/; `what` names its contents for the log line. */
export function ensureVenv({ venv, requirements, executables, what }) {
  const stamp = `${venv}/.requirements-sha256`
  const wanted = createHash('sha256').update(readFileSync(requirements)).digest('hex')
  const current =
    executables.every((name) => existsSync(`${venv}/bin/${name}`)) &&
    existsSync(stamp) &&
    readFileSync(stamp, 'utf8') === wanted
  if (current) return
  console.log(`Creating ${venv} from ${requirements} (${what})…`)
  rmSync(venv, { recursive: true, force: true })
  run(process.env.PYTHON ?? 'python3', ['-m', 'venv', venv])
  run(`${venv}/bin/pip`, ['install', '--quiet', '--disable-pip-version-check', '-r', requirements])
  writeFileSync(stamp, wanted)
}

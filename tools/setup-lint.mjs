// Creates .venv-lint with the pinned workflow linters (requirements-lint.txt) when it is missing
// or when that file changed. A virtualenv of its own, so that installing or upgrading a linter
// never touches .venv, the dbt toolchain the end-to-end suite runs. Used by `npm test`.
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'

const venv = '.venv-lint'
const requirements = 'requirements-lint.txt'
const stamp = `${venv}/.requirements-sha256`
const wanted = createHash('sha256').update(readFileSync(requirements)).digest('hex')

function run(command, args) {
  const result = spawnSync(command, args, { stdio: 'inherit' })
  if (result.status !== 0) {
    console.error(`${command} ${args.join(' ')} failed (exit ${result.status ?? result.signal})`)
    process.exit(1)
  }
}

const tools = ['jactionlint', 'zizmor', 'shellcheck']
if (
  tools.every((tool) => existsSync(`${venv}/bin/${tool}`)) &&
  existsSync(stamp) &&
  readFileSync(stamp, 'utf8') === wanted
) {
  process.exit(0)
}
console.log(`Creating ${venv} from ${requirements} (jactionlint, zizmor, shellcheck)…`)
rmSync(venv, { recursive: true, force: true })
run(process.env.PYTHON ?? 'python3', ['-m', 'venv', venv])
run(`${venv}/bin/pip`, ['install', '--quiet', '--disable-pip-version-check', '-r', requirements])
writeFileSync(stamp, wanted)

// Creates the project-local virtualenv with the pinned dbt and moto toolchain when it is
// missing or when requirements-dev.txt changed. Used by `npm test` and `.ci/run`.
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'

const venv = '.venv'
const requirements = 'requirements-dev.txt'
const stamp = `${venv}/.requirements-sha256`
const wanted = createHash('sha256').update(readFileSync(requirements)).digest('hex')

function run(command, args) {
  const result = spawnSync(command, args, { stdio: 'inherit' })
  if (result.status !== 0) {
    console.error(`${command} ${args.join(' ')} failed (exit ${result.status ?? result.signal})`)
    process.exit(1)
  }
}

if (existsSync(`${venv}/bin/dbt`) && existsSync(stamp) && readFileSync(stamp, 'utf8') === wanted) {
  process.exit(0)
}
console.log(
  `Creating ${venv} from ${requirements} (dbt-core, dbt-postgres, dbt-materialize, moto)…`
)
rmSync(venv, { recursive: true, force: true })
run(process.env.PYTHON ?? 'python3', ['-m', 'venv', venv])
run(`${venv}/bin/pip`, ['install', '--quiet', '--disable-pip-version-check', '-r', requirements])
writeFileSync(stamp, wanted)

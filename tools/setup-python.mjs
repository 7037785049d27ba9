// Creates the project-local virtualenv with the pinned dbt and moto toolchain when it is
// missing or when requirements-dev.txt changed. Used by `npm test` and `.ci/run`.
import { ensureVenv } from './venv.mjs'

ensureVenv({
  venv: '.venv',
  requirements: 'requirements-dev.txt',
  executables: ['dbt'],
  what: 'dbt-core, dbt-postgres, dbt-materialize, moto'
})

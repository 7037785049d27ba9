// Creates .venv-lint with the pinned workflow linters (requirements-lint.txt) when it is missing
// or when that file changed. A virtualenv of its own, so that installing or upgrading a linter
// never touches .venv, the dbt toolchain the end-to-end suite runs. Used by `npm test`.
import { ensureVenv } from './venv.mjs'

ensureVenv({
  venv: '.venv-lint',
  requirements: 'requirements-lint.txt',
  executables: ['jactionlint', 'zizmor', 'shellcheck'],
  what: 'jactionlint, zizmor, shellcheck'
})

// `npm run lint:workflows [-- --online]`: jactionlint and zizmor on .github/workflows/*.yml,
// .github/dependabot.yml and each README recipe. --online lets zizmor run its online audits on
// this repository's workflows (CI does, with GH_TOKEN); the recipes, which name a placeholder
// repository, are always audited offline.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  lintRecipes,
  lintWorkflows,
  missingLinters,
  readmeRecipes,
  repositoryWorkflowFiles,
  type LintRun
} from './workflow-lint.js'

const missing = missingLinters()
if (missing.length > 0) {
  console.error(`${missing.join(', ')} missing from .venv-lint: run npm run setup:lint`)
  process.exit(1)
}
const dir = mkdtempSync(join(tmpdir(), 'readme-recipes-'))
let runs: LintRun[]
try {
  runs = [
    ...lintWorkflows('.', repositoryWorkflowFiles(), { online: process.argv.includes('--online') }),
    ...lintRecipes(readmeRecipes(readFileSync('README.md', 'utf8')), dir)
  ]
} finally {
  rmSync(dir, { recursive: true, force: true })
}
for (const lint of runs) console.log(`$ ${lint.command}\n${lint.output.trim()}\n`)
process.exit(runs.every((lint) => lint.status === 0) ? 0 : 1)

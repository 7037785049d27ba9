// jactionlint (actionlint's checks, shellcheck on `run:` scripts) and zizmor (offline audits) on
// this repository's workflows and on every README recipe; a failure shows the linters' output.
// The linters come from .venv-lint, which `npm test` and `npm run test:unit` create.
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  lintRecipes,
  lintWorkflows,
  missingLinters,
  readmeRecipes,
  report,
  repositoryWorkflowFiles
} from '../../tools/workflow-lint.js'

let dir: string
beforeAll(() => {
  const missing = missingLinters()
  if (missing.length > 0)
    throw new Error(`${missing.join(', ')} missing from .venv-lint: run npm run setup:lint`)
  dir = mkdtempSync(join(tmpdir(), 'workflow-lint-'))
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('workflow linters', () => {
  it('pass on .github/workflows and .github/dependabot.yml', () => {
    const files = repositoryWorkflowFiles()
    expect(files).toEqual(
      expect.arrayContaining([
        '.github/workflows/ci.yml',
        '.github/workflows/release.yml',
        '.github/dependabot.yml'
      ])
    )
    expect(report(lintWorkflows('.', files))).toBe('')
  })

  it('see every action of .github/workflows pinned by commit SHA, its tag in a comment', () => {
    // zizmor requires the SHA; the comment is what Dependabot and a reader go by.
    const lines = repositoryWorkflowFiles()
      .filter((file) => file.startsWith('.github/workflows/'))
      .flatMap((file) => readFileSync(file, 'utf8').split('\n'))
      .filter((line) => /^\s*(- )?uses: /.test(line) && !line.includes('uses: ./'))
    expect(lines.length).toBeGreaterThan(0)
    for (const line of lines)
      expect(line).toMatch(/uses: [\w.-]+\/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$/)
  })

  it('pass on every README recipe', () => {
    const recipes = readmeRecipes(readFileSync('README.md', 'utf8'))
    expect(recipes.length).toBeGreaterThanOrEqual(5)
    expect(report(lintRecipes(recipes, join(dir, 'readme')))).toBe('')
  })

  it('fail, naming the problem, on a workflow with a mistake of each kind', () => {
    // An unknown key (jactionlint), a shellcheck finding, a template injection and a checkout
    // that keeps its credentials (zizmor).
    const broken = [
      '# .github/workflows/broken.yml',
      'on: pull_request',
      'permissions: {}',
      'jobs:',
      '  build:',
      '    runs-on: ubuntu-latest',
      '    timeout-minuts: 5',
      '    steps:',
      '      - uses: actions/checkout@v7',
      '      - run: echo "${{ github.event.pull_request.title }}" && cd $HOME/x',
      ''
    ].join('\n')
    const output = report(
      lintRecipes([{ path: '.github/workflows/broken.yml', text: broken }], join(dir, 'broken'))
    )
    expect(output).toContain('unexpected key "timeout-minuts"')
    expect(output).toContain('SC2086')
    expect(output).toContain('error[template-injection]')
    expect(output).toContain('[artipacked]')
  })
})

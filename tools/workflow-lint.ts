// The workflow linters on this repository's workflows and on the README's recipes: jactionlint
// (actionlint's checks, with shellcheck on `run:` scripts) and zizmor (security audits), both
// from .venv-lint (`npm run setup:lint`). Used by the unit test and `npm run lint:workflows`.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { delimiter, join, resolve } from 'node:path'

export const lintBin = resolve('.venv-lint/bin')

// The recipes show actions by major tag, as each action's documentation does; the zizmor
// configuration for them allows that for the actions they name and for nothing else.
export const recipeZizmorConfig = resolve('tools/zizmor-recipes.yml')

export interface Recipe {
  /** The path the recipe names on its first line, e.g. `.github/workflows/dbt-pr.yml`. */
  path: string
  text: string
}

/** The README's complete workflow files: ```yaml blocks whose first line names one. */
export function readmeRecipes(readme: string): Recipe[] {
  return [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)]
    .map((match) => match[1] ?? '')
    .filter((block) => block.startsWith('# .github/workflows/'))
    .map((text) => ({ path: (text.split('\n')[0] ?? '').slice(2).trim(), text }))
}

export interface LintRun {
  command: string
  status: number | null
  output: string
}

export function missingLinters(): string[] {
  return ['jactionlint', 'zizmor', 'shellcheck'].filter((tool) => !existsSync(join(lintBin, tool)))
}

function run(tool: string, args: string[], cwd: string): LintRun {
  const result = spawnSync(join(lintBin, tool), args, {
    cwd,
    encoding: 'utf8',
    // jactionlint runs the shellcheck it finds on PATH.
    env: {
      ...process.env,
      PATH: `${lintBin}${delimiter}${process.env.PATH ?? ''}`,
      NO_COLOR: '1'
    }
  })
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}${result.error ? String(result.error) : ''}`
  return { command: [tool, ...args].join(' '), status: result.status, output }
}

/**
 * Lints workflow files under `root`, given relative to it: jactionlint with its `correctness`
 * profile, then zizmor (offline unless `online`; its online audits ask GitHub about the pinned
 * commits and known-vulnerable actions, which needs a token and the network).
 */
export function lintWorkflows(
  root: string,
  files: string[],
  options: { online?: boolean; zizmorConfig?: string } = {}
): LintRun[] {
  const zizmorArgs = [
    ...(options.online ? [] : ['--offline']),
    ...(options.zizmorConfig ? ['--config', options.zizmorConfig] : []),
    '--no-progress',
    '--color=never',
    ...files
  ]
  return [
    run('jactionlint', ['--profile', 'correctness', '--no-color', ...files], root),
    run('zizmor', zizmorArgs, root)
  ]
}

/** This repository's workflows and its Dependabot configuration. */
export function repositoryWorkflowFiles(root = '.'): string[] {
  const workflows = readdirSync(join(root, '.github/workflows'))
    .filter((file) => /\.ya?ml$/.test(file))
    .sort()
    .map((file) => `.github/workflows/${file}`)
  return [...workflows, '.github/dependabot.yml'].filter((file) => existsSync(join(root, file)))
}

/** Writes each recipe to its own path under `dir` (as it would sit in a repository) and lints it. */
export function lintRecipes(recipes: Recipe[], dir: string): LintRun[] {
  for (const recipe of recipes) {
    mkdirSync(join(dir, recipe.path, '..'), { recursive: true })
    writeFileSync(join(dir, recipe.path), recipe.text)
  }
  return lintWorkflows(
    dir,
    recipes.map((recipe) => recipe.path),
    { zizmorConfig: recipeZizmorConfig }
  )
}

export function report(runs: LintRun[]): string {
  return runs
    .filter((lint) => lint.status !== 0)
    .map((lint) => `$ ${lint.command}\n(exit ${lint.status})\n${lint.output.trim()}`)
    .join('\n\n')
}

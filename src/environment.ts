// The environment dbt runs in: the runner's, without what dbt must not read, plus the pull
// request environment, a name dbt profiles can route a PR's build with.
import type { CommonInputs } from './inputs.js'
import type { RunContext } from './context.js'

export const PR_ENVIRONMENT_ENV = 'DBT_PR_ENVIRONMENT'
export const PR_ENVIRONMENT_VAR = 'pr_environment'

export function prEnvironment(inputs: CommonInputs, context: RunContext): string | undefined {
  if (inputs.prEnvironment) return inputs.prEnvironment
  return context.pullRequest ? `pr_${context.pullRequest.number}` : undefined
}

/**
 * What dbt, and every package's `env_var()`, must not read: the action's inputs (its GitHub
 * token, `materialize-url`), the runner's internal tokens and service URLs (ACTIONS_*: OIDC,
 * cache, results), GitHub tokens, and the runner's command files, through which a process
 * could set later steps' outputs, environment and PATH.
 */
const HIDDEN_PREFIXES = ['INPUT_', 'ACTIONS_']
const HIDDEN_NAMES = new Set([
  'GITHUB_TOKEN',
  'GH_TOKEN',
  'GITHUB_ENV',
  'GITHUB_OUTPUT',
  'GITHUB_PATH',
  'GITHUB_STATE',
  'GITHUB_STEP_SUMMARY'
])

function hiddenFromDbt(name: string): boolean {
  return HIDDEN_NAMES.has(name) || HIDDEN_PREFIXES.some((prefix) => name.startsWith(prefix))
}

/**
 * The environment dbt runs with: the runner's without what dbt must not read, plus the PR
 * environment when there is one.
 */
export function dbtEnvironment(
  environment: string | undefined,
  runnerEnv: NodeJS.ProcessEnv = process.env
): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [name, value] of Object.entries(runnerEnv))
    if (value !== undefined && !hiddenFromDbt(name)) env[name] = value
  if (environment) env[PR_ENVIRONMENT_ENV] = environment
  return env
}

/**
 * dbt-materialize's CI tag: `deploy_init` comments the green schemas and clusters with it and
 * then accepts a non-empty green carrying the same tag. Blue/green keeps one green per target
 * and refuses an existing one itself, and released deploy_init fails with it set
 * (dbt/known-versions.ts), so blue/green runs dbt without it.
 */
export const CI_TAG_ENV = 'CI_TAG'

/** The environment blue/green runs dbt with: dbtEnvironment's, without CI_TAG. */
export function blueGreenDbtEnvironment(
  runnerEnv: NodeJS.ProcessEnv = process.env
): Record<string, string> {
  const env = dbtEnvironment(undefined, runnerEnv)
  delete env[CI_TAG_ENV]
  return env
}

export function withEnvironmentVar(
  vars: Record<string, unknown>,
  environment: string | undefined
): Record<string, unknown> {
  return environment ? { ...vars, [PR_ENVIRONMENT_VAR]: environment } : vars
}

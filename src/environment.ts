// The pull request environment: a name dbt profiles can route a PR's build with.
import type { CommonInputs } from './inputs.js'
import type { RunContext } from './context.js'

export const PR_ENVIRONMENT_ENV = 'DBT_PR_ENVIRONMENT'
export const PR_ENVIRONMENT_VAR = 'pr_environment'

export function prEnvironment(inputs: CommonInputs, context: RunContext): string | undefined {
  if (inputs.prEnvironment) return inputs.prEnvironment
  return context.pullRequest ? `pr_${context.pullRequest.number}` : undefined
}

/** The environment dbt runs with: the runner's, plus the PR environment when there is one. */
export function dbtEnvironment(environment: string | undefined): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [name, value] of Object.entries(process.env))
    if (value !== undefined) env[name] = value
  if (environment) env[PR_ENVIRONMENT_ENV] = environment
  return env
}

export function withEnvironmentVar(
  vars: Record<string, unknown>,
  environment: string | undefined
): Record<string, unknown> {
  return environment ? { ...vars, [PR_ENVIRONMENT_VAR]: environment } : vars
}

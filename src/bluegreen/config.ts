// The deployment configuration dbt-materialize's deploy macros read:
// `vars.deployment.<target>.{clusters, schemas}` in dbt_project.yml.
import { ActionError } from '../errors.js'

export interface DeploymentConfig {
  target: string
  clusters: string[]
  schemas: string[]
}

export const GREEN_SUFFIX = '_dbt_deploy'
export const green = (name: string): string => `${name}${GREEN_SUFFIX}`

function names(value: unknown, field: string, target: string): string[] {
  if (
    !Array.isArray(value) ||
    value.length === 0 ||
    !value.every((v) => typeof v === 'string' && v !== '')
  ) {
    throw new ActionError(
      `vars.deployment.${target}.${field} in dbt_project.yml must be a non-empty list of ${field} names; it is ${JSON.stringify(value ?? null)}.`
    )
  }
  return value as string[]
}

export function readDeploymentConfig(
  projectVars: Record<string, unknown>,
  target: string
): DeploymentConfig {
  const deployment = projectVars.deployment as Record<string, Record<string, unknown>> | undefined
  if (!deployment || typeof deployment !== 'object') {
    throw new ActionError(
      'Blue/green needs vars.deployment in dbt_project.yml, e.g. vars: {deployment: {prod: {clusters: [analytics], schemas: [analytics]}}}.'
    )
  }
  const config = deployment[target]
  if (!config) {
    throw new ActionError(
      `vars.deployment in dbt_project.yml has no entry for target "${target}"; it has: ${Object.keys(deployment).join(', ') || 'none'}.`
    )
  }
  return {
    target,
    clusters: names(config.clusters, 'clusters', target),
    schemas: names(config.schemas, 'schemas', target)
  }
}

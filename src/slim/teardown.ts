// Slim mode, phase teardown: drop a closed pull request's environment. Idempotent, and it
// refuses to drop anything whose name does not carry the PR environment's name.
import * as core from '@actions/core'
import type { SlimTeardownInputs } from '../inputs.js'
import type { RunContext } from '../context.js'
import { readProject } from '../dbt/project.js'
import type { ProfileTarget } from '../dbt/profile.js'
import { maskedProfileTarget } from '../dbt/masking.js'
import { checkTarget } from '../dbt/target.js'
import type { DbtProject } from '../dbt/project.js'
import { PR_ENVIRONMENT_ENV, dbtEnvironment, prEnvironment } from '../environment.js'
import { ActionError, errorMessage } from '../errors.js'
import { PgWarehouse, type ConnectWarehouse, type Warehouse } from '../warehouse/pg.js'
import { dropEnvironment, type EnvironmentNames } from '../warehouse/environment.js'
import { reportRun } from '../report/index.js'
import { deploymentRecord } from '../github/deployments.js'
import type { RunReport } from '../report/model.js'

function environmentTarget(
  inputs: SlimTeardownInputs,
  project: DbtProject,
  environment: string
): ProfileTarget {
  const target = maskedProfileTarget(inputs.dbt, project, dbtEnvironment(environment), 'Teardown')
  if (!target.schema?.includes(environment)) {
    throw new ActionError(
      `Teardown refused: the target schema "${target.schema ?? ''}" does not contain the PR environment name "${environment}", so it is not a PR environment. ` +
        `Route PR builds in profiles.yml, e.g. schema: "{{ env_var('${PR_ENVIRONMENT_ENV}', 'analytics') }}".`
    )
  }
  return target
}

/** The PR's schemas and, on Materialize when the profile routes it, its clusters. */
function prNames(
  target: ProfileTarget,
  environment: string,
  warehouse: Warehouse
): EnvironmentNames {
  const ownCluster = warehouse.isMaterialize && target.cluster?.includes(environment)
  return { schemas: [target.schema!], clusters: ownCluster ? [target.cluster!] : [] }
}

export async function slimTeardown(
  inputs: SlimTeardownInputs,
  context: RunContext,
  connect: ConnectWarehouse = (target) => PgWarehouse.connect(target)
): Promise<void> {
  const environment = prEnvironment(inputs, context)
  if (!environment) {
    throw new ActionError(
      'Input "phase" is "teardown", which needs a pull request environment: run it on pull_request events or set "pr-environment".'
    )
  }
  core.setOutput('pr-environment', environment)
  const project = readProject(inputs.dbt.projectDir)
  checkTarget(inputs.dbt, project)
  const target = await reportRefusal(inputs, context, environment, () =>
    environmentTarget(inputs, project, environment)
  )
  const warehouse = await connect(target)
  let dropped: string[]
  try {
    dropped = await core.group(`Drop PR environment ${environment}`, () =>
      dropEnvironment(warehouse, prNames(target, environment, warehouse), 'with-suffixes')
    )
  } finally {
    await warehouse.close()
  }
  for (const item of dropped) core.info(`Dropped ${item}.`)
  await deploymentRecord(inputs.report.githubToken, context).retire(
    environment,
    'Pull request environment dropped.'
  )
  const gone = `Nothing to drop: ${environment} was already gone.`
  core.setOutput('status', 'torn-down')
  await reportRun(
    {
      ...teardownReport(environment, 'torn-down'),
      headline: dropped.length > 0 ? `Dropped ${dropped.join(', ')}.` : gone,
      // A repeated teardown keeps the comment's report of what was dropped.
      followUp:
        dropped.length > 0 ? undefined : `Teardown ran again (${new Date().toISOString()}): ${gone}`
    },
    inputs.report,
    context,
    'slim'
  )
}

function teardownReport(environment: string, status: string): RunReport {
  return {
    title: 'dbt PR environment teardown',
    status,
    headline: '',
    facts: [['PR environment', `\`${environment}\``]],
    notes: []
  }
}

/** A refused teardown still writes its report (summary and comment) before it fails. */
async function reportRefusal<T>(
  inputs: SlimTeardownInputs,
  context: RunContext,
  environment: string,
  check: () => T
): Promise<T> {
  try {
    return check()
  } catch (error) {
    const headline = errorMessage(error)
    await reportRun(
      { ...teardownReport(environment, 'refused'), headline },
      inputs.report,
      context,
      'slim'
    )
    throw error
  }
}

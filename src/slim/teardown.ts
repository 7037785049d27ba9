// Slim mode, phase teardown: drop a closed pull request's environment. Idempotent, and it
// refuses to drop anything whose name does not carry the PR environment's name.
import * as core from '@actions/core'
import type { SlimTeardownInputs } from '../inputs.js'
import type { RunContext } from '../context.js'
import { readProject } from '../dbt/project.js'
import type { ProfileTarget } from '../dbt/profile.js'
import { maskedProfileTarget } from '../dbt/masking.js'
import { PR_ENVIRONMENT_ENV, dbtEnvironment, prEnvironment } from '../environment.js'
import { ActionError } from '../errors.js'
import { PgWarehouse, type Warehouse } from '../warehouse/pg.js'
import { reportRun } from '../report/index.js'

export type ConnectWarehouse = (target: ProfileTarget) => Promise<Warehouse>

const belongsTo = (base: string) => (name: string) => name === base || name.startsWith(`${base}_`)

function environmentTarget(inputs: SlimTeardownInputs, environment: string): ProfileTarget {
  const project = readProject(inputs.dbt.projectDir)
  const target = maskedProfileTarget(inputs.dbt, project, dbtEnvironment(environment), 'Teardown')
  if (!target.schema?.includes(environment)) {
    throw new ActionError(
      `Teardown refused: the target schema "${target.schema ?? ''}" does not contain the PR environment name "${environment}", so it is not a PR environment. ` +
        `Route PR builds in profiles.yml, e.g. schema: "{{ env_var('${PR_ENVIRONMENT_ENV}', 'analytics') }}".`
    )
  }
  return target
}

async function dropEnvironment(
  warehouse: Warehouse,
  target: ProfileTarget,
  environment: string
): Promise<string[]> {
  const dropped: string[] = []
  for (const schema of (await warehouse.schemaNames()).filter(belongsTo(target.schema!))) {
    await warehouse.dropSchema(schema)
    dropped.push(`schema ${schema}`)
  }
  if (warehouse.isMaterialize && target.cluster?.includes(environment)) {
    for (const cluster of (await warehouse.clusterNames()).filter(belongsTo(target.cluster))) {
      await warehouse.dropCluster(cluster)
      dropped.push(`cluster ${cluster}`)
    }
  }
  return dropped
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
  const target = environmentTarget(inputs, environment)
  const warehouse = await connect(target)
  let dropped: string[]
  try {
    dropped = await core.group(`Drop PR environment ${environment}`, () =>
      dropEnvironment(warehouse, target, environment)
    )
  } finally {
    await warehouse.close()
  }
  for (const item of dropped) core.info(`Dropped ${item}.`)
  const headline =
    dropped.length > 0
      ? `Dropped ${dropped.join(', ')}.`
      : `Nothing to drop: ${environment} was already gone.`
  core.setOutput('status', 'torn-down')
  await reportRun(
    {
      title: 'dbt PR environment teardown',
      status: 'torn-down',
      headline,
      facts: [['PR environment', `\`${environment}\``]],
      notes: []
    },
    inputs.report,
    context,
    'slim'
  )
}

// P8, the data diff's cost: a blue/green deploy that changes DIFF_OBJECTS models of DIFF_ROWS
// rows each (1% of rows, and a new column) and diffs them before the promote, against the
// green `dbt run` of the same deploy.
import type { GitWorkspace } from '../demo/workspace.js'
import type { ActionMeasurement } from './measure.js'
import type { Phase } from './stats.js'

export const DIFF_OBJECTS = 10
export const DIFF_ROWS = 100_000
export const DIFF_GROUP = 'Data diff'
export const GREEN_RUN_GROUP = 'dbt run (green)'

const name = (i: number): string => `diffed_${String(i).padStart(2, '0')}`

/** A materialized view of DIFF_ROWS rows keyed on `id`; each `version` changes 1% of them. */
function diffedModel(version: number): string {
  const amount =
    version === 0 ? 'n * 2' : `case when n % 100 = 0 then n * 2 + ${version} else n * 2 end`
  const channel = version === 0 ? '' : `, 'web' as channel`
  return (
    `{{ config(materialized='materialized_view') }}\n\n` +
    `select n as id, ${amount} as amount${channel}\nfrom generate_series(1, ${DIFF_ROWS}) as s(n)\n`
  )
}

function diffedSchema(): string {
  const models = Array.from(
    { length: DIFF_OBJECTS },
    (_, k) =>
      `  - name: ${name(k + 1)}\n    columns:\n      - name: id\n        data_tests: [unique]\n`
  )
  return `version: 2\n\nmodels:\n${models.join('')}`
}

/** Commits version `version` of the diffed models on the checked-out branch. */
export function commitDiffedModels(workspace: GitWorkspace, version: number): string {
  for (let i = 1; i <= DIFF_OBJECTS; i++)
    workspace.write(`models/diffed/${name(i)}.sql`, diffedModel(version))
  workspace.write('models/diffed/schema.yml', diffedSchema())
  return workspace.commitAll(`Diffed models, version ${version}`)
}

/** The inputs of P8's measured deploy. */
export const DIFF_INPUTS = { diff: 'report', 'diff-max-objects': String(DIFF_OBJECTS) }

export interface DiffSample {
  diff: Phase
  greenRun: Phase
  /** Objects the diff compared, of DIFF_OBJECTS. */
  compared: number
}

function phase(measured: ActionMeasurement, group: string): Phase {
  const found = measured.phases.find((p) => p.name === group)
  if (!found) throw new Error(`the action logged no "${group}" group`)
  return found
}

/** P8's figures from a measured deploy with the diff on. */
export function diffSampleOf(measured: ActionMeasurement): DiffSample {
  const result = JSON.parse(measured.outputs['diff-result'] ?? '{"objects": []}') as {
    objects: Array<{ status: string }>
  }
  return {
    diff: phase(measured, DIFF_GROUP),
    greenRun: phase(measured, GREEN_RUN_GROUP),
    compared: result.objects.filter((o) => o.status === 'compared').length
  }
}

// Bench projects: the demo's sample project plus generated models up to a given size, in a
// git workspace with two pull-request branches (one changed model; a README-only change), and
// shallow clones of it.
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { GitWorkspace } from '../demo/workspace.js'

const demoProject = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'demo', 'project')

/** Models the demo project already has. */
export const BASE_MODELS = 4
export const ONE_MODEL_BRANCH = 'bench/one-model'
export const README_BRANCH = 'bench/readme-only'
/** Every n-th generated model is a materialized view, so green has more to hydrate. */
const MATERIALIZED_EVERY = 25
/** Generated models form chains of this depth on top of stg_orders. */
const CHAIN_DEPTH = 10
const TESTED_EVERY = 10

const name = (i: number): string => `gen_${String(i).padStart(4, '0')}`

export function generatedModel(i: number): string {
  const parent = i % CHAIN_DEPTH === 1 ? 'stg_orders' : name(i - 1)
  const config =
    i % MATERIALIZED_EVERY === 0 ? "{{ config(materialized='materialized_view') }}\n\n" : ''
  return `${config}select order_id, customer_id, status, amount + ${i} as amount\nfrom {{ ref('${parent}') }}\n`
}

/** A schema file testing every TESTED_EVERY-th generated model. */
export function generatedSchema(count: number): string {
  const tested = Array.from({ length: count }, (_, k) => k + 1).filter(
    (i) => i % TESTED_EVERY === 0
  )
  const models = tested.map(
    (i) =>
      `  - name: ${name(i)}\n    columns:\n      - name: order_id\n        data_tests: [not_null]\n`
  )
  return `version: 2\n\nmodels:\n${models.join('') || '  []\n'}`
}

function changeOneModel(workspace: GitWorkspace): void {
  const file = 'models/marts/order_totals.sql'
  const changed = workspace
    .read(file)
    .replace(
      'sum(amount) as total_amount',
      'sum(amount) as total_amount, max(amount) as largest_order'
    )
  if (changed === workspace.read(file)) throw new Error(`${file} did not change: update the bench`)
  workspace.write(file, changed)
}

/**
 * A depth-1 clone of `branch`, as actions/checkout makes by default: the commit the production
 * manifest was built from is not in it, so git cannot say what changed since.
 */
export function shallowClone(workspace: GitWorkspace, branch: string, dir: string): string {
  // file://, so that git honours --depth for a local repository.
  workspace.git(
    'clone',
    '--quiet',
    '--depth',
    '1',
    '--branch',
    branch,
    `file://${workspace.dir}`,
    dir
  )
  return dir
}

/**
 * A workspace of `size` models on main, plus the PR branches. Returns it checked out on main.
 */
export function createBenchWorkspace(dir: string, size: number): GitWorkspace {
  const workspace = GitWorkspace.create(dir, demoProject)
  const count = Math.max(0, size - BASE_MODELS)
  for (let i = 1; i <= count; i++) {
    workspace.write(`models/generated/${name(i)}.sql`, generatedModel(i))
  }
  if (count > 0) workspace.write('models/generated/schema.yml', generatedSchema(count))
  workspace.commitAll(`Generate ${count} models (${size} in all)`)
  workspace.branch(ONE_MODEL_BRANCH)
  changeOneModel(workspace)
  workspace.commitAll('Change one model')
  workspace.checkout('main')
  workspace.branch(README_BRANCH)
  workspace.write('README.md', `${workspace.read('README.md')}\nA README-only change.\n`)
  workspace.commitAll('Docs only')
  workspace.checkout('main')
  return workspace
}

// The demo's story: production exists, a pull request changes one model (slim CI), the merge
// deploys blue/green with hydration visible, and closing the PR tears its environment down.
import { withPgClient } from '../pg.js'
import { pullRequestEvent, pushEvent } from '../runner.js'
import {
  printMarkdown,
  printOutputs,
  printPrComment,
  runActionStep,
  StepFailure,
  type Session
} from './session.js'
import { banner } from './terminal.js'

const PR_NUMBER = 7
const PR_BRANCH = 'feature/average-order-amount'
const PR_TITLE = 'Average order amount per customer'
const PR_ENVIRONMENT = `pr_${PR_NUMBER}`
const TOKEN = 'ghs_demoWorkflowToken000000000000000000'
const HYDRATION_DELAY_SECONDS = 6

const SLIM_OUTPUTS = [
  'status',
  'state-available',
  'selected-count',
  'selected',
  'manifest-uploaded',
  'pr-environment',
  'run-results'
]
const BLUE_GREEN_OUTPUTS = [
  'status',
  'deployed',
  'promoted',
  'hydration-seconds',
  'green-schemas',
  'green-clusters'
]

function commonInputs(session: Session): Record<string, string> {
  return {
    'project-dir': '.',
    'profiles-dir': '.',
    'state-uri': `s3://${session.services.bucket}/prod`,
    's3-endpoint': session.services.moto.endpoint,
    'github-token': TOKEN
  }
}

/** The new version of the model the pull request changes. */
const CHANGED_ORDER_TOTALS = `{{ config(materialized='materialized_view', indexes=[{'columns': ['customer_id']}]) }}

-- Kept up to date by Materialize in the deployment cluster.
select customer_id,
       count(*) as order_count,
       sum(amount) as total_amount,
       avg(amount)::numeric(10, 2) as average_amount
from {{ ref('stg_orders') }}
where status = 'completed'
group by customer_id
`

function requireOutput(
  step: string,
  what: string,
  actual: string | undefined,
  wanted: string
): void {
  if (actual !== wanted) {
    throw new StepFailure(step, `expected ${what} "${wanted}", got "${actual ?? '(unset)'}"`)
  }
}

/** Production before the story starts: cluster, seeds, models, and the published manifest. */
export async function createProduction(session: Session): Promise<void> {
  const { services, workspace, p } = session
  session.write(banner('Setup: production', 'main has one commit; production is built from it', p))
  // Production's cluster, as an operator would have created it in Materialize.
  await services.emulator.control.query(
    `SELECT mz_emulator.create_cluster('analytics', true, '25cc', 1, NULL, NULL)`
  )
  session.write(`${p.dim('•')} created cluster ${p.bold('analytics')} (production)\n`)
  session.write(
    `${p.dim('•')} the action, slim mode, on the push of ${workspace.head().slice(0, 7)} to main: ` +
      'builds production and publishes its manifest\n'
  )
  const run = await runActionStep(session, {
    title: 'Setup: production build on main',
    slug: '0-production',
    event: pushEvent({ sha: workspace.head() }),
    inputs: { ...commonInputs(session), mode: 'slim' },
    live: false
  })
  requireOutput(
    'Setup: production build on main',
    'manifest-uploaded',
    run.outputs['manifest-uploaded'],
    'true'
  )
  session.write(
    `${p.green('✔')} production built (${run.outputs['selected-count']} nodes) and ` +
      `s3://${services.bucket}/prod/manifest.json published\n`
  )
}

/** Event 1: the pull request, slim CI against the production manifest. */
export async function pullRequest(session: Session): Promise<void> {
  const { services, workspace, p } = session
  const base = workspace.head()
  workspace.branch(PR_BRANCH)
  workspace.write('models/marts/order_totals.sql', CHANGED_ORDER_TOTALS)
  const head = workspace.commitAll('Add the average order amount per customer')
  session.write(
    banner(
      `1/3  pull_request #${PR_NUMBER} opened: "${PR_TITLE}"`,
      'slim mode: state:modified+ against the production manifest, deferring to production; one model changed (order_totals)',
      p
    )
  )
  // What a workflow step before the action does: the PR's own cluster (teardown drops it).
  await services.sql(`CREATE CLUSTER ${PR_ENVIRONMENT} (SIZE = '25cc')`)
  session.write(p.dim(`(workflow step) CREATE CLUSTER ${PR_ENVIRONMENT} (SIZE = '25cc')\n\n`))
  const run = await runActionStep(session, {
    title: `pull_request #${PR_NUMBER}`,
    slug: '1-pull-request',
    event: pullRequestEvent({
      number: PR_NUMBER,
      action: 'opened',
      headSha: head,
      baseSha: base,
      headRef: PR_BRANCH,
      title: PR_TITLE
    }),
    inputs: { ...commonInputs(session), mode: 'slim', defer: 'true' },
    live: true
  })
  requireOutput(`pull_request #${PR_NUMBER}`, 'status', run.outputs.status, 'success')
  printOutputs(session, run, SLIM_OUTPUTS)
  printMarkdown(session, 'Job summary', run.summary)
  printPrComment(session, PR_NUMBER)
}

async function productionColumns(session: Session): Promise<string[]> {
  const result = await withPgClient(session.services.emulator.url(), (client) =>
    client.query<{ column_name: string }>(
      `select a.attname as column_name from pg_attribute a
       where a.attrelid = 'analytics.order_totals'::regclass and a.attnum > 0 and not a.attisdropped
       order by a.attnum`
    )
  )
  return result.rows.map((row) => row.column_name)
}

/** Event 3: the merge to main, a blue/green deploy with a scripted hydration delay. */
export async function mergeToMain(session: Session): Promise<void> {
  const { services, workspace, p } = session
  workspace.checkout('main')
  const before = workspace.head()
  const merge = workspace.merge(
    PR_BRANCH,
    `Merge pull request #${PR_NUMBER} from acme/${PR_BRANCH}`
  )
  session.write(
    banner(
      `3/3  push to main: merge of #${PR_NUMBER}`,
      `blue/green mode, phase all: green is built, hydrates (scripted: ${HYDRATION_DELAY_SECONDS} s), is tested, then swapped in atomically`,
      p
    )
  )
  // Every index and materialized view created from now on hydrates after this delay.
  await services.emulator.control.setDefaultHydration({ delaySeconds: HYDRATION_DELAY_SECONDS })
  const run = await runActionStep(session, {
    title: 'push to main (blue/green)',
    slug: '3-merge-blue-green',
    event: pushEvent({ sha: merge, before }),
    inputs: { ...commonInputs(session), mode: 'blue-green', phase: 'all' },
    live: true
  })
  requireOutput('push to main (blue/green)', 'status', run.outputs.status, 'promoted')
  printOutputs(session, run, BLUE_GREEN_OUTPUTS)
  printMarkdown(session, 'Job summary', run.summary)
  const columns = await productionColumns(session)
  session.write(
    `\n${p.green('✔')} production ${p.bold('analytics.order_totals')} now has: ${columns.join(', ')}\n`
  )
}

/** Event 2: the PR is closed (merged), and its environment is dropped. */
export async function closePullRequest(session: Session): Promise<void> {
  const { workspace, p } = session
  session.write(
    banner(
      `2/3  pull_request #${PR_NUMBER} closed (merged)`,
      `slim mode, phase teardown: drops the PR environment ${PR_ENVIRONMENT} (schema and cluster)`,
      p
    )
  )
  const head = workspace.git('rev-parse', PR_BRANCH)
  const run = await runActionStep(session, {
    title: `pull_request #${PR_NUMBER} closed`,
    slug: '2-pr-closed-teardown',
    event: pullRequestEvent({
      number: PR_NUMBER,
      action: 'closed',
      merged: true,
      headSha: head,
      headRef: PR_BRANCH,
      title: PR_TITLE
    }),
    inputs: { ...commonInputs(session), mode: 'slim', phase: 'teardown' },
    live: true
  })
  requireOutput(`pull_request #${PR_NUMBER} closed`, 'status', run.outputs.status, 'torn-down')
  printOutputs(session, run, ['status', 'pr-environment'])
  printMarkdown(session, 'Job summary', run.summary)
  printPrComment(session, PR_NUMBER)
}

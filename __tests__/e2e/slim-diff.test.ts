// The data diff in slim CI (issue 15, test 5): a pull request's environment against
// production on PostgreSQL, in the sticky comment and the `diff-result` output.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import { startGitHubStub, type GitHubStub } from '../../dev/github-stub.js'
import { postgres } from './support/warehouse.js'
import { pullRequestEvent, pushEvent, runAction, type ActionRun } from './support/runner.js'
import { createBucket } from './support/s3.js'
import { annotationsOf, expectCanaryHidden, expectExit, slimInputs } from './support/slim.js'
import { createWorkspace, type Workspace } from './support/workspace.js'

jest.setTimeout(900_000) // a bound for hung tests only: runs take minutes on a loaded machine

const PR = 161
const PROD = 'analytics_diff'
const ENV = { E2E_PROD_SCHEMA: PROD }

/** orders.sql with a new column, and order 1's status changed. */
const ORDERS_CHANGED = `select
    order_id,
    customer_id,
    order_date,
    case when order_id = 1 then 'refunded' else status end as status,
    status = 'returned' as was_returned
from {{ ref('stg_orders') }}
`

describe('the data diff of a pull request on PostgreSQL', () => {
  let stub: GitHubStub
  let main: Workspace
  let branch: Workspace
  let bucket: string

  const run = async (
    workspace: Workspace,
    event: ReturnType<typeof pushEvent>,
    extra: Record<string, string> = {}
  ): Promise<ActionRun> => {
    const result = await runAction({
      apiUrl: stub.url,
      workspace: workspace.dir,
      event,
      inputs: slimInputs(bucket, extra),
      env: ENV
    })
    expectCanaryHidden(result, stub.comments())
    return result
  }

  beforeAll(async () => {
    for (const schema of [PROD, `pr_${PR}`])
      await postgres.execute(`drop schema if exists ${schema} cascade`)
    stub = await startGitHubStub()
    main = createWorkspace()
    bucket = await createBucket('slim-diff')
  })

  afterAll(async () => {
    await stub?.stop()
    for (const workspace of [main, branch]) workspace?.cleanup()
    await postgres.execute(`drop schema if exists pr_${PR} cascade`)
  })

  it('shows the modified model against production in the sticky comment', async () => {
    expectExit(await run(main, pushEvent({ sha: main.sha() })), 0)
    branch = main.clone()
    branch.commit('Refund order 1, flag returns', { 'models/marts/orders.sql': ORDERS_CHANGED })
    const event = pullRequestEvent({
      number: PR,
      action: 'opened',
      headSha: branch.sha(),
      baseSha: main.sha()
    })
    const result = await run(branch, event, { defer: 'true', diff: 'report' })

    // 1 row of 6 differs: more than the default 10%, which "diff: report" only warns about.
    expectExit(result, 0)
    expect(annotationsOf(result, 'warning')).toContain(
      `Data diff: orders ("postgres"."pr_${PR}"."orders"): 16.7% of its rows differ, more than "diff-max-row-change" (10%).`
    )
    const { objects } = JSON.parse(result.outputs['diff-result'] ?? '{}') as {
      objects: Array<Record<string, unknown>>
    }
    expect(objects).toEqual([
      expect.objectContaining({
        model: 'orders',
        status: 'compared',
        rows: { blue: 6, green: 6 },
        key: expect.objectContaining({
          columns: ['order_id'],
          source: 'unique test',
          changed: 1,
          changedColumns: { status: 1 }
        }),
        sample: [
          {
            diff: 'changed',
            order_id: '1',
            'status (blue)': 'returned',
            'status (green)': 'refunded'
          }
        ]
      })
    ])
    const [comment] = stub.comments().filter((c) => c.issueNumber === PR)
    expect(comment?.body).toContain(`### Data diff: production → pr_${PR}`)
    expect(comment?.body).toContain(
      `| ⚠️ \`"postgres"."pr_${PR}"."orders"\` | +was_returned | 6 → 6 | 0.0% | 0 | 0 | 1 |`
    )
    expect(comment?.body).toContain('changed columns `status` (1)')
    expect(comment?.body).toContain(`| changed | 1 | returned | refunded |`)
  })
})

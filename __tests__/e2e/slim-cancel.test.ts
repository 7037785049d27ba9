// A cancelled slim build (issue 8): the runner's SIGINT, or a SIGTERM, reaches the action while
// dbt runs a long query on a push to main, which would publish the manifest. The step must stop
// dbt's whole process group (SIGINT first, so that dbt cancels its query), wait for it, publish
// nothing and report the step cancelled, before the runner's SIGTERM 7.5 s after its SIGINT.
import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals'
import {
  actionPid,
  dbtProcessesIn,
  duringRun,
  processGroupOf,
  processesInGroup
} from './support/processes.js'
import { pushEvent, runAction } from './support/runner.js'
import { createBucket, listKeys } from './support/s3.js'
import { annotationsOf, expectCanaryHidden, expectExit, slimInputs } from './support/slim.js'
import { postgres } from './support/warehouse.js'
import { createWorkspace, type Workspace } from './support/workspace.js'

jest.setTimeout(900_000) // a bound for hung tests only: runs take minutes on a loaded machine

const SLOW_SQL = 'select 1 as id from (select pg_sleep(600)) s\n'
/** The runner's SIGTERM comes 7.5 s after its SIGINT; the step must be done by then. */
const RUNNER_GRACE_MS = 7_500

let base: Workspace
const workspaces: Workspace[] = []
/** dbt's process group and schema in the current test, for the clean-up of a failed one. */
let leftovers: { group?: number; schema?: string } = {}

/** Queries running right now on the slow model of `schema`. */
async function slowQueries(schema: string): Promise<Array<{ pid: number; query: string }>> {
  return postgres.query(
    `select pid, query from pg_stat_activity
      where state = 'active' and pid <> pg_backend_pid() and strpos(query, $1) > 0`,
    [`"${schema}"."slow`]
  )
}

beforeAll(() => {
  base = createWorkspace()
})

// A failed test must not leave a dbt or a 10-minute query behind.
afterEach(async () => {
  const { group, schema } = leftovers
  if (group !== undefined && processesInGroup(group).length > 0) process.kill(-group, 'SIGKILL')
  if (schema !== undefined) {
    for (const { pid } of await slowQueries(schema))
      await postgres.query('select pg_terminate_backend($1)', [pid])
  }
  leftovers = {}
})

afterAll(() => {
  for (const workspace of [base, ...workspaces]) workspace?.cleanup()
})

describe('a slim build cancelled while dbt runs a long query', () => {
  it.each(['SIGINT', 'SIGTERM'] as const)(
    '%s: dbt stops and cancels its query, nothing is published, the step is cancelled',
    async (signal) => {
      const schema = `analytics_cancel_${signal.toLowerCase()}`
      const bucket = await createBucket(`cancel-${signal.toLowerCase()}`)
      const workspace = base.clone()
      workspaces.push(workspace)
      workspace.commit('A model with a long query', { 'models/marts/slow.sql': SLOW_SQL })
      leftovers.schema = schema
      const pending = runAction({
        workspace: workspace.dir,
        event: pushEvent({ sha: workspace.sha(), before: base.sha() }),
        inputs: slimInputs(bucket, { select: 'slow' }),
        env: { E2E_PROD_SCHEMA: schema }
      })

      await duringRun(
        pending,
        'dbt running the slow query',
        async () => (await slowQueries(schema)).length > 0
      )
      const dbt = dbtProcessesIn(workspace.dir)
      expect(dbt).toHaveLength(1)
      const group = processGroupOf(dbt[0]!.pid)
      leftovers.group = group
      const action = actionPid(workspace.dir)
      if (action === undefined) throw new Error(`no action process runs in ${workspace.dir}`)

      const signalled = Date.now()
      process.kill(action, signal)
      const result = await pending
      expect(Date.now() - signalled).toBeLessThan(RUNNER_GRACE_MS)

      expect(processesInGroup(group)).toEqual([])
      expect(result.stdout).toMatch(/CANCEL query model\.jaffle\.slow/) // dbt got SIGINT
      expect(await slowQueries(schema)).toEqual([])
      expect(await listKeys(bucket)).toEqual([])
      expectExit(result, 1)
      expect(result.outputs.status).toBe('cancelled')
      expect(result.outputs['manifest-uploaded']).toBeUndefined()
      expect(annotationsOf(result, 'error')).toContain(`The run was cancelled (${signal}).`)
      expectCanaryHidden(result)
    }
  )
})

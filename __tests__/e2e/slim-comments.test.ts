// The sticky PR comment and the teardown report as people meet them (issue 12): a comment that
// quotes the action's marker is never taken over, a repeated teardown keeps the report of what
// was dropped, and a refused teardown still writes its report.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { startGitHubStub, type GitHubStub, type StubDeployment } from '../../dev/github-stub.js'
import { postgres } from './support/warehouse.js'
import { pullRequestEvent, runAction, type ActionRun } from './support/runner.js'
import { createBucket } from './support/s3.js'
import { MARKER, errors, expectCanaryHidden, expectExit, slimInputs } from './support/slim.js'
import { createWorkspace, type Workspace } from './support/workspace.js'

jest.setTimeout(900_000) // a bound for hung tests only: runs take minutes on a loaded machine

const PR = 151
const ENV = { E2E_PROD_SCHEMA: 'analytics_comments' }
const REPO = 'acme/analytics'
const PERSON = { login: 'octocat', id: 583231, type: 'User' }

describe('the sticky comment and the teardown report', () => {
  let stub: GitHubStub
  let ws: Workspace
  let bucket: string

  const run = async (
    action: 'opened' | 'synchronize' | 'closed',
    extra: Record<string, string> = {},
    workspace: Workspace = ws
  ): Promise<ActionRun> => {
    const result = await runAction({
      apiUrl: stub.url,
      workspace: workspace.dir,
      event: pullRequestEvent({ number: PR, action, headSha: workspace.sha() }),
      inputs: slimInputs(bucket, extra),
      env: ENV
    })
    expectCanaryHidden(result, stub.comments())
    return result
  }
  const ours = () => stub.comments().filter((c) => c.user.type === 'Bot')
  const prDeployments = () => stub.deployments().filter((d) => d.environment === `pr_${PR}`)
  const states = (d: StubDeployment) => d.statuses.map((s) => s.state)

  beforeAll(async () => {
    await postgres.execute(`drop schema if exists pr_${PR} cascade`)
    stub = await startGitHubStub()
    ws = createWorkspace()
    bucket = await createBucket('comments')
  })

  afterAll(async () => {
    await stub?.stop()
    ws?.cleanup()
  })

  it("never edits a person's comment that quotes the marker", async () => {
    const quote = `${MARKER}\n> the bot said this build failed, why?`
    const person = stub.addComment({ repo: REPO, issueNumber: PR, body: quote, user: PERSON })

    const first = await run('opened')
    expectExit(first, 0)
    const second = await run('synchronize')
    expectExit(second, 0)

    expect(ours()).toHaveLength(1)
    const patched = stub.requests.filter((r) => r.method === 'PATCH').map((r) => r.path)
    expect(patched).toEqual([`/repos/${REPO}/issues/comments/${ours()[0]!.id}`])
    expect(stub.comments().find((c) => c.id === person.id)!.body).toBe(quote)
    expect(second.stdout).toContain(`PR comment updated on #${PR}`)
    // Each push is a transient deployment of the PR environment; the newer supersedes the older.
    expect(prDeployments().map((d) => [d.transient, d.sha, states(d)])).toEqual([
      [true, ws.sha(), ['in_progress', 'success', 'inactive']],
      [true, ws.sha(), ['in_progress', 'success']]
    ])
  })

  it('a repeated teardown keeps the report of what was dropped and adds a line', async () => {
    const first = await run('closed', { phase: 'teardown' })
    expectExit(first, 0)
    expect(ours()[0]!.body).toContain(`Dropped schema pr_${PR}.`)
    // The PR environment is gone: so is its deployment.
    expect(prDeployments().map((d) => states(d).at(-1))).toEqual(['inactive', 'inactive'])

    const second = await run('closed', { phase: 'teardown' })
    expectExit(second, 0)
    expect(second.summary).toMatch(/nothing to drop/i)
    const body = ours()[0]!.body
    expect(body).toContain(`Dropped schema pr_${PR}.`)
    expect(body).toMatch(/Teardown ran again \(.*\): Nothing to drop: pr_151 was already gone\.$/)
    expect(ours()).toHaveLength(1)
  })

  it('a refused teardown writes its report before it fails', async () => {
    const fixed = createWorkspace({
      files: {
        'profiles.yml': readFileSync(path.join(ws.dir, 'profiles.yml'), 'utf8').replace(
          /schema: "\{\{ env_var\('DBT_PR_ENVIRONMENT'[^\n]*/g,
          'schema: analytics'
        )
      }
    })
    try {
      const refused = await run('closed', { phase: 'teardown' }, fixed)
      expectExit(refused, 1)
      expect(
        errors(refused)
          .map((e) => e.message)
          .join('\n')
      ).toMatch(/Teardown refused/)
      expect(refused.summary).toContain('dbt PR environment teardown: refused')
      expect(refused.summary).toContain('Teardown refused')
      expect(ours()[0]!.body).toContain('dbt PR environment teardown: refused')
    } finally {
      fixed.cleanup()
    }
  })

  it('without deployments: write, a notice, and the build succeeds', async () => {
    stub.deny('deployments')
    const before = stub.deployments().length
    const result = await run('synchronize')
    expectExit(result, 0)
    expect(result.outputs.status).toBe('success')
    expect(result.stdout).toMatch(/::notice::The token may not write deployments/)
    expect(stub.deployments()).toHaveLength(before)
  })
})

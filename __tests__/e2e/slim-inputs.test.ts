// Every bad input fails fast, names the input in double quotes, says what it accepts, and
// touches nothing: no S3 request (counted by the proxy), no dbt run, no GitHub request.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { startGitHubStub, type GitHubStub } from '../../dev/github-stub.js'
import { pushEvent, runAction } from './support/runner.js'
import { startFaultProxy, type FaultProxy } from './support/s3-faults.js'
import { createBucket, listKeys, s3Endpoint } from './support/s3.js'
import { annotationsOf, expectCanaryHidden, expectExit, slimInputs } from './support/slim.js'
import { createWorkspace, type Workspace } from './support/workspace.js'

jest.setTimeout(900_000) // a bound for hung tests only: runs take minutes on a loaded machine

interface BadInput {
  /** The input the error must name, in double quotes. */
  input: string
  with: Record<string, string>
  /** What the message must say is accepted. */
  accepts: RegExp
}

const BOOLEAN = /true.*false|false.*true/i

const BAD_INPUTS: BadInput[] = [
  { input: 'mode', with: { mode: 'turbo' }, accepts: /slim/ },
  { input: 'phase', with: { phase: 'deploy' }, accepts: /build.*teardown|teardown.*build/ },
  { input: 'state-uri', with: { 'state-uri': 'https://bucket/prod' }, accepts: /s3:\/\// },
  { input: 'state-uri', with: { 'state-uri': 's3:///prod' }, accepts: /bucket/i },
  { input: 'state-uri', with: { 'state-uri': '' }, accepts: /s3:\/\// },
  { input: 'defer', with: { defer: 'yes' }, accepts: BOOLEAN },
  { input: 'favor-state', with: { 'favor-state': 'maybe' }, accepts: BOOLEAN },
  { input: 'skip-unchanged', with: { 'skip-unchanged': 'TRUE?' }, accepts: BOOLEAN },
  { input: 'cache-packages', with: { 'cache-packages': '1' }, accepts: BOOLEAN },
  { input: 'pr-comment', with: { 'pr-comment': 'nope' }, accepts: BOOLEAN },
  { input: 'project-dir', with: { 'project-dir': '../outside' }, accepts: /workspace/i },
  { input: 'project-dir', with: { 'project-dir': '/etc' }, accepts: /workspace/i },
  { input: 'profiles-dir', with: { 'profiles-dir': '../elsewhere' }, accepts: /workspace/i },
  { input: 's3-max-attempts', with: { 's3-max-attempts': '-1' }, accepts: /1.*10/ },
  { input: 's3-max-attempts', with: { 's3-max-attempts': '2.5' }, accepts: /1.*10/ },
  { input: 's3-timeout', with: { 's3-timeout': '0' }, accepts: /1.*600/ },
  { input: 's3-timeout', with: { 's3-timeout': '601' }, accepts: /1.*600/ },
  { input: 'upload-manifest', with: { 'upload-manifest': 'sometimes' }, accepts: /auto/ },
  {
    input: 'on-state-error',
    with: { 'on-state-error': 'ignore' },
    accepts: /fail.*full-build|full-build.*fail/
  },
  { input: 'vars', with: { vars: '{sleep_seconds: [1' }, accepts: /YAML|JSON/i },
  { input: 'vars', with: { vars: '- a\n- b' }, accepts: /mapping|object|dict/i },
  {
    input: 'pr-environment',
    with: { 'pr-environment': 'bad-name!' },
    accepts: /letters|digits|_/i
  },
  {
    input: 'pr-environment',
    with: { 'pr-environment': 'x; drop schema analytics cascade; --' },
    accepts: /letters|digits|_/i
  },
  { input: 'dbt-args', with: { 'dbt-args': '--target prod' }, accepts: /target/ },
  { input: 'dbt-args', with: { 'dbt-args': '--select orders' }, accepts: /select/ },
  { input: 'dbt-args', with: { 'dbt-args': '--threads "4' }, accepts: /quote/i },
  { input: 's3-endpoint', with: { 's3-endpoint': 'not a url' }, accepts: /URL/i },
  { input: 'select', with: { select: 'orders', selector: 'nightly' }, accepts: /selector/ }
]

describe('bad inputs fail fast and touch nothing', () => {
  let stub: GitHubStub
  let proxy: FaultProxy
  let workspace: Workspace
  let bucket: string

  beforeAll(async () => {
    stub = await startGitHubStub()
    proxy = await startFaultProxy(s3Endpoint())
    workspace = createWorkspace()
    bucket = await createBucket('inputs')
  })

  afterAll(async () => {
    await stub?.stop()
    await proxy?.stop()
    workspace?.cleanup()
  })

  it('covers at least 20 distinct bad inputs', () => {
    const distinct = new Set(BAD_INPUTS.map((c) => JSON.stringify(c.with)))
    expect(distinct.size).toBe(BAD_INPUTS.length)
    expect(distinct.size).toBeGreaterThanOrEqual(20)
  })

  it.each(BAD_INPUTS.map((c) => [`${c.input}: ${JSON.stringify(c.with)}`, c] as const))(
    '%s',
    async (_name, bad) => {
      const s3Before = proxy.requests.length
      const githubBefore = stub.requests.length
      const result = await runAction({
        workspace: workspace.dir,
        event: pushEvent({ sha: workspace.sha() }),
        inputs: slimInputs(bucket, { 's3-endpoint': proxy.url, ...bad.with }),
        apiUrl: stub.url
      })

      expectExit(result, 1)
      expect(result.stdout).toMatch(/^::error(?: [^:]*)?::/m)
      const message = annotationsOf(result, 'error')
      expect(message).toContain(`"${bad.input}"`)
      expect(message).toMatch(bad.accepts)
      expect(result.stdout).not.toMatch(/Running with dbt=/) // refused before dbt started
      expect(proxy.requests.length).toBe(s3Before)
      expect(stub.requests.length).toBe(githubBefore)
      expect(existsSync(path.join(workspace.dir, 'target'))).toBe(false)
      expect(existsSync(path.join(workspace.dir, 'logs'))).toBe(false)
      expectCanaryHidden(result)
    }
  )

  it('left the state bucket empty', async () => {
    expect(await listKeys(bucket)).toEqual([])
  })
})

// Issue 14, test 1 (blue/green part): GitHub deployment records follow each deploy, on the
// GitHub API stub. In order on one emulator (or the real Materialize), one workspace, one bucket.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import { startGitHubStub, type GitHubStub, type StubDeployment } from '../../dev/github-stub.js'
import {
  brokenReleaseModel,
  expectOutputs,
  releaseIn,
  releaseModel,
  useBlueGreenSuite
} from './support/bluegreen.js'
import { expectExit } from './support/slim.js'

jest.setTimeout(900_000) // a bound for hung tests only: runs take minutes on a loaded machine

const CONSOLE = 'https://console.materialize.com/regions/aws-us-east-1/clusters'

describe('GitHub deployment records of blue/green deploys', () => {
  const suite = useBlueGreenSuite('bg-deployments')
  let github: GitHubStub

  beforeAll(async () => {
    github = await startGitHubStub()
  })
  afterAll(async () => {
    await github?.stop()
  })

  const deploy = (release: string, inputs: Record<string, string> = {}) => {
    suite.ws.commit(`Release ${release}`, releaseModel(release))
    return suite.run({ 'environment-url': CONSOLE, ...inputs }, { apiUrl: github.url })
  }
  const states = (d: StubDeployment | undefined) => d?.statuses.map((s) => s.state)
  const newest = () => github.deployments().at(-1)

  it('phase all: in_progress → success on the deployed commit, and the superseded one goes inactive', async () => {
    const first = await deploy('d1')
    expectExit(first, 0)
    const d1 = newest()
    expect(d1).toMatchObject({ environment: 'prod', sha: suite.ws.sha(), transient: false })
    expect(d1?.payload).toMatchObject({ green: { schemas: ['prod_dbt_deploy'] } })
    expect(states(d1)).toEqual(['in_progress', 'success'])
    expect(d1?.statuses.at(-1)).toMatchObject({ environmentUrl: CONSOLE })
    expect(first.outputs).toMatchObject({
      'deployment-id': String(d1?.id),
      'environment-url': CONSOLE
    })

    const second = await deploy('d2')
    expectExit(second, 0)
    const [older, d2] = github.deployments().slice(-2)
    expect(states(d2)).toEqual(['in_progress', 'success'])
    expect(states(older)).toEqual(['in_progress', 'success', 'inactive'])
  })

  it('a failed deploy ends in failure, with a link to the run; production keeps its deployment', async () => {
    suite.ws.commit('Release with a failing test', brokenReleaseModel('d3'))
    const failed = await suite.run({}, { apiUrl: github.url })
    expectExit(failed, 1)
    const [live, d3] = github.deployments().slice(-2)
    expect(states(d3)).toEqual(['in_progress', 'failure'])
    expect(d3?.statuses.at(-1)?.logUrl).toMatch(/^https:\/\/github\.com\/.+\/actions\/runs\/\d+$/)
    expect(states(live)).toEqual(['in_progress', 'success'])
    expect(await releaseIn(suite.mz, 'prod')).toBe('d2')
  })

  it('a split deploy and its later promote share one deployment', async () => {
    const staged = await deploy('d4', { phase: 'deploy' })
    expectExit(staged, 0)
    expectOutputs(staged, { status: 'staged' })
    const d4 = newest()
    expect(states(d4)).toEqual(['in_progress', 'queued'])

    const promoted = await suite.run({ phase: 'promote' }, { apiUrl: github.url })
    expectExit(promoted, 0)
    expect(newest()?.id).toBe(d4?.id)
    expect(promoted.outputs['deployment-id']).toBe(String(d4?.id))
    expect(states(newest())).toEqual(['in_progress', 'queued', 'in_progress', 'success'])
    expect(github.deployments().filter((d) => states(d)?.at(-1) === 'success')).toHaveLength(1)
  })

  it('without deployments: write, a notice, and the deploy succeeds', async () => {
    github.deny('deployments')
    const before = github.deployments().length
    const result = await deploy('d5')
    expectExit(result, 0)
    expectOutputs(result, { status: 'promoted' })
    expect(result.stdout).toMatch(/::notice::The token may not write deployments/)
    expect(github.deployments()).toHaveLength(before)
    expect(await releaseIn(suite.mz, 'prod')).toBe('d5')
  })
})

// Issue 14, tests 1 and 2 (blue/green part), on the GitHub API stub: deployment records follow
// each deploy, and the hydration check shows green's progress on the deployed commit and gates
// a later promote. In order on one emulator (or the real Materialize), one workspace, one bucket.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import { startGitHubStub, type GitHubStub, type StubDeployment } from '../../dev/github-stub.js'
import { HYDRATION_CHECK as HYDRATION } from '../../src/github/checks.js'
import { describeEmulatorOnly } from './support/backends.js'
import {
  brokenReleaseModel,
  errorText,
  expectOutputs,
  releaseGreen,
  releaseIn,
  releaseModel,
  scriptHydration,
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

describeEmulatorOnly('green is held and released through the control API')(
  'the hydration check on the deployed commit',
  () => {
    const suite = useBlueGreenSuite('bg-checks', {
      afterEach: ({ warehouse }) => scriptHydration(warehouse, 0, false)
    })
    let github: GitHubStub

    beforeAll(async () => {
      github = await startGitHubStub()
    })
    afterAll(async () => {
      await github?.stop()
    })

    const run = (inputs: Record<string, string> = {}) => suite.run(inputs, { apiUrl: github.url })
    const hydrationCheck = () =>
      github.checkRuns().filter((c) => c.name === HYDRATION && c.headSha === suite.ws.sha())

    it('shows progress while green hydrates, then concludes success', async () => {
      await scriptHydration(suite.warehouse, 0, true)
      suite.ws.commit('Release c1', releaseModel('c1'))
      const pending = run()
      // The first progress update (at most every 10 s) arrives while green is held.
      await github.answered((r) => r.method === 'PATCH' && /\/check-runs\/\d+$/.test(r.path))
      await releaseGreen(suite.emulator)
      const result = await pending
      expectExit(result, 0)
      const [check] = hydrationCheck()
      expect(check?.conclusion).toBe('success')
      expect(check?.summaries[0]).toBe('Waiting for green to hydrate.')
      const during = check?.summaries.slice(1, -1) ?? []
      expect(during.some((s) => /^[01]\/2 objects hydrated, .*\d+s$/.test(s))).toBe(true)
      expect(check?.summaries.at(-1)).toMatch(/^Hydrated: 2\/2 objects hydrated/)
      expect(result.outputs['check-run-id']).toBe(String(check?.id))
    })

    it('a promote with the check gate promotes a commit whose check succeeded, and refuses one whose check failed', async () => {
      suite.ws.commit('Release c2', releaseModel('c2'))
      expectExit(await run({ phase: 'deploy' }), 0)
      expectExit(await run({ phase: 'promote', 'require-hydration-check': 'true' }), 0)
      expect(await releaseIn(suite.mz, 'prod')).toBe('c2')

      suite.ws.commit('Release c3', releaseModel('c3'))
      expectExit(await run({ phase: 'deploy' }), 0)
      // Another job's hydration check on the same commit failed later.
      github.addCheckRun({
        repo: 'acme/analytics',
        headSha: suite.ws.sha(),
        name: HYDRATION,
        conclusion: 'failure'
      })
      const refused = await run({ phase: 'promote', 'require-hydration-check': 'true' })
      expectExit(refused, 1)
      expect(errorText(refused)).toMatch(
        new RegExp(`"${HYDRATION}" check of ${suite.ws.sha()} is failure, not success`)
      )
      expect(await releaseIn(suite.mz, 'prod')).toBe('c2')
      expectExit(await run({ phase: 'cleanup' }), 0)
    })

    it('without checks: write, a commit status; without statuses: write either, a notice', async () => {
      github.deny('checks')
      suite.ws.commit('Release c4', releaseModel('c4'))
      expectExit(await run(), 0)
      const states = github
        .commitStatuses()
        .filter((s) => s.sha === suite.ws.sha() && s.context === HYDRATION)
        .map((s) => s.state)
      expect(states[0]).toBe('pending')
      expect(states.at(-1)).toBe('success')

      github.deny('statuses')
      suite.ws.commit('Release c5', releaseModel('c5'))
      const result = await run()
      expectExit(result, 0)
      expect(result.stdout).toMatch(/::notice::The token may not write checks or commit statuses/)
      expect(await releaseIn(suite.mz, 'prod')).toBe('c5')
    })
  }
)

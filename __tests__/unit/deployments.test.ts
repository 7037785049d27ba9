import { jest, describe, it, expect, beforeEach } from '@jest/globals'
import * as core from '../../__fixtures__/core.js'

jest.unstable_mockModule('@actions/core', () => core)
const { DeploymentRecord } = await import('../../src/github/deployments.js')
type DeploymentsApi = import('../../src/github/deployments.js').DeploymentsApi

const context = {
  eventName: 'push',
  sha: 's',
  ref: 'r',
  owner: 'o',
  repo: 'r',
  runUrl: 'https://run'
}
const deployment = {
  sha: 'abc',
  environment: 'prod',
  transient: false,
  description: 'd',
  payload: {}
}

/** Deployments in memory: id → states, oldest first. */
function fakeApi(failWith?: { status: number }) {
  const states = new Map<number, string[]>()
  const api: DeploymentsApi = {
    create: async () => {
      if (failWith) throw Object.assign(new Error(`HTTP ${failWith.status}`), failWith)
      const id = states.size + 1
      states.set(id, [])
      return id
    },
    setStatus: async (id, state) => {
      states.get(id)?.push(state)
    },
    active: async () => [...states].filter(([, s]) => s.at(-1) === 'success').map(([id]) => id)
  }
  return { api, states }
}

beforeEach(() => core.resetCore())

describe('DeploymentRecord', () => {
  it('follows a deploy: in_progress, then success, superseding the active one', async () => {
    const { api, states } = fakeApi()
    const first = new DeploymentRecord(api, context)
    await first.start(deployment)
    await first.succeed('prod', {})
    const second = new DeploymentRecord(api, context)
    await second.start(deployment)
    await second.succeed('prod', { environmentUrl: 'https://console' })
    expect(Object.fromEntries(states)).toEqual({
      1: ['in_progress', 'success', 'inactive'],
      2: ['in_progress', 'success']
    })
    expect(core.outputs['deployment-id']).toBe('2')
  })

  it('retires every active deployment of an environment', async () => {
    const { api, states } = fakeApi()
    const record = new DeploymentRecord(api, context)
    await record.start(deployment)
    await record.succeed('pr_1', {})
    await new DeploymentRecord(api, context).retire('pr_1', 'gone')
    expect(states.get(1)).toEqual(['in_progress', 'success', 'inactive'])
  })

  it.each([403, 404])('HTTP %i: one notice, then no more calls, and no failure', async (status) => {
    const { api } = fakeApi({ status })
    const record = new DeploymentRecord(api, context)
    expect(await record.start(deployment)).toBeUndefined()
    await record.status('failure')
    expect(core.notice).toHaveBeenCalledTimes(1)
    expect(core.notice).toHaveBeenCalledWith(expect.stringContaining('deployments: write'))
    expect(core.warning).not.toHaveBeenCalled()
  })

  it('another error is a warning, and the deploy carries on', async () => {
    const { api } = fakeApi({ status: 500 })
    await new DeploymentRecord(api, context).start(deployment)
    expect(core.warning).toHaveBeenCalledWith(
      expect.stringMatching(/Could not create the deployment: HTTP 500/)
    )
  })

  it('without a token there is nothing to record', async () => {
    const record = new DeploymentRecord(undefined, context)
    expect(await record.start(deployment)).toBeUndefined()
    await record.succeed('prod', {})
    expect(core.notice).not.toHaveBeenCalled()
  })
})

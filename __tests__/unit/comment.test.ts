import { jest, describe, it, expect, beforeEach } from '@jest/globals'
import * as core from '../../__fixtures__/core.js'

jest.unstable_mockModule('@actions/core', () => core)
const { publishComment, renderComment, upsertComment, marker } =
  await import('../../src/report/comment.js')
const { registerSecret } = await import('../../src/secrets.js')
type CommentApi = import('../../src/report/comment.js').CommentApi

function fakeApi(existing: Array<{ id: number; body?: string }> = []) {
  const calls: string[] = []
  const api: CommentApi = {
    list: async () => existing,
    create: async (_issue, body) => void calls.push(`create:${body.length}`),
    update: async (_issue, id) => void calls.push(`update:${id}`)
  }
  return { api, calls }
}

const report = {
  title: 'dbt slim build',
  status: 'failed',
  headline: 'boom with hunter22-secret',
  facts: [['PR environment', '`pr_1`']] as Array<[string, string]>,
  nodes: [
    {
      uniqueId: 'model.p.a|b',
      name: 'a',
      resourceType: 'model',
      status: 'error',
      seconds: 1.2,
      reason: 'modified',
      message: 'syntax error near hunter22-secret',
      file: 'models/a.sql'
    }
  ],
  notes: []
}
const context = {
  eventName: 'pull_request',
  sha: 's',
  ref: 'r',
  owner: 'o',
  repo: 'r',
  pullRequest: { number: 1, action: 'opened', headSha: 'h' }
}
const issue = { owner: 'o', repo: 'r', number: 1 }

beforeEach(() => core.resetCore())

describe('sticky comment', () => {
  it('creates one comment when none carries the marker, and updates it afterwards', async () => {
    const first = fakeApi([{ id: 5, body: 'someone else' }])
    expect(await upsertComment(first.api, issue, 'slim', 'body')).toBe('created')
    const second = fakeApi([
      { id: 5, body: 'x' },
      { id: 9, body: `${marker('slim')}\nold` }
    ])
    expect(await upsertComment(second.api, issue, 'slim', 'body')).toBe('updated')
    expect(second.calls).toEqual(['update:9'])
  })

  it('renders the marker, escapes table cells and never shows a secret', () => {
    registerSecret('hunter22-secret')
    const body = renderComment(report, 'slim')
    expect(body.startsWith(marker('slim'))).toBe(true)
    expect(body).toContain('model.p.a\\|b')
    expect(body).not.toContain('hunter22-secret')
  })

  it('skips with a notice when there is no token or no permission', async () => {
    await publishComment({ prComment: true }, context, report, 'slim')
    expect(core.notice).toHaveBeenCalledWith(expect.stringContaining('No "github-token"'))
    const denied = () => ({
      list: async () => {
        throw Object.assign(new Error('Resource not accessible by integration'), { status: 403 })
      },
      create: async () => undefined,
      update: async () => undefined
    })
    await publishComment({ prComment: true, githubToken: 't' }, context, report, 'slim', denied)
    expect(core.notice).toHaveBeenLastCalledWith(expect.stringContaining('HTTP 403'))
    expect(core.setFailed).not.toHaveBeenCalled()
  })

  it('does nothing outside pull requests or when disabled', async () => {
    const { api, calls } = fakeApi()
    await publishComment(
      { prComment: true, githubToken: 't' },
      { ...context, pullRequest: undefined },
      report,
      'slim',
      () => api
    )
    await publishComment({ prComment: false, githubToken: 't' }, context, report, 'slim', () => api)
    expect(calls).toEqual([])
  })
})

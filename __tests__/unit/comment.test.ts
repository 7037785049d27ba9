import { jest, describe, it, expect, beforeEach } from '@jest/globals'
import * as core from '../../__fixtures__/core.js'

jest.unstable_mockModule('@actions/core', () => core)
const { publishComment, renderComment, upsertComment, marker } =
  await import('../../src/report/comment.js')
const { registerSecret } = await import('../../src/secrets.js')
type CommentApi = import('../../src/report/comment.js').CommentApi
type IssueComment = import('../../src/report/comment.js').IssueComment

const BOT = { login: 'github-actions[bot]', type: 'Bot' }
const PERSON = { login: 'octocat', type: 'User' }

function fakeApi(existing: IssueComment[] = [], login?: string) {
  const calls: string[] = []
  const bodies: string[] = []
  const api: CommentApi = {
    list: async () => existing,
    create: async (_issue, body) => {
      calls.push(`create:${body.length}`)
      bodies.push(body)
    },
    update: async (_issue, id, body) => {
      calls.push(`update:${id}`)
      bodies.push(body)
    },
    login: async () => login
  }
  return { api, calls, bodies }
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
    const first = fakeApi([{ id: 5, body: 'someone else', user: PERSON }])
    expect(await upsertComment(first.api, issue, 'slim', report)).toBe('created')
    const second = fakeApi([
      { id: 5, body: 'x', user: PERSON },
      { id: 9, body: `${marker('slim')}\nold`, user: BOT }
    ])
    expect(await upsertComment(second.api, issue, 'slim', report)).toBe('updated')
    expect(second.calls).toEqual(['update:9'])
  })

  it("never takes a person's comment that quotes the marker for its own", async () => {
    const quoted = { id: 3, body: `${marker('slim')}\nI quote the bot`, user: PERSON }
    const alone = fakeApi([quoted])
    expect(await upsertComment(alone.api, issue, 'slim', report)).toBe('created')
    const both = fakeApi([quoted, { id: 9, body: `${marker('slim')}\nold`, user: BOT }])
    await upsertComment(both.api, issue, 'slim', report)
    expect(both.calls).toEqual(['update:9'])
    const inline = fakeApi([{ id: 4, body: `see ${marker('slim')}`, user: BOT }])
    expect(await upsertComment(inline.api, issue, 'slim', report)).toBe('created')
  })

  it("takes its own user's comment when a personal token wrote it", async () => {
    const mine = { id: 7, body: `${marker('slim')}\nold`, user: PERSON }
    const { api, calls } = fakeApi([mine], 'octocat')
    await upsertComment(api, issue, 'slim', report)
    expect(calls).toEqual(['update:7'])
  })

  it('keeps the earlier report of the same title and adds a follow-up line', async () => {
    const earlier = renderComment({ ...report, headline: 'Dropped schema pr_1.' }, 'slim')
    const followUp = { ...report, headline: 'Nothing to drop.', followUp: 'Teardown ran again.' }
    const { api, bodies } = fakeApi([{ id: 9, body: earlier, user: BOT }])
    await upsertComment(api, issue, 'slim', followUp)
    expect(bodies[0]).toContain('Dropped schema pr_1.')
    expect(bodies[0]!.endsWith('Teardown ran again.')).toBe(true)
    const other = fakeApi([
      { id: 9, body: renderComment({ ...report, title: 'dbt slim build' }, 'slim'), user: BOT }
    ])
    await upsertComment(other.api, issue, 'slim', { ...followUp, title: 'teardown' })
    expect(other.bodies[0]).toContain('Nothing to drop.')
  })

  it('renders the marker, escapes table cells and never shows a secret', () => {
    registerSecret('hunter22-secret')
    const body = renderComment(report, 'slim')
    expect(body.startsWith(marker('slim'))).toBe(true)
    expect(body).toContain('model.p.a\\|b')
    expect(body).not.toContain('hunter22-secret')
  })

  it('shows shared sections (a cutover plan) but not summary-only ones, redacted', () => {
    registerSecret('hunter22-secret')
    const body = renderComment(
      {
        ...report,
        sections: ['### Timeline only in the summary'],
        sharedSections: ['### Cutover plan\n\nALTER SCHEMA "hunter22-secret" SWAP', '']
      },
      'blue-green'
    )
    expect(body).toContain('### Cutover plan')
    expect(body).not.toContain('### Timeline')
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
      update: async () => undefined,
      login: async () => undefined
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

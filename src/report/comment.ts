// One sticky PR comment per mode, found by a hidden marker and edited in place.
import * as core from '@actions/core'
import { httpStatus, isPermissionDenied, octokitFor } from '../github/octokit.js'
import type { RunContext } from '../context.js'
import type { ReportSettings } from '../inputs.js'
import type { RunReport } from './model.js'
import { factsList, failuresSection, nodesTable, NODES_ELSEWHERE } from './markdown.js'
import { errorMessage } from '../errors.js'
import { redact } from '../secrets.js'

const COMMENT_NODE_ROWS = 50
const COMMENT_LIMIT = 60_000

export interface IssueRef {
  owner: string
  repo: string
  number: number
}

export interface IssueComment {
  id: number
  body?: string
  user?: { login: string; type: string } | null
}

export interface CommentApi {
  list(issue: IssueRef): Promise<IssueComment[]>
  create(issue: IssueRef, body: string): Promise<void>
  update(issue: IssueRef, id: number, body: string): Promise<void>
  /** The token's own login, or undefined where the API will not say (installation tokens). */
  login(): Promise<string | undefined>
}

export function gitHubCommentApi(token: string): CommentApi {
  const octokit = octokitFor(token)
  return {
    list: (issue) =>
      octokit.paginate(octokit.rest.issues.listComments, {
        owner: issue.owner,
        repo: issue.repo,
        issue_number: issue.number,
        per_page: 100
      }),
    create: async (issue, body) => {
      await octokit.rest.issues.createComment({
        owner: issue.owner,
        repo: issue.repo,
        issue_number: issue.number,
        body
      })
    },
    update: async (issue, id, body) => {
      await octokit.rest.issues.updateComment({
        owner: issue.owner,
        repo: issue.repo,
        comment_id: id,
        body
      })
    },
    login: async () => {
      try {
        return (await octokit.rest.users.getAuthenticated()).data.login
      } catch {
        return undefined
      }
    }
  }
}

export const marker = (mode: string): string => `<!-- dbt-materialize-deploy:${mode} -->`

export function renderComment(report: RunReport, mode: string): string {
  const body = [
    marker(mode),
    `${titleLine(report)}${report.status}`,
    redact(report.headline),
    factsList(report),
    ...(report.sharedSections ?? []).map(redact),
    report.nodes ? nodesTable(report.nodes, COMMENT_NODE_ROWS, NODES_ELSEWHERE.comment) : '',
    failuresSection(report.nodes ?? [], 10)
  ]
    .filter((part) => part !== '')
    .join('\n\n')
  return body.length > COMMENT_LIMIT
    ? `${body.slice(0, COMMENT_LIMIT)}\n\n…(truncated; see the job summary)`
    : body
}

/**
 * Our earlier comment: it starts with the marker and was written by a bot (GITHUB_TOKEN and
 * app tokens) or by the token's own user (a personal token). A person's comment that quotes
 * the marker is never taken for it.
 */
async function findOwnComment(
  api: CommentApi,
  issue: IssueRef,
  mode: string
): Promise<IssueComment | undefined> {
  const marked = (await api.list(issue)).filter((c) => c.body?.startsWith(marker(mode)))
  const byBot = marked.find((c) => c.user?.type === 'Bot')
  if (byBot || marked.length === 0) return byBot
  const login = await api.login()
  return login === undefined ? undefined : marked.find((c) => c.user?.login === login)
}

const titleLine = (report: RunReport): string => `### ${report.title}: `

/** The comment's new body: the report, or the earlier report of the same title plus a line. */
function nextBody(existing: IssueComment | undefined, report: RunReport, mode: string): string {
  const earlier = existing?.body
  if (report.followUp && earlier?.includes(`\n${titleLine(report)}`)) {
    return `${earlier}\n\n${redact(report.followUp)}`
  }
  return renderComment(report, mode)
}

/** Creates or edits the comment. Returns what happened. */
export async function upsertComment(
  api: CommentApi,
  issue: IssueRef,
  mode: string,
  report: RunReport
): Promise<'created' | 'updated'> {
  const existing = await findOwnComment(api, issue, mode)
  const body = nextBody(existing, report, mode)
  if (existing) {
    await api.update(issue, existing.id, body)
    return 'updated'
  }
  await api.create(issue, body)
  return 'created'
}

export async function publishComment(
  settings: ReportSettings,
  context: RunContext,
  report: RunReport,
  mode: string,
  api: (token: string) => CommentApi = gitHubCommentApi
): Promise<void> {
  if (!settings.prComment || !context.pullRequest) return
  if (!settings.githubToken) {
    core.notice(
      'No "github-token", so the PR comment is skipped. The job summary has the full report.'
    )
    return
  }
  const issue = { owner: context.owner, repo: context.repo, number: context.pullRequest.number }
  try {
    const outcome = await upsertComment(api(settings.githubToken), issue, mode, report)
    core.info(`PR comment ${outcome} on #${issue.number}.`)
  } catch (error) {
    if (isPermissionDenied(error)) {
      core.notice(
        `The token may not comment on #${issue.number} (HTTP ${httpStatus(error)}; fork PRs get a read-only token), so the PR comment is skipped.`
      )
    } else {
      core.warning(`Could not post the PR comment: ${errorMessage(error)}`)
    }
  }
}

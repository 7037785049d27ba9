// One sticky PR comment per mode, found by a hidden marker and edited in place.
import * as core from '@actions/core'
import { getOctokit } from '@actions/github'
import type { RunContext } from '../context.js'
import type { ReportSettings } from '../inputs.js'
import type { RunReport } from './model.js'
import { factsList, failuresSection, nodesTable } from './markdown.js'
import { errorMessage } from '../errors.js'
import { redact } from '../secrets.js'

const COMMENT_NODE_ROWS = 50
const COMMENT_LIMIT = 60_000

export interface IssueRef {
  owner: string
  repo: string
  number: number
}

export interface CommentApi {
  list(issue: IssueRef): Promise<Array<{ id: number; body?: string }>>
  create(issue: IssueRef, body: string): Promise<void>
  update(issue: IssueRef, id: number, body: string): Promise<void>
}

export function gitHubCommentApi(token: string): CommentApi {
  const octokit = getOctokit(token)
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
    }
  }
}

export const marker = (mode: string): string => `<!-- dbt-materialize-deploy:${mode} -->`

export function renderComment(report: RunReport, mode: string): string {
  const body = [
    marker(mode),
    `### ${report.title}: ${report.status}`,
    redact(report.headline),
    factsList(report),
    report.nodes ? nodesTable(report.nodes, COMMENT_NODE_ROWS) : '',
    failuresSection(report.nodes ?? [], 10)
  ]
    .filter((part) => part !== '')
    .join('\n\n')
  return body.length > COMMENT_LIMIT
    ? `${body.slice(0, COMMENT_LIMIT)}\n\n…(truncated; see the job summary)`
    : body
}

/** Creates or edits the comment. Returns what happened; never throws. */
export async function upsertComment(
  api: CommentApi,
  issue: IssueRef,
  mode: string,
  body: string
): Promise<'created' | 'updated'> {
  const existing = (await api.list(issue)).find((comment) => comment.body?.includes(marker(mode)))
  if (existing) {
    await api.update(issue, existing.id, body)
    return 'updated'
  }
  await api.create(issue, body)
  return 'created'
}

function httpStatus(error: unknown): number | undefined {
  return typeof error === 'object' && error !== null && 'status' in error
    ? Number((error as { status: unknown }).status)
    : undefined
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
    const outcome = await upsertComment(
      api(settings.githubToken),
      issue,
      mode,
      renderComment(report, mode)
    )
    core.info(`PR comment ${outcome} on #${issue.number}.`)
  } catch (error) {
    const status = httpStatus(error)
    if (status === 403 || status === 404) {
      core.notice(
        `The token may not comment on #${issue.number} (HTTP ${status}; fork PRs get a read-only token), so the PR comment is skipped.`
      )
    } else {
      core.warning(`Could not post the PR comment: ${errorMessage(error)}`)
    }
  }
}

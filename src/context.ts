// What the triggering event tells us, read once from the runner's environment.
import { readFileSync } from 'node:fs'

export interface PullRequestInfo {
  number: number
  action: string
  headSha: string
}

export interface RunContext {
  eventName: string
  sha: string
  ref: string
  owner: string
  repo: string
  defaultBranch?: string
  pullRequest?: PullRequestInfo
  runUrl?: string
}

interface EventPayload {
  action?: string
  number?: number
  pull_request?: { number?: number; head?: { sha?: string } }
  repository?: { default_branch?: string }
}

function readPayload(): EventPayload {
  const file = process.env.GITHUB_EVENT_PATH
  if (!file) return {}
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as EventPayload
  } catch {
    return {}
  }
}

function pullRequest(payload: EventPayload): PullRequestInfo | undefined {
  const number = payload.pull_request?.number ?? payload.number
  if (!payload.pull_request || typeof number !== 'number') return undefined
  return { number, action: payload.action ?? '', headSha: payload.pull_request.head?.sha ?? '' }
}

export function readRunContext(env: NodeJS.ProcessEnv = process.env): RunContext {
  const payload = readPayload()
  const [owner = '', repo = ''] = (env.GITHUB_REPOSITORY ?? '').split('/')
  const server = env.GITHUB_SERVER_URL ?? 'https://github.com'
  return {
    eventName: env.GITHUB_EVENT_NAME ?? '',
    sha: env.GITHUB_SHA ?? '',
    ref: env.GITHUB_REF ?? '',
    owner,
    repo,
    defaultBranch: payload.repository?.default_branch,
    pullRequest: pullRequest(payload),
    runUrl: env.GITHUB_RUN_ID
      ? `${server}/${owner}/${repo}/actions/runs/${env.GITHUB_RUN_ID}`
      : undefined
  }
}

export function isDefaultBranchPush(context: RunContext): boolean {
  return (
    context.eventName === 'push' &&
    context.defaultBranch !== undefined &&
    context.ref === `refs/heads/${context.defaultBranch}`
  )
}

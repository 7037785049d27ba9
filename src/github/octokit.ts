// The one way the action builds a GitHub client: Octokit that retries server errors and waits
// out (a few) rate limits, and a test for the answers that mean "this token may not".
import * as core from '@actions/core'
import { getOctokit } from '@actions/github'
import { retry } from '@octokit/plugin-retry'
import { throttling } from '@octokit/plugin-throttling'

const RATE_LIMIT_RETRIES = 2

export type Octokit = ReturnType<typeof octokitFor>

export function octokitFor(token: string) {
  const retryOnLimit = (after: number, _options: object, _octokit: unknown, count: number) => {
    core.info(`GitHub API rate limit: retrying in ${after} s.`)
    return count < RATE_LIMIT_RETRIES
  }
  return getOctokit(
    token,
    { throttle: { onRateLimit: retryOnLimit, onSecondaryRateLimit: retryOnLimit } },
    retry,
    throttling
  )
}

export function httpStatus(error: unknown): number | undefined {
  return typeof error === 'object' && error !== null && 'status' in error
    ? Number(error.status)
    : undefined
}

/** 403 and 404 are what GitHub answers a token without the permission (or a fork's token). */
export function isPermissionDenied(error: unknown): boolean {
  const status = httpStatus(error)
  return status === 403 || status === 404
}

// The live hydration check on the deployed commit: a check run named HYDRATION_CHECK whose text
// follows green's hydration (at most every 10 s) and which concludes with the wait. Without
// `checks: write` it is a commit status of the same name; without either, one notice.
import * as core from '@actions/core'
import type { RunContext } from '../context.js'
import { errorMessage } from '../errors.js'
import { isPermissionDenied, octokitFor } from './octokit.js'

export const HYDRATION_CHECK = 'dbt-materialize / hydration'
const UPDATE_EVERY_MS = 10_000

export type Conclusion = 'success' | 'failure' | 'cancelled'

export interface ChecksApi {
  createCheck(sha: string, summary: string): Promise<number>
  updateCheck(id: number, summary: string, conclusion?: Conclusion): Promise<void>
  setStatus(
    sha: string,
    state: 'pending' | 'success' | 'failure' | 'error',
    description: string
  ): Promise<void>
  /** The newest conclusion of the check (run or status) on the commit; undefined when none. */
  conclusionOf(sha: string): Promise<string | undefined>
}

export function gitHubChecksApi(token: string, context: RunContext): ChecksApi {
  const octokit = octokitFor(token)
  const repo = { owner: context.owner, repo: context.repo }
  const output = (summary: string) => ({ title: 'Green hydration', summary })
  return {
    async createCheck(sha, summary) {
      const { data } = await octokit.rest.checks.create({
        ...repo,
        name: HYDRATION_CHECK,
        head_sha: sha,
        status: 'in_progress',
        details_url: context.runUrl,
        output: output(summary)
      })
      return data.id
    },
    async updateCheck(id, summary, conclusion) {
      await octokit.rest.checks.update({
        ...repo,
        check_run_id: id,
        output: output(summary),
        ...(conclusion && { status: 'completed', conclusion })
      })
    },
    async setStatus(sha, state, description) {
      await octokit.rest.repos.createCommitStatus({
        ...repo,
        sha,
        state,
        context: HYDRATION_CHECK,
        description: description.slice(0, 140),
        target_url: context.runUrl
      })
    },
    async conclusionOf(sha) {
      const runs = await octokit.rest.checks.listForRef({
        ...repo,
        ref: sha,
        check_name: HYDRATION_CHECK
      })
      const run = runs.data.check_runs[0]
      if (run) return run.conclusion ?? run.status
      const statuses = await octokit.rest.repos.listCommitStatusesForRef({ ...repo, ref: sha })
      return statuses.data.find((s) => s.context === HYDRATION_CHECK)?.state
    }
  }
}

/** The hydration check of one run; best effort, like the deployment records. */
export class HydrationCheck {
  private id?: number
  private viaStatus = false
  private off = false
  private lastUpdate = -Infinity

  constructor(
    private readonly api: ChecksApi | undefined,
    private readonly sha: string,
    private readonly now: () => number = Date.now
  ) {}

  async start(): Promise<void> {
    const summary = 'Waiting for green to hydrate.'
    await this.attempt(async (api) => {
      try {
        this.id = await api.createCheck(this.sha, summary)
        core.setOutput('check-run-id', String(this.id))
      } catch (error) {
        if (!isPermissionDenied(error)) throw error
        this.viaStatus = true // no checks: write; a commit status needs only statuses: write
        await api.setStatus(this.sha, 'pending', summary)
      }
    })
    this.lastUpdate = this.now()
  }

  /** The progress text, sent at most every 10 s. */
  async progress(summary: string): Promise<void> {
    if (this.now() - this.lastUpdate < UPDATE_EVERY_MS) return
    this.lastUpdate = this.now()
    await this.attempt((api) =>
      this.viaStatus ? api.setStatus(this.sha, 'pending', summary) : this.update(api, summary)
    )
  }

  async conclude(conclusion: Conclusion, summary: string): Promise<void> {
    const state =
      conclusion === 'success' ? 'success' : conclusion === 'failure' ? 'failure' : 'error'
    await this.attempt((api) =>
      this.viaStatus
        ? api.setStatus(this.sha, state, summary)
        : this.update(api, summary, conclusion)
    )
  }

  private async update(api: ChecksApi, summary: string, conclusion?: Conclusion): Promise<void> {
    if (this.id !== undefined) await api.updateCheck(this.id, summary, conclusion)
  }

  private async attempt(call: (api: ChecksApi) => Promise<void>): Promise<void> {
    if (!this.api || this.off) return
    try {
      await call(this.api)
    } catch (error) {
      this.off = true
      if (isPermissionDenied(error))
        core.notice(
          `The token may not write checks or commit statuses (give the job "checks: write" or "statuses: write"), so the "${HYDRATION_CHECK}" check is not shown; the deploy itself is not affected.`
        )
      else core.warning(`Could not update the "${HYDRATION_CHECK}" check: ${errorMessage(error)}`)
    }
  }
}

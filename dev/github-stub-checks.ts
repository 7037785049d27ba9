// The GitHub stub's check runs and commit statuses, with every update kept so a test can read
// the progress a run reported (newest first in lists, as GitHub answers).
import { StubHttpError } from './github-stub-deployments.js'

export interface StubCheckRun {
  id: number
  repo: string
  name: string
  headSha: string
  status: string
  conclusion?: string
  /** Each output summary sent, in order. */
  summaries: string[]
}

export interface StubCommitStatus {
  repo: string
  sha: string
  context: string
  state: string
  description?: string
}

type Body = Record<string, unknown> | undefined

const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined)
const summaryOf = (body: Body): string | undefined =>
  text((body?.output as Record<string, unknown> | undefined)?.summary)

export class StubChecks {
  readonly runs: StubCheckRun[] = []
  readonly statuses: StubCommitStatus[] = []
  private nextId = 4_200_000_001

  private json(run: StubCheckRun): Record<string, unknown> {
    return {
      id: run.id,
      name: run.name,
      head_sha: run.headSha,
      status: run.status,
      conclusion: run.conclusion ?? null,
      output: { title: 'Green hydration', summary: run.summaries.at(-1) ?? null }
    }
  }

  create(repo: string, body: Body): Record<string, unknown> {
    const name = text(body?.name)
    const headSha = text(body?.head_sha)
    if (!name || !headSha)
      throw new StubHttpError(422, 'Invalid request: name and head_sha are required.')
    const run: StubCheckRun = {
      id: this.nextId++,
      repo,
      name,
      headSha,
      status: text(body?.status) ?? 'queued',
      summaries: [summaryOf(body)].filter((s): s is string => s !== undefined)
    }
    this.runs.push(run)
    return this.json(run)
  }

  update(repo: string, id: number, body: Body): Record<string, unknown> {
    const run = this.runs.find((r) => r.repo === repo && r.id === id)
    if (!run) throw new StubHttpError(404, 'Not Found')
    const conclusion = text(body?.conclusion)
    if (conclusion) Object.assign(run, { conclusion, status: 'completed' })
    const summary = summaryOf(body)
    if (summary) run.summaries.push(summary)
    return this.json(run)
  }

  listForRef(repo: string, sha: string, name: string | null): Record<string, unknown> {
    const runs = this.runs
      .filter((r) => r.repo === repo && r.headSha === sha && (!name || r.name === name))
      .reverse()
    return { total_count: runs.length, check_runs: runs.map((r) => this.json(r)) }
  }

  addStatus(repo: string, sha: string, body: Body): Record<string, unknown> {
    const status: StubCommitStatus = {
      repo,
      sha,
      context: text(body?.context) ?? 'default',
      state: text(body?.state) ?? '',
      description: text(body?.description)
    }
    if (!['error', 'failure', 'pending', 'success'].includes(status.state))
      throw new StubHttpError(422, `Invalid request: "${status.state}" is not a status state.`)
    this.statuses.push(status)
    return { ...status, id: this.statuses.length }
  }

  statusesForRef(repo: string, sha: string): Array<Record<string, unknown>> {
    return this.statuses
      .filter((s) => s.repo === repo && s.sha === sha)
      .reverse()
      .map((s) => ({ ...s }))
  }
}

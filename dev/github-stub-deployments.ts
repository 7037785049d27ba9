// The GitHub stub's Deployments API: deployments and their statuses, as GitHub answers them
// (newest first in lists, 422 for an unknown state, 404 for an unknown deployment).
import type { StubDeployment } from './github-stub.js'

const STATES = ['error', 'failure', 'inactive', 'in_progress', 'queued', 'pending', 'success']

export class StubHttpError extends Error {
  constructor(
    readonly status: number,
    message: string
  ) {
    super(message)
  }
}

type Body = Record<string, unknown> | undefined

const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined)

export class StubDeployments {
  readonly all: StubDeployment[] = []
  private nextId = 3_100_000_001

  constructor(private readonly url: () => string) {}

  private json(d: StubDeployment): Record<string, unknown> {
    return {
      id: d.id,
      url: `${this.url()}/repos/${d.repo}/deployments/${d.id}`,
      sha: d.sha,
      ref: d.sha,
      task: 'deploy',
      environment: d.environment,
      description: d.description ?? null,
      payload: d.payload,
      transient_environment: d.transient,
      production_environment: d.production,
      statuses_url: `${this.url()}/repos/${d.repo}/deployments/${d.id}/statuses`
    }
  }

  create(repo: string, body: Body): Record<string, unknown> {
    const ref = text(body?.ref)
    if (!ref) throw new StubHttpError(422, 'Invalid request: "ref" wasn\'t supplied.')
    const deployment: StubDeployment = {
      id: this.nextId++,
      repo,
      sha: ref,
      environment: text(body?.environment) ?? 'production',
      transient: body?.transient_environment === true,
      production: body?.production_environment === true,
      description: text(body?.description),
      payload: body?.payload ?? {},
      statuses: []
    }
    this.all.push(deployment)
    return this.json(deployment)
  }

  list(repo: string, query: URLSearchParams): Array<Record<string, unknown>> {
    const environment = query.get('environment')
    return this.all
      .filter((d) => d.repo === repo && (!environment || d.environment === environment))
      .reverse()
      .map((d) => this.json(d))
  }

  private find(repo: string, id: number): StubDeployment {
    const found = this.all.find((d) => d.repo === repo && d.id === id)
    if (!found) throw new StubHttpError(404, 'Not Found')
    return found
  }

  addStatus(repo: string, id: number, body: Body): Record<string, unknown> {
    const deployment = this.find(repo, id)
    const state = text(body?.state) ?? ''
    if (!STATES.includes(state))
      throw new StubHttpError(422, `Invalid request: "${state}" is not a deployment state.`)
    const status = {
      id: deployment.statuses.length + 1,
      state,
      description: text(body?.description),
      logUrl: text(body?.log_url),
      environmentUrl: text(body?.environment_url)
    }
    deployment.statuses.push(status)
    return this.statusJson(status)
  }

  listStatuses(repo: string, id: number): Array<Record<string, unknown>> {
    return [...this.find(repo, id).statuses].reverse().map((s) => this.statusJson(s))
  }

  private statusJson(status: StubDeployment['statuses'][number]): Record<string, unknown> {
    return {
      id: status.id,
      state: status.state,
      description: status.description ?? '',
      log_url: status.logUrl ?? '',
      environment_url: status.environmentUrl ?? ''
    }
  }
}

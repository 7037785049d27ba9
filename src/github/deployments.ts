// GitHub Deployments API records of what is live: one deployment per deploy, whose statuses
// follow the run (in_progress, success, failure with the run's log, inactive once superseded).
// They are a view for people; a token without `deployments: write` gives one notice and the
// deploy carries on without them.
import * as core from '@actions/core'
import type { RunContext } from '../context.js'
import { errorMessage } from '../errors.js'
import { isPermissionDenied, octokitFor } from './octokit.js'

export type DeploymentState = 'in_progress' | 'queued' | 'success' | 'failure' | 'inactive'

export interface NewDeployment {
  sha: string
  environment: string
  /** A PR environment, which goes away at teardown. */
  transient: boolean
  description: string
  payload: Record<string, unknown>
}

export interface StatusDetails {
  description?: string
  logUrl?: string
  environmentUrl?: string
}

export interface DeploymentsApi {
  create(deployment: NewDeployment): Promise<number>
  setStatus(id: number, state: DeploymentState, details: StatusDetails): Promise<void>
  /** Deployments of the environment whose latest status is `success`, newest first. */
  active(environment: string): Promise<number[]>
}

export function gitHubDeploymentsApi(token: string, context: RunContext): DeploymentsApi {
  const octokit = octokitFor(token)
  const repo = { owner: context.owner, repo: context.repo }
  return {
    async create(deployment) {
      const { data } = await octokit.rest.repos.createDeployment({
        ...repo,
        ref: deployment.sha,
        environment: deployment.environment,
        description: deployment.description,
        payload: deployment.payload,
        transient_environment: deployment.transient,
        production_environment: !deployment.transient,
        auto_merge: false,
        required_contexts: [] // the deploy's own checks already ran; never wait for others
      })
      if (!('id' in data)) throw new Error(`GitHub did not create the deployment: ${data.message}`)
      return data.id
    },
    async setStatus(id, state, details) {
      await octokit.rest.repos.createDeploymentStatus({
        ...repo,
        deployment_id: id,
        state,
        description: details.description?.slice(0, 140),
        log_url: details.logUrl,
        environment_url: details.environmentUrl,
        auto_inactive: false // superseded deployments are marked inactive explicitly
      })
    },
    async active(environment) {
      const { data } = await octokit.rest.repos.listDeployments({
        ...repo,
        environment,
        per_page: 30
      })
      const latest = await Promise.all(
        data.map(async (deployment) => {
          const statuses = await octokit.rest.repos.listDeploymentStatuses({
            ...repo,
            deployment_id: deployment.id,
            per_page: 1
          })
          return statuses.data[0]?.state === 'success' ? [deployment.id] : []
        })
      )
      return latest.flat()
    }
  }
}

/** The records of a run with a token; none without one. */
export function deploymentRecord(token: string | undefined, context: RunContext): DeploymentRecord {
  return new DeploymentRecord(token ? gitHubDeploymentsApi(token, context) : undefined, context)
}

/**
 * The deployment of one run. Every call is best effort: the first refusal (no permission)
 * becomes a notice and turns the records off; other errors are warnings. A deploy never fails
 * for its records.
 */
export class DeploymentRecord {
  private off = false

  constructor(
    private readonly api: DeploymentsApi | undefined,
    private readonly context: RunContext
  ) {}

  /** The deployment's id, once created or carried on. */
  id?: number

  /** Carries on a deployment an earlier job created, e.g. a staged deploy's at its promote. */
  carryOn(id: number | undefined): void {
    this.id = id
    if (id !== undefined) core.setOutput('deployment-id', String(id))
  }

  /** Creates the deployment, in progress. */
  async start(deployment: NewDeployment): Promise<number | undefined> {
    this.id = await this.attempt('create the deployment', async (api) => {
      const id = await api.create(deployment)
      await api.setStatus(id, 'in_progress', { logUrl: this.context.runUrl })
      return id
    })
    if (this.id !== undefined) core.setOutput('deployment-id', String(this.id))
    return this.id
  }

  async status(state: DeploymentState, details: StatusDetails = {}): Promise<void> {
    const id = this.id
    if (id === undefined) return
    await this.attempt(`set the deployment's status to ${state}`, (api) =>
      api.setStatus(id, state, { logUrl: this.context.runUrl, ...details })
    )
  }

  /** Success for this deployment, after every other active one of the environment goes inactive. */
  async succeed(environment: string, details: StatusDetails): Promise<void> {
    const id = this.id
    if (id === undefined) return
    await this.attempt('mark the superseded deployments inactive', async (api) => {
      for (const other of (await api.active(environment)).filter((other) => other !== id))
        await api.setStatus(other, 'inactive', { description: `Superseded by deployment ${id}.` })
    })
    await this.status('success', details)
  }

  /** Every active deployment of the environment goes inactive, e.g. at a PR's teardown. */
  async retire(environment: string, description: string): Promise<void> {
    await this.attempt('mark the deployments inactive', async (api) => {
      for (const id of await api.active(environment))
        await api.setStatus(id, 'inactive', { description })
    })
  }

  private async attempt<T>(
    what: string,
    call: (api: DeploymentsApi) => Promise<T>
  ): Promise<T | undefined> {
    if (!this.api || this.off) return undefined
    try {
      return await call(this.api)
    } catch (error) {
      if (!isPermissionDenied(error)) {
        core.warning(`Could not ${what}: ${errorMessage(error)}`)
        return undefined
      }
      this.off = true
      core.notice(
        `The token may not write deployments (give the job "deployments: write"), so this run records none; the deploy itself is not affected.`
      )
      return undefined
    }
  }
}

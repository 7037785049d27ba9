// One blue/green run: its inputs, clients, lock and timeline, shared by the phase files.
import * as core from '@actions/core'
import path from 'node:path'
import type { BlueGreenInputs } from '../inputs.js'
import type { RunContext } from '../context.js'
import { DbtCli, type Dbt, type DbtRunOptions } from '../dbt/cli.js'
import { readProject, type DbtProject } from '../dbt/project.js'
import { checkTarget } from '../dbt/target.js'
import { blueGreenDbtEnvironment } from '../environment.js'
import { ActionError } from '../errors.js'
import { S3Lease } from '../store/lock.js'
import { S3ObjectStore, type ObjectStore } from '../store/s3.js'
import { PgWarehouse, type Sql, type Warehouse } from '../warehouse/pg.js'
import { tlsAttempts } from '../warehouse/tls.js'
import { abortRun, cancelled, sleep, undoOnCancel } from '../cancel.js'
import { forgetCreated, recordCreated, recordedHere, saveCleanupContext } from '../state.js'
import { describeResource, undoResources } from '../undo.js'
import { dropEnvironment } from '../warehouse/environment.js'
import { readDeploymentConfig, type DeploymentConfig } from './config.js'
import { materializeTarget } from './connection.js'
import type { ProfileTarget } from '../dbt/profile.js'
import { existingNames, greenNames, productionNames } from './catalog.js'
import { blueGreenKeys } from '../store/layout.js'
import { gitHubChecksApi, type ChecksApi, type HydrationCheck } from '../github/checks.js'
import {
  DeploymentRecord,
  gitHubDeploymentsApi,
  type DeploymentsApi
} from '../github/deployments.js'
import type { HydrationResult } from './readiness.js'
import type { CutoverPlan } from './plan.js'
import type { DiffReport } from '../diff/model.js'
import { checkDiffCluster } from './diff.js'

export interface TimelineEntry {
  step: string
  seconds: number
  outcome: 'ok' | 'failed'
}

export interface BlueGreenClients {
  store: ObjectStore & { close(): void }
  /** Connects on first use, so checks that need only S3 run before any SQL. */
  connect: () => Promise<Warehouse>
  dbt: Dbt & { withVars?(vars: Record<string, unknown>, targetPath: string): Dbt }
  /** GitHub's deployment records; none without a token. */
  deployments?: DeploymentsApi
  /** The hydration check on the deployed commit; none without a token. */
  checks?: ChecksApi
}

export interface BlueGreenDependencies {
  open(
    inputs: BlueGreenInputs,
    target: ProfileTarget,
    context: RunContext
  ): Promise<BlueGreenClients>
}

export const realDependencies: BlueGreenDependencies = {
  async open(inputs, target, context) {
    const store = S3ObjectStore.create(inputs.s3, inputs.state.bucket)
    const dbt = await DbtCli.create(inputs.dbt, blueGreenDbtEnvironment(), { persistent: true })
    const { statementTimeoutMs } = inputs.blueGreen
    const token = inputs.report.githubToken
    return {
      store,
      connect: () => PgWarehouse.connect(target, { statementTimeoutMs }),
      dbt,
      deployments: token ? gitHubDeploymentsApi(token, context) : undefined,
      checks: token ? gitHubChecksApi(token, context) : undefined
    }
  }
}

export class BlueGreenRun {
  readonly timeline: TimelineEntry[] = []
  readonly notes: string[] = []
  hydration?: HydrationResult
  plan: string[] = []
  cutover?: CutoverPlan
  /** Green against production, when "diff" is on. */
  diff?: DiffReport
  /** A drop the impact guard refused, or one that failed: the phase finishes its bookkeeping, then the run fails with it. */
  blockedDrop?: ActionError
  /** Markdown sections a phase adds to the summary, e.g. the state `phase: status` reports. */
  readonly sections: string[] = []
  /** The GitHub deployment this run records its progress on. */
  readonly deployment: DeploymentRecord
  /** The hydration check of the wait in progress, concluded when the run is cancelled. */
  hydrationCheck?: HydrationCheck
  private lease?: S3Lease
  private stopRenewing?: () => void
  private connection?: Promise<Warehouse>
  private green?: Dbt

  private constructor(
    readonly inputs: BlueGreenInputs,
    readonly context: RunContext,
    readonly project: DbtProject,
    readonly config: DeploymentConfig,
    readonly clients: BlueGreenClients
  ) {
    this.deployment = new DeploymentRecord(clients.deployments, context)
  }

  static async open(
    inputs: BlueGreenInputs,
    context: RunContext,
    deps: BlueGreenDependencies
  ): Promise<BlueGreenRun> {
    const project = readProject(inputs.dbt.projectDir)
    checkTarget(inputs.dbt, project)
    const target = materializeTarget(inputs.dbt, inputs.blueGreen.materializeUrl, project)
    tlsAttempts(target) // a bad sslmode or an unreadable certificate fails here, touching nothing
    // Validated before any client opens: nothing is touched on a bad configuration.
    const config = readDeploymentConfig(project.vars, target.target)
    checkDiffCluster(inputs.diff, config)
    saveCleanupContext({
      bucket: inputs.state.bucket,
      ...inputs.s3,
      projectDir: inputs.dbt.projectDir,
      profilesDir: inputs.dbt.profilesDir,
      target: inputs.dbt.target,
      materializeUrl: inputs.blueGreen.materializeUrl !== undefined
    })
    const clients = await deps.open(inputs, target, context)
    const run = new BlueGreenRun(inputs, context, project, config, clients)
    core.setOutput('green-schemas', JSON.stringify(greenNames(config).schemas))
    core.setOutput('green-clusters', JSON.stringify(greenNames(config).clusters))
    undoOnCancel(() => run.undoCancelled())
    return run
  }

  /** The run's connection, opened on first use and opened again when it was lost. */
  async warehouse(): Promise<Warehouse> {
    const current = await this.connection?.catch(() => undefined)
    if (current?.lost) {
      core.info('Reconnecting to Materialize.')
      await current.close().catch(() => undefined)
      this.connection = undefined
    }
    this.connection ??= this.clients.connect()
    return this.connection
  }

  /** Queries through `warehouse()`, so a long wait survives a reconnect between polls. */
  readonly sql: Sql = { query: async (text) => (await this.warehouse()).query(text) }

  /** The GitHub environment of the deployment records. */
  get environment(): string {
    return this.inputs.blueGreen.environment ?? this.config.target
  }

  get keys() {
    return blueGreenKeys(this.inputs.state)
  }

  /**
   * dbt with `deploy: true`, so models build into the green schemas and clusters. The macro
   * operations (deploy_init, deploy_promote) keep production's vars: under `deploy: true`,
   * dbt-materialize resolves the production cluster to the green one.
   */
  get greenDbt(): Dbt {
    const vars = { ...this.inputs.dbt.vars, deploy: true }
    this.green ??= this.clients.dbt.withVars?.(vars, this.greenTargetPath) ?? this.clients.dbt
    return this.green
  }

  /** Where green's invocations keep their artifacts and partial parse state, inside the project's target path. */
  get greenTargetPath(): string {
    return path.join(this.project.targetPath, 'dbt_deploy')
  }

  async step<T>(name: string, action: () => Promise<T>): Promise<T> {
    const started = Date.now()
    try {
      const result = await core.group(name, action)
      this.timeline.push({ step: name, seconds: (Date.now() - started) / 1000, outcome: 'ok' })
      return result
    } catch (error) {
      this.timeline.push({ step: name, seconds: (Date.now() - started) / 1000, outcome: 'failed' })
      throw error
    }
  }

  async dbtOk(
    dbt: Dbt,
    command: string,
    args: string[],
    what: string,
    options: DbtRunOptions = {}
  ): Promise<void> {
    const { timeoutMs } = options
    const result = await dbt.run(command, args, options)
    if (result.timedOut)
      throw new ActionError(`${what} did not finish within ${(timeoutMs ?? 0) / 1000} s.`)
    if (result.exitCode !== 0)
      throw new ActionError(
        `${what} failed (dbt exit ${result.exitCode}). dbt said:\n${result.tail}`
      )
  }

  /** Success on this run's deployment; the ones it supersedes go inactive. */
  async recordPromoted(what = 'Promoted.'): Promise<void> {
    const environmentUrl = this.inputs.report.environmentUrl
    const hydrated = this.hydration
      ? ` Green hydrated in ${this.hydration.seconds.toFixed(0)} s.`
      : ''
    await this.deployment.succeed(this.environment, {
      description: `${what}${hydrated}`,
      environmentUrl
    })
    if (environmentUrl) core.setOutput('environment-url', environmentUrl)
  }

  async lock(): Promise<void> {
    const { blueGreen } = this.inputs
    this.lease = await S3Lease.acquire(this.clients.store, this.keys.lock, {
      owner: `${this.context.owner}/${this.context.repo} run ${process.env.GITHUB_RUN_ID ?? 'local'} (${this.inputs.phase})`,
      runUrl: this.context.runUrl,
      ttlMs: blueGreen.lockTtlMs,
      timeoutMs: blueGreen.lockTimeoutMs,
      pollMs: Math.min(5000, Math.max(500, blueGreen.lockTimeoutMs / 10)),
      sleep: (ms) => sleep(ms, cancelled)
    })
    recordCreated({ kind: 'lock', key: this.lease.key, nonce: this.lease.holder.nonce })
    // Another run owns what it locks once it took the lease over: stop at once, as a cancel does.
    this.stopRenewing = this.lease.keepAlive((lost) => void abortRun(lost, 'Lost the deploy lock'))
  }

  /** Renews the lease now: a run that lost it fails here, before it touches anything more. */
  async verifyLease(): Promise<void> {
    if (!this.lease) throw new Error('the deploy lock is not held')
    await this.lease.renew()
  }

  async unlock(): Promise<void> {
    this.stopRenewing?.()
    const lease = this.lease
    if (lease && !(await lease.release())) {
      core.warning(
        `The deploy lock ${lease.key} was no longer ours when this run released it: it expired, and another run may have taken it over. Check that run before deploying again.`
      )
    }
    this.lease = undefined
    forgetCreated('lock')
  }

  /** Fails unless every production schema and cluster exists. */
  async requireProduction(): Promise<void> {
    const wanted = productionNames(this.config)
    const found = await existingNames(await this.warehouse(), wanted)
    const missing = [
      ...wanted.schemas.filter((s) => !found.schemas.includes(s)).map((s) => `schema "${s}"`),
      ...wanted.clusters.filter((c) => !found.clusters.includes(c)).map((c) => `cluster "${c}"`)
    ]
    if (missing.length > 0) {
      throw new ActionError(
        `Production ${missing.join(', ')} from vars.deployment.${this.config.target} does not exist. Create production first (a normal dbt run), then deploy blue/green.`
      )
    }
  }

  /** Green names that exist right now. */
  async existingGreen() {
    return existingNames(await this.warehouse(), greenNames(this.config))
  }

  async dropGreen(): Promise<void> {
    await dropEnvironment(await this.warehouse(), greenNames(this.config), 'exact')
  }

  /** A cancelled run exits after its undo: the check and the deployment say so first. */
  private async undoCancelled(): Promise<void> {
    await this.undo()
    await this.hydrationCheck?.conclude('cancelled', 'The run was cancelled.')
    await this.deployment.status('failure', { description: 'The run was cancelled.' })
  }

  private undoing?: Promise<void>

  /** Undo what this run created (failure or cancellation, possibly both at once), then forget it. */
  undo(): Promise<void> {
    this.undoing ??= this.undoOnce()
    return this.undoing
  }

  private async undoOnce(): Promise<void> {
    this.stopRenewing?.()
    const resources = recordedHere().filter(
      (r) => r.kind !== 'green' || this.inputs.blueGreen.cleanupOnFailure
    )
    const left = await undoResources(resources, {
      store: () => Promise.resolve(this.clients.store),
      warehouse: () => this.warehouse()
    })
    forgetCreated('green')
    forgetCreated('swap')
    forgetCreated('lock')
    // What could not be undone stays recorded: the post step retries it.
    const retried = left.filter((r) => r.kind !== 'directory')
    retried.forEach(recordCreated)
    if (retried.some((r) => r.kind !== 'swap'))
      this.notes.push(
        `Could not undo ${retried
          .filter((r) => r.kind !== 'swap')
          .map(describeResource)
          .join('; ')}: the post step retries.`
      )
  }

  async close(): Promise<void> {
    this.stopRenewing?.()
    this.clients.store.close()
    await Promise.all([this.green?.close?.(), this.clients.dbt.close?.()])
    // A connection that failed to open has nothing to close.
    const warehouse = await this.connection?.catch(() => undefined)
    await warehouse?.close()
  }
}

// phase: status — what exists now: production, what the *_dbt_deploy names hold (a staged deploy
// or the previous production kept for rollback) and who holds the deploy lock. It takes no lock
// and changes nothing, so it can run at any time, even while a deploy holds the lock.
import * as core from '@actions/core'
import { GIT_SHA, manifestKey } from '../../store/layout.js'
import { parseLease } from '../../store/lock.js'
import type { PreviousProduction } from '../../store/records.js'
import { cell } from '../../report/markdown.js'
import { existingNames, productionNames } from '../catalog.js'
import { greenOccupant, readGreenRecords } from '../lifecycle.js'
import type { BlueGreenRun } from '../run.js'

export interface DeploymentState {
  production: {
    schemas: string[]
    clusters: string[]
    /** Configured production schemas and clusters that do not exist. */
    missing: string[]
    /** The commit of the published production manifest; null when none was published. */
    manifestSha: string | null
  }
  green: {
    holds: 'nothing' | 'staged' | 'kept-previous' | 'unrecorded'
    schemas: string[]
    clusters: string[]
  }
  staged: { sha: string; stagedAt: string; runUrl?: string } | null
  previous: PreviousProduction | null
  lock:
    | { owner: string; runUrl?: string; acquiredAt: string; expiresAt: string; expired: boolean }
    | { unreadable: true }
    | null
}

async function lockHolder(run: BlueGreenRun, now: number): Promise<DeploymentState['lock']> {
  const object = await run.clients.store.get(run.keys.lock)
  if (!object) return null
  const lease = parseLease(object.body)
  if (!lease) return { unreadable: true }
  const { owner, runUrl, acquiredAt, expiresAt } = lease
  return { owner, runUrl, acquiredAt, expiresAt, expired: Date.parse(expiresAt) <= now }
}

export async function readDeploymentState(run: BlueGreenRun): Promise<DeploymentState> {
  const wanted = productionNames(run.config)
  const found = await existingNames(await run.warehouse(), wanted)
  const missing = [
    ...wanted.schemas.filter((s) => !found.schemas.includes(s)),
    ...wanted.clusters.filter((c) => !found.clusters.includes(c))
  ]
  const manifest = await run.clients.store.get(manifestKey(run.inputs.state))
  const records = await readGreenRecords(run)
  const green = await run.existingGreen()
  const { staged, previous } = records
  return {
    production: { ...found, missing, manifestSha: manifest?.metadata[GIT_SHA] ?? null },
    green: { holds: greenOccupant(records, green).kind, ...green },
    staged: staged ? { sha: staged.sha, stagedAt: staged.stagedAt, runUrl: staged.runUrl } : null,
    previous: previous ?? null,
    lock: await lockHolder(run, Date.now())
  }
}

const code = (names: string[]): string => names.map((n) => `\`${cell(n)}\``).join(', ') || '–'

function lockRow(lock: DeploymentState['lock']): string {
  if (!lock) return 'free'
  if ('unreadable' in lock)
    return 'an object this action did not write (taken over by the next deploy)'
  const run = lock.runUrl ? ` (${cell(lock.runUrl)})` : ''
  const state = lock.expired ? 'expired' : 'expires'
  return `held by ${cell(lock.owner)}${run} since ${lock.acquiredAt}, ${state} ${lock.expiresAt}`
}

function previousRow(previous: PreviousProduction): string {
  const how = previous.keptBy === 'rollback' ? 'rolled back to' : 'replaced by'
  return `commit \`${cell(previous.sha ?? 'unknown')}\`, ${how} \`${cell(previous.replacedBy ?? 'unknown')}\`, kept ${previous.keptAt}`
}

/** The state as a Markdown table for the job summary. */
export function stateSection(state: DeploymentState): string {
  const { production, green, staged, previous } = state
  const missing = production.missing.length > 0 ? `; missing: ${code(production.missing)}` : ''
  const rows: Array<[string, string]> = [
    [
      'Production',
      `${code([...production.schemas, ...production.clusters])}${missing}; manifest of commit \`${cell(production.manifestSha ?? 'none published')}\``
    ],
    ['Green names hold', `${green.holds}: ${code([...green.schemas, ...green.clusters])}`],
    [
      'Staged deploy',
      staged
        ? `commit \`${cell(staged.sha)}\`, staged ${staged.stagedAt}${staged.runUrl ? ` by ${cell(staged.runUrl)}` : ''}`
        : 'none'
    ],
    ['Kept previous', previous ? previousRow(previous) : 'none'],
    ['Deploy lock', lockRow(state.lock)]
  ]
  return [
    '### Deployment state',
    '',
    '| | |',
    '| --- | --- |',
    ...rows.map(([what, value]) => `| ${what} | ${value} |`)
  ].join('\n')
}

export async function statusPhase(run: BlueGreenRun): Promise<string> {
  const state = await run.step('Read deployment state', () => readDeploymentState(run))
  core.setOutput('state', JSON.stringify(state))
  core.info(JSON.stringify(state, null, 2))
  run.sections.push(stateSection(state))
  return 'reported'
}

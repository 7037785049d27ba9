// Green against production, before the promote: the models this deploy changes, each read in
// the green schemas and in production's, on a green cluster (never production's).
import * as core from '@actions/core'
import { InputError } from '../errors.js'
import type { DiffSettings } from '../diff/model.js'
import type { DeploymentConfig } from './config.js'
import { changedModels, inferKey, readDiffManifest, withDownstream } from '../diff/manifest.js'
import { runDiff } from '../diff/index.js'
import { gateError } from '../diff/gate.js'
import { diffResult } from '../diff/render.js'
import type { DiffPair } from '../diff/model.js'
import { green } from './config.js'
import { greenNames } from './catalog.js'
import type { BlueGreenRun } from './run.js'
import { manifestKey } from '../store/layout.js'

/** The diff reads on a green cluster or one the user names, never on production's. */
export function checkDiffCluster(settings: DiffSettings, config: DeploymentConfig): void {
  if (settings.mode === 'off' || !settings.cluster || !config.clusters.includes(settings.cluster))
    return
  throw new InputError(
    'diff-cluster',
    `is "${settings.cluster}", a production cluster of vars.deployment.${config.target}; accepted: another cluster, such as the default, green's "${greenNames(config).clusters[0]}".`
  )
}

function greenPairs(run: BlueGreenRun, productionManifest: string, published?: string): DiffPair[] {
  const settings = run.inputs.diff
  const current = readDiffManifest(productionManifest, "production's manifest")
  const previous = published ? readDiffManifest(published, 'the published manifest') : undefined
  const changed = changedModels(current, previous)
  const ids = settings.downstream ? withDownstream(current, changed) : changed
  return ids
    .map((id) => current.models.get(id)!)
    .filter((model) => run.config.schemas.includes(model.relation.schema))
    .map((model) => ({
      model: model.name,
      blue: model.relation,
      green: { ...model.relation, schema: green(model.relation.schema) },
      key: inferKey(current, model, settings.keys)
    }))
}

/**
 * Diffs green against production and records the report on the run; in gate mode a breach
 * then fails the run before the promote, as a failed test does.
 */
export async function diffGreen(
  run: BlueGreenRun,
  productionManifest: string,
  published: string | undefined
): Promise<void> {
  const settings = run.inputs.diff
  const pairs = greenPairs(run, productionManifest, published)
  const cluster = settings.cluster ?? greenNames(run.config).clusters[0]
  run.diff = await runDiff(
    settings,
    pairs,
    run.clients.connect,
    { blue: 'production', green: 'green' },
    cluster
  )
  core.setOutput('diff-result', diffResult(run.diff))
  const blocked = gateError(run.diff, settings)
  if (blocked) throw blocked
}

type Rows = { blue: number; green: number }

/** Row counts by model from the deploy phase's `diff-result`; what is not such a count is left out. */
function stagedRows(text: string, where: string): Map<string, Rows> {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    core.warning(
      `The staged data diff at ${where} is not valid JSON; the changes since "phase: deploy" are not shown.`
    )
    return new Map()
  }
  const objects = (parsed as { objects?: unknown })?.objects
  const rows = new Map<string, Rows>()
  for (const o of Array.isArray(objects) ? (objects as Array<Record<string, unknown>>) : []) {
    const r = o?.rows as Partial<Rows> | undefined
    if (typeof o?.model === 'string' && typeof r?.blue === 'number' && typeof r.green === 'number')
      rows.set(o.model, { blue: r.blue, green: r.green })
  }
  return rows
}

/**
 * `phase: promote`: diffs the staged green again, as production is now, and notes the row
 * counts that moved since `phase: deploy` diffed it.
 */
export async function diffStagedGreen(run: BlueGreenRun, stagedManifest: string): Promise<void> {
  const { store } = run.clients
  const published = await store.get(manifestKey(run.inputs.state))
  const staged = await store.get(run.keys.stagedDiff)
  try {
    await diffGreen(run, stagedManifest, published?.body)
  } finally {
    const before = staged ? stagedRows(staged.body, run.keys.stagedDiff) : new Map<string, Rows>()
    for (const o of run.diff?.objects ?? []) {
      const then = before.get(o.model)
      if (then && o.rows && (then.blue !== o.rows.blue || then.green !== o.rows.green))
        run.notes.push(
          `Data diff of ${o.model} since "phase: deploy": production ${then.blue} → ${o.rows.blue} rows, green ${then.green} → ${o.rows.green}.`
        )
    }
  }
}

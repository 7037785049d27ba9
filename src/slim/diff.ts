// The pull request's environment against production: the models the PR modifies (and, when
// asked, those downstream), each read where the PR built it and where production has it.
import * as core from '@actions/core'
import { readFileSync } from 'node:fs'
import type { SlimBuildInputs } from '../inputs.js'
import type { DbtProject } from '../dbt/project.js'
import { maskedProfileTarget } from '../dbt/masking.js'
import { dbtEnvironment } from '../environment.js'
import { inferKey, readDiffManifest } from '../diff/manifest.js'
import { runDiff } from '../diff/index.js'
import { diffResult } from '../diff/render.js'
import type { DiffPair, DiffReport } from '../diff/model.js'
import type { ReportedNode } from '../report/model.js'
import type { ConnectWarehouse } from '../warehouse/pg.js'

function prPairs(
  inputs: SlimBuildInputs,
  nodes: ReportedNode[],
  productionManifest: string,
  prManifest: string
): DiffPair[] {
  const production = readDiffManifest(
    readFileSync(productionManifest, 'utf8'),
    'the production manifest'
  )
  const pr = readDiffManifest(readFileSync(prManifest, 'utf8'), "the pull request's manifest")
  const wanted = new Set([
    'modified',
    ...(inputs.diff.downstream ? ['downstream of a change'] : [])
  ])
  return nodes
    .filter((node) => wanted.has(node.reason))
    .flatMap((node) => {
      const blue = production.models.get(node.uniqueId)
      const green = pr.models.get(node.uniqueId)
      if (!blue || !green) return []
      const key = inferKey(pr, green, inputs.diff.keys)
      return [{ model: green.name, blue: blue.relation, green: green.relation, key }]
    })
}

/** Diffs the models the PR changed; the `diff-result` output is set, the gate is the caller's. */
export async function diffPullRequest(
  inputs: SlimBuildInputs,
  project: DbtProject,
  environment: string,
  files: { production: string; pr: string },
  nodes: ReportedNode[],
  connect: ConnectWarehouse
): Promise<DiffReport> {
  const pairs = prPairs(inputs, nodes, files.production, files.pr)
  const target = maskedProfileTarget(inputs.dbt, project, dbtEnvironment(environment), 'Data diff')
  const report = await runDiff(
    inputs.diff,
    pairs,
    () => connect(target),
    { blue: 'production', green: environment },
    inputs.diff.cluster
  )
  core.setOutput('diff-result', diffResult(report))
  return report
}

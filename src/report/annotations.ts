// Error annotations on the source files of failed models and tests, within GitHub's limit.
import * as core from '@actions/core'
import type { ReportedNode } from './model.js'
import { failed } from './model.js'
import { redact } from '../secrets.js'

/**
 * GitHub shows 10 error annotations per step and drops the rest. One is kept for the step's
 * own failure message, and one for the line that says how many failures were left out.
 */
export const ERROR_ANNOTATIONS = 10
const NODE_ANNOTATIONS = ERROR_ANNOTATIONS - 2

/** What a reader fixes first: what was built before what checked it, seeds and snapshots with models. */
const TYPE_RANK: Record<string, number> = { model: 0, seed: 0, snapshot: 0, test: 2, unit_test: 2 }

/** Failures by type rank, then in the order dbt ran them (sort is stable). */
export function rankFailures(nodes: ReportedNode[]): ReportedNode[] {
  return nodes
    .filter(failed)
    .sort((a, b) => (TYPE_RANK[a.resourceType] ?? 1) - (TYPE_RANK[b.resourceType] ?? 1))
}

export function annotateFailures(nodes: ReportedNode[] = []): void {
  const failures = rankFailures(nodes)
  const shown =
    failures.length > NODE_ANNOTATIONS + 1 ? failures.slice(0, NODE_ANNOTATIONS) : failures
  for (const node of shown) {
    const message = redact(node.message ?? `${node.resourceType} ${node.name} ${node.status}`)
    core.error(message, { title: `dbt ${node.status}: ${node.uniqueId}`, file: node.file })
  }
  const left = failures.length - shown.length
  if (left > 0)
    core.error(
      `${left} more failed node(s) are not annotated (GitHub shows ${ERROR_ANNOTATIONS} error annotations per step): the job summary lists every failure.`,
      { title: `dbt: ${left} more failure(s)` }
    )
}

// The job summary, written once at the end of a run and kept under GitHub's 1 MiB limit.
import * as core from '@actions/core'
import type { RunReport } from './model.js'
import { factsList, failuresSection, nodesTable, NODES_ELSEWHERE } from './markdown.js'
import { redact } from '../secrets.js'

const SUMMARY_LIMIT = 1_000_000
const NODE_ROWS = 2000

export function renderSummary(report: RunReport): string {
  const parts = [
    `## ${report.title}: ${report.status}`,
    redact(report.headline),
    factsList(report),
    ...report.notes.map((note) => `> ${redact(note)}`),
    ...[...(report.sections ?? []), ...(report.sharedSections ?? [])].map(redact),
    ...(report.nodes
      ? [
          `### Nodes (${report.nodes.length})`,
          nodesTable(report.nodes, NODE_ROWS, NODES_ELSEWHERE.summary)
        ]
      : []),
    failuresSection(report.nodes ?? [], 50)
  ]
  const markdown = parts.filter((part) => part !== '').join('\n\n') + '\n'
  return markdown.length > SUMMARY_LIMIT
    ? `${markdown.slice(0, SUMMARY_LIMIT - 200)}\n\n…(truncated at GitHub's summary size limit; ${NODES_ELSEWHERE.summary})\n`
    : markdown
}

export async function writeSummary(report: RunReport): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY) return
  await core.summary.addRaw(renderSummary(report)).write()
}

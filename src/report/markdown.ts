// Markdown rendering shared by the job summary and the PR comment.
import type { ReportedNode, RunReport } from './model.js'
import { failed } from './model.js'
import { redact } from '../secrets.js'

const STATUS_ICONS: Record<string, string> = {
  success: '✅',
  pass: '✅',
  error: '❌',
  fail: '❌',
  'runtime error': '❌',
  warn: '⚠️',
  skipped: '⏭️'
}

export function cell(text: string): string {
  return redact(text).replace(/\|/g, '\\|').replace(/</g, '&lt;').replace(/\r?\n/g, ' ')
}

function nodeRow(node: ReportedNode): string {
  const icon = STATUS_ICONS[node.status] ?? '•'
  return `| ${icon} ${cell(node.status)} | \`${cell(node.uniqueId)}\` | ${cell(node.reason)} | ${node.seconds.toFixed(1)} s |`
}

/** Where the nodes a table leaves out are listed, named by the table's reader. */
export const NODES_ELSEWHERE = {
  comment: 'see the job summary',
  summary: "dbt's run_results.json (the `run-results` output) lists them all"
}

export function nodesTable(nodes: ReportedNode[], limit: number, elsewhere: string): string {
  if (nodes.length === 0) return '_No nodes were run._'
  const rows = nodes.slice(0, limit).map(nodeRow)
  const more = nodes.length > limit ? `\n\n…and ${nodes.length - limit} more (${elsewhere}).` : ''
  return ['| Status | Node | Why | Time |', '| --- | --- | --- | --- |', ...rows].join('\n') + more
}

export function failuresSection(nodes: ReportedNode[], limit: number): string {
  const failures = nodes.filter(failed)
  if (failures.length === 0) return ''
  const items = failures.slice(0, limit).map((node) => {
    const where = node.file ? ` (\`${cell(node.file)}\`)` : ''
    const message = redact(node.message ?? 'no message')
      .trim()
      .slice(0, 2000)
    return `<details><summary><code>${cell(node.uniqueId)}</code>${where}</summary>\n\n\`\`\`\n${message.replace(/```/g, "'''")}\n\`\`\`\n</details>`
  })
  return `### Failures (${failures.length})\n\n${items.join('\n')}`
}

export function factsList(report: RunReport): string {
  return report.facts.map(([key, value]) => `- **${cell(key)}:** ${redact(value)}`).join('\n')
}

// The diff as Markdown (summary and PR comment) and as the `diff-result` output.
import { cell } from '../report/markdown.js'
import { rowChangePercent } from './gate.js'
import type { DiffReport, ObjectDiff, SampleRow, SchemaChange } from './model.js'

const STATUS_ICONS: Record<ObjectDiff['status'], string> = {
  compared: '🔍',
  new: '🆕',
  'not-compared': '⏭️',
  error: '❌'
}

export function describeSchema(schema: SchemaChange | undefined): string {
  if (!schema) return '–'
  const parts = [
    ...schema.added.map((c) => `+${c.name}`),
    ...schema.removed.map((c) => `−${c.name}`),
    ...schema.retyped.map((c) => `${c.name}: ${c.from} → ${c.to}`),
    ...(schema.reordered ? ['reordered'] : [])
  ]
  return parts.length > 0 ? parts.join(', ') : 'same'
}

const signed = (value: number): string => `${value > 0 ? '+' : ''}${value.toFixed(1)}%`

function rowsCells(diff: ObjectDiff): string[] {
  if (!diff.rows) return ['–', '–']
  const { blue, green } = diff.rows
  const delta =
    blue === 0 ? (green === 0 ? '0.0%' : 'new rows') : signed((100 * (green - blue)) / blue)
  return [`${blue} → ${green}`, delta]
}

function differenceCells(diff: ObjectDiff): string[] {
  const found = diff.key ?? diff.rowSet
  if (!found) return ['–', '–', '–']
  return [
    String(found.onlyBlue),
    String(found.onlyGreen),
    diff.key ? String(diff.key.changed) : 'no key'
  ]
}

/** A breach blocks in gate mode and only warns in report mode. */
const breachIcon = (mode: DiffReport['mode']): string => (mode === 'gate' ? '⛔' : '⚠️')

function row(diff: ObjectDiff, mode: DiffReport['mode']): string {
  const status = diff.breaches.length > 0 ? breachIcon(mode) : STATUS_ICONS[diff.status]
  const cells = [
    `${status} \`${cell(diff.green)}\``,
    diff.status === 'compared'
      ? cell(describeSchema(diff.schema))
      : cell(diff.reason ?? diff.status),
    ...rowsCells(diff),
    ...differenceCells(diff)
  ]
  return `| ${cells.join(' | ')} |`
}

function sampleTable(rows: SampleRow[]): string[] {
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))]
  const value = (v: string | null | undefined) => (v === null || v === undefined ? '∅' : cell(v))
  return [
    `| ${columns.map(cell).join(' | ')} |`,
    `| ${columns.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${columns.map((c) => value(r[c])).join(' | ')} |`)
  ]
}

function details(diff: ObjectDiff, { labels, mode }: DiffReport): string[] {
  const lines: string[] = []
  if (diff.key) {
    const columns = Object.entries(diff.key.changedColumns).map(([c, n]) => `\`${cell(c)}\` (${n})`)
    lines.push(
      `**\`${cell(diff.model)}\`** on key ${diff.key.columns.map((c) => `\`${cell(c)}\``).join(', ')} (${diff.key.source})` +
        (columns.length > 0 ? `: changed columns ${columns.join(', ')}` : '')
    )
  } else if (diff.rowSet) {
    lines.push(
      `**\`${cell(diff.model)}\`**: no key, compared as whole rows of the columns on both sides${diff.reason ? ` (${cell(diff.reason)})` : ''}`
    )
  }
  if (diff.breaches.length > 0)
    lines.push(`${breachIcon(mode)} ${diff.breaches.map(cell).join('; ')}`)
  if (diff.sample && diff.sample.length > 0) {
    lines.push('', ...sampleTable(diff.sample.map((r) => relabel(r, labels))))
  }
  return lines.length > 0 ? [...lines, ''] : []
}

/** Sample columns name the sides as the report does ("production", "green"). */
function relabel(row: SampleRow, labels: DiffReport['labels']): SampleRow {
  return Object.fromEntries(
    Object.entries(row).map(([name, value]) => [
      name.replace(/ \(blue\)$/, ` (${labels.blue})`).replace(/ \(green\)$/, ` (${labels.green})`),
      typeof value === 'string'
        ? value
            .replace(/^only in blue$/, `only in ${labels.blue}`)
            .replace(/^only in green$/, `only in ${labels.green}`)
        : value
    ])
  )
}

export function renderDiff(report: DiffReport): string {
  if (report.objects.length === 0) return ''
  const { blue, green } = report.labels
  const compared = report.objects.filter((o) => o.status === 'compared').length
  return [
    `### Data diff: ${cell(blue)} → ${cell(green)}`,
    '',
    `${compared} of ${report.objects.length} object(s) compared in ${report.seconds.toFixed(1)} s ("diff: ${report.mode}")${report.timedOut ? ', cut short by "diff-timeout"' : ''}.`,
    '',
    `| Object | Schema Δ | Rows ${cell(blue)} → ${cell(green)} | Δ% | Only ${cell(blue)} | Only ${cell(green)} | Changed |`,
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...report.objects.map((o) => row(o, report.mode)),
    '',
    ...report.objects.flatMap((o) => details(o, report))
  ]
    .join('\n')
    .trimEnd()
}

/** The `diff-result` output: the report with each object's row change in percent. */
export function diffResult(report: DiffReport): string {
  return JSON.stringify({
    ...report,
    objects: report.objects.map((o) => ({ ...o, rowChangePercent: rowChangePercent(o) }))
  })
}

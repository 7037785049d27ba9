// The gate: what makes a diff block the promote ("diff: gate") or warn ("diff: report").
import * as core from '@actions/core'
import { ActionError } from '../errors.js'
import { schemaChanged } from './compare.js'
import type { DiffReport, DiffSettings, ObjectDiff } from './model.js'

/** Differing rows in percent of the production side's (of the new side's when production is empty). */
export function rowChangePercent(diff: ObjectDiff): number | undefined {
  if (!diff.rows) return undefined
  const differing = diff.key
    ? diff.key.onlyBlue + diff.key.onlyGreen + diff.key.changed
    : diff.rowSet
      ? diff.rowSet.onlyBlue + diff.rowSet.onlyGreen
      : Math.abs(diff.rows.green - diff.rows.blue)
  const base = diff.rows.blue || diff.rows.green
  return base === 0 ? 0 : (100 * differing) / base
}

export function breaches(diff: ObjectDiff, settings: DiffSettings): string[] {
  const found: string[] = []
  if (diff.schema && schemaChanged(diff.schema) && !settings.allowSchemaChange)
    found.push('its columns changed ("diff-allow-schema-change: false")')
  const percent = rowChangePercent(diff)
  if (percent !== undefined && percent > settings.maxRowChangePercent)
    found.push(
      `${percent.toFixed(1)}% of its rows differ, more than "diff-max-row-change" (${settings.maxRowChangePercent}%)`
    )
  if (diff.status === 'error') found.push(`it could not be compared: ${diff.reason}`)
  return found
}

/** Why the diff fails the run in gate mode; in report mode the same problems are warnings. */
export function gateError(report: DiffReport, settings: DiffSettings): ActionError | undefined {
  const problems = report.objects
    .filter((o) => o.breaches.length > 0)
    .map((o) => `${o.model} (${o.green}): ${o.breaches.join('; ')}`)
  if (report.timedOut) {
    const done = report.objects.filter((o) => o.status === 'compared').map((o) => o.model)
    problems.push(
      `"diff-timeout" (${settings.timeoutMs / 1000} s) ran out; compared: ${done.join(', ') || 'none'}`
    )
  }
  if (problems.length === 0) return undefined
  if (settings.mode === 'gate')
    return new ActionError(`The data diff stopped the run ("diff: gate"): ${problems.join('. ')}.`)
  for (const problem of problems) core.warning(`Data diff: ${problem}.`)
  return undefined
}

// The selection as step outputs. GitHub keeps at most 1 MB of outputs per job, and a build of
// tens of thousands of nodes lists more than that, so the list output is capped and the full
// list goes to a file whose path is an output.
import * as core from '@actions/core'
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import type { NodeResult } from '../dbt/artifacts.js'

/** Half of the job's 1 MB, leaving the rest to the other outputs. */
export const SELECTED_LIMIT = 500_000

/** The longest JSON list of leading ids within `limit` characters. */
export function cappedJsonList(ids: string[], limit: number): { json: string; truncated: boolean } {
  let length = 2 // the brackets
  let kept = 0
  for (const id of ids) {
    const next = length + JSON.stringify(id).length + (kept > 0 ? 1 : 0)
    if (next > limit) break
    length = next
    kept++
  }
  return { json: JSON.stringify(ids.slice(0, kept)), truncated: kept < ids.length }
}

/** `selected-count`, `selected`, `selected-truncated`, and with dbt's target dir the files. */
export function setSelectionOutputs(results: NodeResult[], targetDir?: string): void {
  const ids = results.map((result) => result.uniqueId)
  const { json, truncated } = cappedJsonList(ids, SELECTED_LIMIT)
  core.setOutput('selected-count', String(ids.length))
  core.setOutput('selected', json)
  core.setOutput('selected-truncated', String(truncated))
  if (truncated)
    core.info(
      `The "selected" output lists the first ${(JSON.parse(json) as string[]).length} of ${ids.length} nodes (GitHub's output limit); "selected-file" has them all.`
    )
  if (!targetDir) return
  mkdirSync(targetDir, { recursive: true })
  const file = path.join(targetDir, 'selected.json')
  writeFileSync(file, JSON.stringify(ids))
  core.setOutput('selected-file', file)
  core.setOutput('run-results', path.join(targetDir, 'run_results.json'))
}

// Everything a finished run reports: annotations, the job summary and the PR comment.
import * as core from '@actions/core'
import type { RunContext } from '../context.js'
import type { ReportSettings } from '../inputs.js'
import type { RunReport } from './model.js'
import { annotateFailures } from './annotations.js'
import { publishComment } from './comment.js'
import { writeSummary } from './summary.js'

export async function reportRun(
  report: RunReport,
  settings: ReportSettings,
  context: RunContext,
  mode: string
): Promise<void> {
  await core.group('Report', async () => {
    annotateFailures(report.nodes)
    await writeSummary(report)
    await publishComment(settings, context, report, mode)
  })
}

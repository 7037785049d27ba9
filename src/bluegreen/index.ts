// Blue/green mode: opens the run, runs one phase, reports, and undoes what a failed or
// cancelled run created.
import * as core from '@actions/core'
import type { BlueGreenInputs } from '../inputs.js'
import type { RunContext } from '../context.js'
import { errorMessage } from '../errors.js'
import { reportRun } from '../report/index.js'
import { cell } from '../report/markdown.js'
import { redact } from '../secrets.js'
import { BlueGreenRun, realDependencies, type BlueGreenDependencies } from './run.js'
import { describeReadiness } from './readiness.js'
import { renderPlan } from './plan.js'
import { renderDiff } from '../diff/render.js'

export type BlueGreenPhaseRunner = (run: BlueGreenRun) => Promise<string>

function timelineSection(run: BlueGreenRun): string {
  if (run.timeline.length === 0) return ''
  const rows = run.timeline.map(
    (t) => `| ${t.outcome === 'ok' ? '✅' : '❌'} ${cell(t.step)} | ${t.seconds.toFixed(1)} s |`
  )
  return ['### Timeline', '', '| Step | Duration |', '| --- | --- |', ...rows].join('\n')
}

function hydrationSection(run: BlueGreenRun): string {
  const samples = run.hydration?.samples ?? []
  if (samples.length === 0) return ''
  // Keep the table short: the first sample, every change, and the last.
  const shown = samples.filter(
    (s, i) =>
      i === 0 ||
      i === samples.length - 1 ||
      JSON.stringify(s.clusters) !== JSON.stringify(samples[i - 1]?.clusters)
  )
  const rows = shown.flatMap((s) =>
    s.clusters.map(
      (c) =>
        `| ${s.at.toFixed(1)} s | ${cell(c.cluster)} | ${c.status} | ${c.hydrated}/${c.total} | ${c.maxLagSeconds?.toFixed(1) ?? '–'} s |`
    )
  )
  return [
    '### Hydration',
    '',
    '| At | Cluster | Status | Hydrated | Max lag |',
    '| --- | --- | --- | --- | --- |',
    ...rows.slice(0, 400)
  ].join('\n')
}

/** The cutover plan of a promote; a rollback has only its swap. */
function planSection(run: BlueGreenRun): string {
  if (run.cutover) return renderPlan(run.cutover)
  return run.plan.length === 0
    ? ''
    : ['### Swap plan', '', '```sql', ...run.plan.map((s) => `${s};`), '```'].join('\n')
}

function facts(run: BlueGreenRun): Array<[string, string]> {
  const list: Array<[string, string]> = [
    ['Phase', `\`${run.inputs.phase}\``],
    ['Target', `\`${run.config.target}\``],
    ['Schemas', run.config.schemas.map((s) => `\`${s}\``).join(', ')],
    ['Clusters', run.config.clusters.map((c) => `\`${c}\``).join(', ')]
  ]
  if (run.hydration) list.push(['Hydration', `${run.hydration.seconds.toFixed(1)} s`])
  const final = run.hydration?.final ?? []
  if (final.length > 0) list.push(['Readiness', final.map(describeReadiness).join('; ')])
  return list
}

async function report(run: BlueGreenRun, status: string, error: unknown): Promise<void> {
  core.setOutput('status', status)
  if (run.cutover) core.setOutput('plan', JSON.stringify(run.cutover))
  const headline = error
    ? `Failed: ${errorMessage(error)}`
    : ({
        promoted: 'Green was promoted to production.',
        staged: 'Green is deployed, hydrated and validated; promote it with "phase: promote".',
        'cleaned-up': 'The green environment was dropped.',
        'rolled-back': 'The previous production is back.',
        planned: 'Dry run: the cutover plan below was not applied.',
        reported: 'What exists now, read without taking the deploy lock; nothing was changed.'
      }[status] ?? status)
  await reportRun(
    {
      title: 'dbt blue/green deploy',
      status,
      headline,
      facts: facts(run),
      notes: run.notes,
      sections: [...run.sections, timelineSection(run), hydrationSection(run)],
      sharedSections: [run.diff ? renderDiff(run.diff) : '', planSection(run)]
    },
    run.inputs.report,
    run.context,
    'blue-green'
  )
}

export async function runBlueGreen(
  inputs: BlueGreenInputs,
  context: RunContext,
  phase: BlueGreenPhaseRunner,
  deps: BlueGreenDependencies = realDependencies
): Promise<void> {
  core.setOutput('deployed', 'false')
  core.setOutput('promoted', 'false')
  const run = await BlueGreenRun.open(inputs, context, deps)
  try {
    const status = await phase(run)
    if (run.blockedDrop) throw run.blockedDrop
    await report(run, status, undefined)
  } catch (error) {
    await core.group('Undo this run', () => run.undo())
    await run.deployment.status('failure', { description: redact(errorMessage(error)) })
    await report(run, 'failed', error)
    throw error
  } finally {
    await run.close()
  }
}

// The bench's printed table (figures per size, then targets with PASS/MISS) and its JSON.
import { renderMarkdown, type Style } from '../demo/markdown.js'
import type { PollCost } from './poll.js'
import { evaluateTargets, ratio, type SizeFigures, type TargetResult } from './stats.js'

const num = (value: number | undefined, digits = 1): string =>
  value === undefined ? 'n/a' : value.toFixed(digits)

const times = (value: number | undefined): string =>
  value === undefined ? 'n/a' : `${value.toFixed(2)}×`

function figureRows(f: SizeFigures): string[] {
  const row = (name: string, action: string, recipe: string, r: string): string =>
    `| ${f.size} | ${name} | ${action} | ${recipe} | ${r} |`
  return [
    row(
      'P1 slim, one model changed (s)',
      num(f.p1Action),
      num(f.p1Recipe),
      times(ratio(f.p1Action, f.p1Recipe))
    ),
    row(
      'P2 slim, nothing selected (s)',
      num(f.p2Action),
      num(f.p2Recipe),
      times(ratio(f.p2Action, f.p2Recipe))
    ),
    row(
      'P3 hydrated → wait over (s)',
      num(f.p3Action, 2),
      num(f.p3Recipe, 2),
      times(ratio(f.p3Action, f.p3Recipe))
    ),
    row(
      'P4 full blue/green (s)',
      num(f.p4Action),
      num(f.p4Recipe),
      times(ratio(f.p4Action, f.p4Recipe))
    ),
    row(
      'P5 peak RSS, P1 / P4 (MB)',
      `${num(f.p5PeakRssMbP1, 0)} / ${num(f.p5PeakRssMbP4, 0)}`,
      '–',
      '–'
    ),
    row('P5 first log line (ms)', num(f.p5FirstLineMs, 0), '–', '–')
  ]
}

function targetRows(size: number, targets: TargetResult[]): string[] {
  return targets.map(
    (t) => `| ${size} | ${t.figure} | ${t.target} | ${t.measured} | **${t.verdict}** |`
  )
}

export function figuresMarkdown(all: SizeFigures[], reps: number): string {
  return [
    `### Medians of ${reps} repetition(s): the action vs the upstream recipe`,
    '',
    '| Models | Figure | Action | Recipe | Ratio |',
    '| ---: | --- | ---: | ---: | ---: |',
    ...all.flatMap(figureRows)
  ].join('\n')
}

export function targetsMarkdown(all: SizeFigures[]): string {
  return [
    '### Targets',
    '',
    '| Models | Figure | Target | Measured | Verdict |',
    '| ---: | --- | --- | --- | --- |',
    ...all.flatMap((f) => targetRows(f.size, evaluateTargets(f)))
  ].join('\n')
}

/** Plain sentences for every missed target, so a miss is never only a cell in a table. */
export function missedTargets(all: SizeFigures[]): string[] {
  return all.flatMap((f) =>
    evaluateTargets(f)
      .filter((t) => t.verdict === 'MISS')
      .map(
        (t) =>
          `MISSED at ${f.size} models: ${t.figure} (target ${t.target}), measured ${t.measured}.`
      )
  )
}

export function renderReport(all: SizeFigures[], reps: number, style: Style): string {
  const missed = missedTargets(all)
  const unjudged = all.flatMap((f) =>
    evaluateTargets(f)
      .filter((t) => t.verdict === 'n/a')
      .map((t) => `${t.figure} at ${f.size} models`)
  )
  const verdicts = [
    ...(missed.length === 0 ? ['No measured target was missed.'] : missed),
    ...(unjudged.length > 0
      ? [`Not judged: ${unjudged.join(', ')} (the memory target applies at ~1,000 models: --full).`]
      : [])
  ]
  return [
    renderMarkdown(figuresMarkdown(all, reps), style),
    '',
    renderMarkdown(targetsMarkdown(all), style),
    '',
    ...verdicts
  ].join('\n')
}

/** P6: one readiness poll, the action's and deploy_await's, side by side (wall time). */
export function pollMarkdown(cost: PollCost, style: Style): string {
  const ms = (value: number | undefined): string => (value === undefined ? 'n/a' : value.toFixed(1))
  return renderMarkdown(
    [
      `### P6 one readiness poll: ${cost.clusterObjects} objects on the cluster, ${cost.catalogObjects} in the catalog`,
      '',
      '| Figure | Action | deploy_await | Ratio |',
      '| --- | ---: | ---: | ---: |',
      `| median wall time per poll (ms) | ${ms(cost.actionMedianMs)} | ${ms(cost.upstreamMedianMs)} | ${times(ratio(cost.actionMedianMs, cost.upstreamMedianMs))} |`
    ].join('\n'),
    style
  )
}

// Pure arithmetic of the bench: medians, ratios, and the targets with PASS/MISS.

export function median(values: number[]): number | undefined {
  const finite = values.filter(Number.isFinite).sort((a, b) => a - b)
  if (finite.length === 0) return undefined
  const mid = Math.floor(finite.length / 2)
  return finite.length % 2 === 1 ? finite[mid]! : (finite[mid - 1]! + finite[mid]!) / 2
}

export function ratio(
  numerator: number | undefined,
  denominator: number | undefined
): number | undefined {
  if (numerator === undefined || denominator === undefined || denominator <= 0) return undefined
  return numerator / denominator
}

/** Hydration delays for `reps` repetitions, spread evenly over one 15 s poll period, so the
 * recipe's fixed-interval polling meets hydration at every phase (its expected latency is
 * half a period) instead of a lucky or unlucky one. */
export function hydrationDelays(reps: number, base = 2, period = 15): number[] {
  return Array.from({ length: reps }, (_, i) => base + (period * (i + 0.5)) / reps)
}

/** Medians of one project size, in seconds unless named otherwise. */
export interface SizeFigures {
  size: number
  p1Action?: number
  p1Recipe?: number
  p2Action?: number
  p2Recipe?: number
  p3Action?: number
  p3Recipe?: number
  p4Action?: number
  p4Recipe?: number
  p5PeakRssMbP1?: number
  p5PeakRssMbP4?: number
  p5FirstLineMs?: number
}

export type Verdict = 'PASS' | 'MISS' | 'n/a'

export interface TargetResult {
  figure: string
  target: string
  measured: string
  verdict: Verdict
}

const verdict = (value: number | undefined, limit: number): Verdict =>
  value === undefined ? 'n/a' : value <= limit ? 'PASS' : 'MISS'

const fixed = (value: number | undefined, digits: number, unit = ''): string =>
  value === undefined ? 'n/a' : `${value.toFixed(digits)}${unit}`

function ratioTarget(
  figure: string,
  action: number | undefined,
  recipe: number | undefined,
  limit: number,
  what: string
): TargetResult {
  const r = ratio(action, recipe)
  return {
    figure,
    target: `≤ ${limit}× ${what}`,
    measured: `${fixed(r, 2, '×')} (${fixed(action, 1, ' s')} vs ${fixed(recipe, 1, ' s')})`,
    verdict: verdict(r, limit)
  }
}

/** The issue's targets for one size. P5's memory target applies at about 1,000 models. */
export function evaluateTargets(f: SizeFigures): TargetResult[] {
  const results = [
    ratioTarget('P1', f.p1Action, f.p1Recipe, 1.05, 'the recipe'),
    ratioTarget('P2', f.p2Action, f.p2Recipe, 0.5, 'the recipe'),
    {
      figure: 'P3',
      target: 'median ≤ 1 s',
      measured: `${fixed(f.p3Action, 2, ' s')} (deploy_await: ${fixed(f.p3Recipe, 2, ' s')})`,
      verdict: verdict(f.p3Action, 1)
    },
    ratioTarget('P4', f.p4Action, f.p4Recipe, 0.8, 'the sequence'),
    {
      figure: 'P5 first line',
      target: '≤ 300 ms',
      measured: fixed(f.p5FirstLineMs, 0, ' ms'),
      verdict: verdict(f.p5FirstLineMs, 300)
    }
  ]
  const peak = Math.max(f.p5PeakRssMbP1 ?? -1, f.p5PeakRssMbP4 ?? -1)
  const peakValue = peak < 0 ? undefined : peak
  results.push({
    figure: 'P5 memory',
    target: f.size >= 900 ? '≤ 200 MB at ~1,000 models' : '≤ 200 MB (target set at ~1,000 models)',
    measured: `${fixed(peakValue, 0, ' MB')} (P1 ${fixed(f.p5PeakRssMbP1, 0)}, P4 ${fixed(f.p5PeakRssMbP4, 0)})`,
    verdict: f.size >= 900 ? verdict(peakValue, 200) : 'n/a'
  })
  return results
}

// Shared vocabulary of the slim-mode e2e tests: inputs, exit checks with readable failure
// output, and the canary-secret check every run must pass.
import { expect } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import type { StubComment } from '../../../dev/github-stub.js'
import { CANARY_PASSWORD, dbtBinary } from './paths.js'
import { profileEnv, type ActionRun, type Annotation } from './runner.js'
import { s3Endpoint } from './s3.js'
import type { Workspace } from './workspace.js'

export const TOKEN = 'ghs_e2eWorkflowToken1111111111111111'
export const MARKER = '<!-- dbt-materialize-deploy:slim -->'

/** What dbt prints when it parses the whole project instead of only what changed. */
export const FULL_PARSE = /Unable to do partial parsing|saved manifest not found/

export const ALL_MODELS = ['calendar', 'customers', 'orders', 'stg_customers', 'stg_orders']
export const ALL_RELATIONS = [...ALL_MODELS, 'raw_customers', 'raw_orders'].sort()

/** Typical slim-mode inputs for a workspace whose root is the fixture project. */
export function slimInputs(
  bucket: string,
  extra: Record<string, string> = {}
): Record<string, string> {
  return {
    mode: 'slim',
    'project-dir': '.',
    'profiles-dir': '.',
    target: 'pg',
    'state-uri': `s3://${bucket}/prod`,
    's3-endpoint': s3Endpoint(),
    'aws-region': 'us-east-1',
    'github-token': TOKEN,
    ...extra
  }
}

/** The manifest `dbt parse` writes for `workspace`'s HEAD (in a clone, leaving the workspace clean). */
export function parsedManifest(workspace: Workspace, env: Record<string, string> = {}): string {
  const clone = workspace.clone()
  try {
    execFileSync(dbtBinary, ['parse', '--profiles-dir', '.'], {
      cwd: clone.dir,
      env: { PATH: process.env.PATH, HOME: clone.dir, ...profileEnv(), ...env },
      stdio: 'pipe'
    })
    return readFileSync(path.join(clone.dir, 'target', 'manifest.json'), 'utf8')
  } finally {
    clone.cleanup()
  }
}

/** The fixture's models/marts/calendar.sql (Monday to Wednesday) with one more day. */
export function calendarWith(dayOfWeek: number, dayName: string): string {
  const days: Array<[number, string]> = [
    [1, 'Monday'],
    [2, 'Tuesday'],
    [3, 'Wednesday'],
    [dayOfWeek, dayName]
  ]
  return days
    .map(([n, name]) => `select ${n} as day_of_week, '${name}' as day_name\n`)
    .join('union all\n')
}

function transcript(run: ActionRun): string {
  const tail = (text: string): string => text.split('\n').slice(-80).join('\n')
  return `--- stdout (tail) ---\n${tail(run.stdout)}\n--- stderr (tail) ---\n${tail(run.stderr)}\n--- outputs ---\n${JSON.stringify(run.outputs, null, 2)}`
}

/** Asserts the exit code, showing the action's output when it differs. */
export function expectExit(run: ActionRun, code: number): void {
  if (run.exitCode !== code) {
    const how = run.timedOut ? 'timed out' : `got ${run.exitCode} (signal ${run.signal})`
    throw new Error(`expected exit code ${code}, ${how}\n${transcript(run)}`)
  }
}

export function errors(run: ActionRun): Annotation[] {
  return run.annotations.filter((a) => a.level === 'error')
}

export function annotationsOf(run: ActionRun, level: Annotation['level']): string {
  return run.annotations
    .filter((a) => a.level === level)
    .map((a) => a.message)
    .join('\n')
}

export function selectedIds(run: ActionRun): string[] {
  const raw = run.outputs.selected
  if (raw === undefined) throw new Error(`no "selected" output\n${transcript(run)}`)
  return JSON.parse(raw) as string[]
}

export function modelsIn(ids: string[]): string[] {
  return ids
    .filter((id) => id.startsWith('model.jaffle.'))
    .map((id) => id.slice('model.jaffle.'.length))
    .sort()
}

/** dbt ran in this project if it left its target/ directory behind. */
export function dbtRanIn(dir: string): boolean {
  return existsSync(path.join(dir, 'target'))
}

/**
 * The canary password may appear in stdout only on `::add-mask::` lines, and that mask must be
 * registered before dbt prints anything. Nowhere else: stderr, summary, outputs, state, env, comments.
 */
export function expectCanaryHidden(run: ActionRun, comments: StubComment[] = []): void {
  const lines = run.stdout.split('\n')
  const leaks = lines.filter((l) => l.includes(CANARY_PASSWORD) && !l.startsWith('::add-mask::'))
  expect(leaks).toEqual([])
  expect(run.stderr).not.toContain(CANARY_PASSWORD)
  expect(run.summary).not.toContain(CANARY_PASSWORD)
  expect(JSON.stringify(run.outputs)).not.toContain(CANARY_PASSWORD)
  expect(JSON.stringify(run.state)).not.toContain(CANARY_PASSWORD)
  expect(JSON.stringify(run.exportedEnv)).not.toContain(CANARY_PASSWORD)
  for (const comment of comments) expect(comment.body).not.toContain(CANARY_PASSWORD)
  const maskLine = lines.indexOf(`::add-mask::${CANARY_PASSWORD}`)
  const dbtStarts = lines.findIndex((l) => l.includes('Running with dbt='))
  if (maskLine >= 0 && dbtStarts >= 0) expect(maskLine).toBeLessThan(dbtStarts)
}

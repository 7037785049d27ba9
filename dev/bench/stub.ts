// P6: the action's own cost on a big project, with dbt replaced by a stub (passed as
// `dbt-path`) that answers the action's dbt invocations from artifacts prepared in advance.
// The production manifest in S3 and the stub's manifest and run results are synthetic (see
// synthetic.ts); the workspace is the small demo project, in git, with the bench's two PR
// branches. Two cases: a PR that changes only the README (the action skips dbt) and a PR whose
// build "ran" every node (the action reads, reports and comments on all of them).
import { PutObjectCommand } from '@aws-sdk/client-s3'
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { s3Client } from '../demo/services.js'
import type { GitWorkspace } from '../demo/workspace.js'
import { pullRequestEvent } from '../runner.js'
import { measureAction, type ActionMeasurement } from './measure.js'
import { BASE_MODELS, createBenchWorkspace, ONE_MODEL_BRANCH, README_BRANCH } from './project.js'
import { inTurn, sampleOf, type BenchContext } from './scenarios.js'
import { costFigures, median, type RunSample, type StubFigures } from './stats.js'
import { resultCount, SYNTHETIC_DBT_VERSION, writeManifest, writeRunResults } from './synthetic.js'

const PREFIX = 'stub'
/** Every so many models of the built manifest have a new checksum ("modified"). */
const MODIFIED_EVERY = 100

interface StubCaseSamples {
  runs: RunSample[]
  peakRssMb: number[]
  status: string[]
}

export interface StubSamples {
  skip: StubCaseSamples
  report: StubCaseSamples
}

const quote = (text: string): string => `'${text.replace(/'/g, `'\\''`)}'`

/**
 * The stub: `--version` as dbt prints it (the action reads the manifest versions dbt supports
 * from it, as for any dbt that is not a Python script), `deps` does nothing, `build` copies the
 * prepared artifacts into target/. Anything else fails, so a new dbt call in the action shows.
 */
export function stubScript(artifacts: string, targetDir: string): string {
  const files = ['manifest.json', 'run_results.json'].map((f) => quote(path.join(artifacts, f)))
  return `#!/bin/sh
# dbt, replaced for the bench's P6 figure.
case "$1" in
  --version) printf 'Core:\\n  - installed: ${SYNTHETIC_DBT_VERSION}\\n\\nPlugins:\\n  - materialize: 1.9.8\\n' ;;
  deps) ;;
  build) mkdir -p ${quote(targetDir)} && cp ${files.join(' ')} ${quote(targetDir)} ;;
  *) echo "bench dbt stub: unexpected invocation: dbt $*" >&2; exit 2 ;;
esac
`
}

interface StubRun {
  ctx: BenchContext
  workspace: GitWorkspace
  stub: string
  runCount: number
}

async function uploadProduction(ctx: BenchContext, file: string, sha: string): Promise<void> {
  const client = s3Client(ctx.services.moto.endpoint)
  try {
    await client.send(
      new PutObjectCommand({
        Bucket: ctx.services.bucket,
        Key: `${PREFIX}/manifest.json`,
        Body: readFileSync(file),
        Metadata: { 'git-sha': sha }
      })
    )
  } finally {
    client.destroy()
  }
}

/** Generates the artifacts, publishes production and writes the stub; returns sizes. */
async function prepare(
  ctx: BenchContext,
  dir: string,
  nodes: number
): Promise<{ run: StubRun; manifestMb: number }> {
  const workspace = createBenchWorkspace(path.join(dir, 'workspace'), BASE_MODELS)
  const artifacts = path.join(dir, 'artifacts')
  mkdirSync(artifacts, { recursive: true })
  const production = path.join(dir, 'production-manifest.json')
  const bytes = writeManifest(production, nodes)
  writeManifest(path.join(artifacts, 'manifest.json'), nodes, MODIFIED_EVERY)
  writeRunResults(path.join(artifacts, 'run_results.json'), nodes)
  await uploadProduction(ctx, production, workspace.head())
  const stub = path.join(dir, 'dbt-stub')
  writeFileSync(stub, stubScript(artifacts, path.join(workspace.dir, 'target')))
  chmodSync(stub, 0o755)
  return { run: { ctx, workspace, stub, runCount: 0 }, manifestMb: bytes / 2 ** 20 }
}

async function stubAction(
  run: StubRun,
  pr: { number: number; branch: string },
  expected: string
): Promise<ActionMeasurement> {
  const { ctx, workspace } = run
  const { services } = ctx
  workspace.checkout(pr.branch)
  const runDir = path.join(ctx.root, PREFIX, 'runs', String(++run.runCount))
  const measured = await measureAction({
    workspace: workspace.dir,
    event: pullRequestEvent({
      number: pr.number,
      action: 'synchronize',
      headSha: workspace.head(),
      headRef: pr.branch
    }),
    inputs: {
      mode: 'slim',
      'project-dir': '.',
      'profiles-dir': '.',
      'dbt-path': run.stub,
      'state-uri': `s3://${services.bucket}/${PREFIX}`,
      's3-endpoint': services.moto.endpoint,
      'github-token': 'ghs_benchToken',
      defer: 'true'
    },
    env: services.env,
    apiUrl: services.github.url,
    runDir,
    abort: ctx.abort
  })
  const status = measured.outputs.status
  if (measured.exitCode !== 0 || status !== expected)
    throw new Error(
      `P6: the action ended with exit ${measured.exitCode}, status "${status}" (expected "${expected}") in ${runDir}:\n${measured.logTail}`
    )
  return measured
}

function record(samples: StubCaseSamples, measured: ActionMeasurement): void {
  samples.runs.push(sampleOf(measured))
  if (measured.peakRssMb !== undefined) samples.peakRssMb.push(measured.peakRssMb)
  samples.status.push(measured.outputs.status ?? '')
}

const caseFigures = (samples: StubCaseSamples) => ({
  status: [...new Set(samples.status)].join(' / ') || undefined,
  cost: costFigures(samples.runs),
  peakRssMb: median(samples.peakRssMb)
})

/** P6 with a manifest of `nodes` nodes, `ctx.reps` times each case, taking turns going first. */
export async function measureStubCost(
  ctx: BenchContext,
  nodes: number
): Promise<{ figures: StubFigures; samples: StubSamples }> {
  ctx.log(`P6: generating a ${nodes}-node manifest and run results…`)
  const { run, manifestMb } = await prepare(ctx, path.join(ctx.root, PREFIX), nodes)
  const samples: StubSamples = {
    skip: { runs: [], peakRssMb: [], status: [] },
    report: { runs: [], peakRssMb: [], status: [] }
  }
  const results = resultCount(nodes)
  const cases = [
    async () => {
      const measured = await stubAction(
        run,
        { number: 102, branch: README_BRANCH },
        'skipped-unchanged'
      )
      record(samples.skip, measured)
    },
    async () => {
      const measured = await stubAction(run, { number: 101, branch: ONE_MODEL_BRANCH }, 'success')
      if (measured.outputs['selected-count'] !== String(results))
        throw new Error(
          `P6: the action reported ${measured.outputs['selected-count']} of ${results} results`
        )
      record(samples.report, measured)
    }
  ]
  for (let rep = 0; rep < ctx.reps; rep++) {
    await inTurn(rep, cases)
    const last = (s: StubCaseSamples) =>
      `${s.runs.at(-1)?.wall.toFixed(1)} s, ${s.peakRssMb.at(-1)?.toFixed(0)} MB`
    ctx.log(`  rep ${rep + 1}: P6 skip ${last(samples.skip)}; full report ${last(samples.report)}`)
  }
  return {
    figures: {
      nodes,
      results,
      manifestMb,
      skip: caseFigures(samples.skip),
      report: caseFigures(samples.report)
    },
    samples
  }
}

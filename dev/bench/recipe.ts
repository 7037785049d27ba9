// The bare upstream recipes the action replaces, run as plain commands (argument arrays, no
// shell): slim CI on a pull request (download the manifest, dbt build state:modified+; the
// guide uploads a manifest only on a push to main, never from a PR) and the dbt-materialize
// blue/green command sequence. Each command's wall and CPU time is kept (see cpu.ts).
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { venvBin } from '../runner.js'
import { childrenCpuSeconds } from './cpu.js'
import { rounded, type Phase, type RunSample } from './stats.js'

export interface CommandResult {
  command: string
  exitCode: number | null
  startedAt: number
  endedAt: number
  /** User + system seconds of the command and everything it waited for. */
  cpuSeconds: number
  output: string
}

export interface RecipeEnv {
  workspace: string
  env: Record<string, string>
  /** Kills the command in flight when aborted. */
  abort?: AbortSignal
}

/**
 * Runs one command to completion, keeping the tail of its output for error messages. Its CPU
 * time is what it adds to this process's children's time; measured commands never overlap.
 */
export function runCommand(
  file: string,
  args: string[],
  options: { cwd: string; env: Record<string, string>; abort?: AbortSignal }
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    options.abort?.throwIfAborted()
    const startedAt = Date.now()
    const cpuBefore = childrenCpuSeconds()
    const child = spawn(file, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let output = ''
    const keep = (chunk: Buffer): void => {
      output = (output + chunk.toString('utf8')).slice(-8000)
    }
    child.stdout.on('data', keep)
    child.stderr.on('data', keep)
    const kill = (): void => void child.kill('SIGKILL')
    options.abort?.addEventListener('abort', kill)
    child.once('error', reject)
    child.once('close', (exitCode) => {
      options.abort?.removeEventListener('abort', kill)
      resolve({
        command: [path.basename(file), ...args].join(' '),
        exitCode,
        startedAt,
        endedAt: Date.now(),
        cpuSeconds: childrenCpuSeconds() - cpuBefore,
        output
      })
    })
  })
}

/** A named step of a recipe: the command, and the name its phase is reported under. */
interface Step {
  name: string
  file: string
  args: string[]
}

async function mustRun(step: Step, recipe: RecipeEnv): Promise<CommandResult> {
  const { workspace: cwd, env, abort } = recipe
  const result = await runCommand(step.file, step.args, { cwd, env, abort })
  if (result.exitCode !== 0) {
    throw new Error(
      `recipe step failed (exit ${result.exitCode}): ${step.name}: ${result.command}\n${result.output}`
    )
  }
  return result
}

const dbt = path.join(venvBin, 'dbt')
const python = path.join(venvBin, 'python')

/** What `aws s3 cp` does, with boto3 from the venv. */
const S3_DOWNLOAD = `
import sys, boto3
endpoint, bucket, key, file = sys.argv[1:5]
boto3.client('s3', endpoint_url=endpoint).download_file(bucket, key, file)
`

function projectArgs(recipe: RecipeEnv): string[] {
  return ['--project-dir', recipe.workspace, '--profiles-dir', recipe.workspace]
}

export interface SlimRecipeOptions {
  s3Endpoint: string
  bucket: string
  /** Key of the production manifest. */
  manifestKey: string
}

export type RecipeResult = RunSample

/** Runs the steps in order; the result's phases are the steps, with their wall and CPU time. */
async function runSteps(
  steps: Step[],
  recipe: RecipeEnv
): Promise<{ sample: RecipeResult; results: Map<string, CommandResult> }> {
  const started = Date.now()
  const results = new Map<string, CommandResult>()
  for (const step of steps) results.set(step.name, await mustRun(step, recipe))
  const phases: Phase[] = steps.map((step) => {
    const result = results.get(step.name)!
    return {
      name: step.name,
      wall: (result.endedAt - result.startedAt) / 1000,
      cpu: result.cpuSeconds
    }
  })
  const cpu = phases.reduce((sum, phase) => sum + (phase.cpu ?? 0), 0)
  return { sample: rounded({ wall: (Date.now() - started) / 1000, cpu, phases }), results }
}

/** Slim CI on a pull request as documented upstream: download state, build what changed. */
export async function slimRecipe(
  recipe: RecipeEnv,
  options: SlimRecipeOptions
): Promise<RecipeResult> {
  const stateDir = mkdtempSync(path.join(tmpdir(), 'bench-state-'))
  try {
    const { s3Endpoint, bucket, manifestKey } = options
    const manifest = path.join(stateDir, 'manifest.json')
    const download = [S3_DOWNLOAD, s3Endpoint, bucket, manifestKey, manifest]
    const build = ['--select', 'state:modified+', '--state', stateDir, '--defer']
    const { sample } = await runSteps(
      [
        { name: 's3 download manifest', file: python, args: ['-c', ...download] },
        { name: 'dbt build', file: dbt, args: ['build', ...projectArgs(recipe), ...build] }
      ],
      recipe
    )
    return sample
  } finally {
    rmSync(stateDir, { recursive: true, force: true })
  }
}

export interface BlueGreenRecipeResult extends RecipeResult {
  /** Epoch ms when `deploy_await` returned. */
  awaitReturnedAt: number
  /** Epoch ms when `deploy_promote` started: the end of P3. */
  promoteStartedAt: number
}

/**
 * dbt-materialize's blue/green sequence; deploy_await at its default 15 s poll interval unless
 * `pollInterval` says otherwise.
 */
export async function blueGreenRecipe(
  recipe: RecipeEnv,
  pollInterval?: number
): Promise<BlueGreenRecipeResult> {
  const deployVars = ['--vars', 'deploy: True']
  const project = projectArgs(recipe)
  const operation = (macro: string, args: string[] = []): Step => ({
    name: macro,
    file: dbt,
    args: ['run-operation', macro, ...project, ...args]
  })
  const awaitArgs = pollInterval === undefined ? [] : ['--args', `{poll_interval: ${pollInterval}}`]
  const { sample, results } = await runSteps(
    [
      operation('deploy_init'),
      { name: 'dbt run', file: dbt, args: ['run', ...project, ...deployVars] },
      operation('deploy_await', awaitArgs),
      { name: 'dbt test', file: dbt, args: ['test', ...project, ...deployVars] },
      operation('deploy_promote'),
      operation('deploy_cleanup')
    ],
    recipe
  )
  return {
    ...sample,
    awaitReturnedAt: results.get('deploy_await')!.endedAt,
    promoteStartedAt: results.get('deploy_promote')!.startedAt
  }
}

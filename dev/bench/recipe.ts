// The bare upstream recipes the action replaces, run as plain commands (argument arrays, no
// shell): slim CI (download the manifest, dbt build state:modified+, upload) and the
// dbt-materialize blue/green command sequence.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { venvBin } from '../runner.js'

export interface CommandResult {
  command: string
  exitCode: number | null
  startedAt: number
  endedAt: number
  output: string
}

export interface RecipeEnv {
  workspace: string
  env: Record<string, string>
  /** Kills the command in flight when aborted. */
  abort?: AbortSignal
}

/** Runs one command to completion, keeping the tail of its output for error messages. */
export function runCommand(
  file: string,
  args: string[],
  options: { cwd: string; env: Record<string, string>; abort?: AbortSignal }
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    options.abort?.throwIfAborted()
    const startedAt = Date.now()
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
        output
      })
    })
  })
}

async function mustRun(file: string, args: string[], recipe: RecipeEnv): Promise<CommandResult> {
  const { workspace: cwd, env, abort } = recipe
  const result = await runCommand(file, args, { cwd, env, abort })
  if (result.exitCode !== 0) {
    throw new Error(
      `recipe step failed (exit ${result.exitCode}): ${result.command}\n${result.output}`
    )
  }
  return result
}

const dbt = path.join(venvBin, 'dbt')
const python = path.join(venvBin, 'python')

/** What `aws s3 cp` does, with boto3 from the venv. */
const S3_COPY = `
import sys, boto3
op, endpoint, bucket, key, file = sys.argv[1:6]
s3 = boto3.client('s3', endpoint_url=endpoint)
if op == 'get':
    s3.download_file(bucket, key, file)
else:
    s3.upload_file(file, bucket, key)
`

function projectArgs(recipe: RecipeEnv): string[] {
  return ['--project-dir', recipe.workspace, '--profiles-dir', recipe.workspace]
}

export interface SlimRecipeOptions {
  s3Endpoint: string
  bucket: string
  /** Key of the production manifest. */
  manifestKey: string
  /** Where the run's manifest is uploaded (CI artifacts; never production's key). */
  uploadKey: string
}

export interface RecipeResult {
  seconds: number
  /** Seconds per command, in order: where the recipe's time goes. */
  steps: Array<{ command: string; seconds: number }>
}

const stepTimes = (results: CommandResult[]): RecipeResult['steps'] =>
  results.map((r) => ({
    command: r.command.replace(/-c \n[\s\S]*?\n (get|put)/, 's3 $1').slice(0, 80),
    seconds: (r.endedAt - r.startedAt) / 1000
  }))

/** Slim CI as documented upstream: download state, build what changed (deferring), upload. */
export async function slimRecipe(
  recipe: RecipeEnv,
  options: SlimRecipeOptions
): Promise<RecipeResult> {
  const stateDir = mkdtempSync(path.join(tmpdir(), 'bench-state-'))
  const started = Date.now()
  try {
    const { s3Endpoint, bucket } = options
    const manifest = path.join(stateDir, 'manifest.json')
    const built = path.join(recipe.workspace, 'target', 'manifest.json')
    const steps = [
      await mustRun(
        python,
        ['-c', S3_COPY, 'get', s3Endpoint, bucket, options.manifestKey, manifest],
        recipe
      ),
      await mustRun(
        dbt,
        [
          'build',
          ...projectArgs(recipe),
          '--select',
          'state:modified+',
          '--state',
          stateDir,
          '--defer'
        ],
        recipe
      ),
      await mustRun(
        python,
        ['-c', S3_COPY, 'put', s3Endpoint, bucket, options.uploadKey, built],
        recipe
      )
    ]
    return { seconds: (Date.now() - started) / 1000, steps: stepTimes(steps) }
  } finally {
    rmSync(stateDir, { recursive: true, force: true })
  }
}

export interface BlueGreenRecipeResult extends RecipeResult {
  /** Epoch ms when `deploy_await` returned: the earliest the swap could start. */
  awaitReturnedAt: number
}

/** dbt-materialize's blue/green sequence, deploy_await at its default 15 s poll interval. */
export async function blueGreenRecipe(recipe: RecipeEnv): Promise<BlueGreenRecipeResult> {
  const started = Date.now()
  const deployVars = ['--vars', 'deploy: True']
  const project = projectArgs(recipe)
  const steps = [
    await mustRun(dbt, ['run-operation', 'deploy_init', ...project], recipe),
    await mustRun(dbt, ['run', ...project, ...deployVars], recipe)
  ]
  const waited = await mustRun(dbt, ['run-operation', 'deploy_await', ...project], recipe)
  steps.push(
    waited,
    await mustRun(dbt, ['test', ...project, ...deployVars], recipe),
    await mustRun(dbt, ['run-operation', 'deploy_promote', ...project], recipe),
    await mustRun(dbt, ['run-operation', 'deploy_cleanup', ...project], recipe)
  )
  return {
    seconds: (Date.now() - started) / 1000,
    awaitReturnedAt: waited.endedAt,
    steps: stepTimes(steps)
  }
}

// Reads the inputs and runs the selected mode and phase.
import * as core from '@actions/core'
import { getInputs, type BlueGreenInputs, type Inputs } from './inputs.js'
import { readRunContext, type RunContext } from './context.js'
import { slimBuild } from './slim/build.js'
import { slimTeardown } from './slim/teardown.js'
import { runBlueGreen, type BlueGreenPhaseRunner } from './bluegreen/index.js'
import { allPhase } from './bluegreen/phases/all.js'
import { cleanupPhase } from './bluegreen/phases/cleanup.js'
import { deployPhase } from './bluegreen/phases/deploy.js'
import { promotePhase } from './bluegreen/phases/promote.js'
import { rollbackPhase } from './bluegreen/phases/rollback.js'
import { statusPhase } from './bluegreen/phases/status.js'
import { cancelled, cancelOnSignals } from './cancel.js'

type PhaseKey<I extends Inputs> = `${I['mode']}:${I['phase']}`

/** One handler per mode and phase; a new phase that lacks one does not compile. */
type PhaseHandlers = {
  [I in Inputs as PhaseKey<I>]: (inputs: I, context: RunContext) => Promise<void>
}

const blueGreen =
  (phase: BlueGreenPhaseRunner) =>
  (inputs: BlueGreenInputs, context: RunContext): Promise<void> =>
    runBlueGreen(inputs, context, phase)

const phases: PhaseHandlers = {
  'slim:build': slimBuild,
  'slim:teardown': slimTeardown,
  'blue-green:all': blueGreen(allPhase),
  'blue-green:deploy': blueGreen(deployPhase),
  'blue-green:promote': blueGreen(promotePhase),
  'blue-green:cleanup': blueGreen(cleanupPhase),
  'blue-green:rollback': blueGreen(rollbackPhase),
  'blue-green:status': blueGreen(statusPhase)
}

function dispatch(inputs: Inputs, context: RunContext): Promise<void> {
  // The key always matches the inputs' own type: each key's handler takes exactly that type.
  const handler = phases[`${inputs.mode}:${inputs.phase}` as keyof PhaseHandlers] as (
    inputs: Inputs,
    context: RunContext
  ) => Promise<void>
  return handler(inputs, context)
}

export async function run(): Promise<void> {
  cancelOnSignals()
  try {
    const inputs = getInputs()
    await dispatch(inputs, readRunContext())
  } catch (error) {
    // A cancelled run fails on the way out; cancel.ts reports it and exits.
    if (cancelled.aborted) return
    core.setOutput('status', 'failed')
    throw error
  }
}

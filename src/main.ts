// Reads the inputs and runs the selected mode and phase.
import * as core from '@actions/core'
import { getInputs, type Inputs } from './inputs.js'
import { readRunContext, type RunContext } from './context.js'
import { slimBuild } from './slim/build.js'
import { slimTeardown } from './slim/teardown.js'

type PhaseKey<I extends Inputs> = `${I['mode']}:${I['phase']}`

/** One handler per mode and phase; a new phase that lacks one does not compile. */
type PhaseHandlers = {
  [I in Inputs as PhaseKey<I>]: (inputs: I, context: RunContext) => Promise<void>
}

const phases: PhaseHandlers = {
  'slim:build': slimBuild,
  'slim:teardown': slimTeardown
}

function dispatch<I extends Inputs>(inputs: I, context: RunContext): Promise<void> {
  const handler = phases[`${inputs.mode}:${inputs.phase}` as PhaseKey<I>] as (
    inputs: I,
    context: RunContext
  ) => Promise<void>
  return handler(inputs, context)
}

export async function run(): Promise<void> {
  try {
    const inputs = getInputs()
    await dispatch(inputs, readRunContext())
  } catch (error) {
    core.setOutput('status', 'failed')
    throw error
  }
}

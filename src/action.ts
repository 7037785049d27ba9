// The main step, loaded by index.ts: reads the inputs, runs the mode and phase, and fails
// the step with the cause.
import * as core from '@actions/core'
import { errorMessage } from './errors.js'
import { run } from './main.js'

try {
  await run()
} catch (error) {
  core.setFailed(errorMessage(error))
}

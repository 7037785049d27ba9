import * as core from '@actions/core'
import { errorMessage } from './errors.js'
import { run } from './main.js'

try {
  await run()
} catch (error) {
  core.setFailed(errorMessage(error))
}

import * as core from '@actions/core'
import { errorMessage } from './errors.js'
import { cleanup } from './cleanup.js'

try {
  await cleanup()
} catch (error) {
  // The post step never fails the job: it could only hide the main step's result.
  core.warning(`Cleanup failed: ${errorMessage(error)}`)
}

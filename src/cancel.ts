// Cancellation: the runner sends SIGINT, then SIGTERM 7.5 s later, then kills the process
// tree. On the first signal we stop dbt, undo what this run created and exit, within a
// budget that ends well before the kill.
import * as core from '@actions/core'
import { errorMessage } from './errors.js'
import { stopRunningProcesses } from './util/process.js'

export const CANCEL_BUDGET_MS = 6000

const controller = new AbortController()
/** Aborted when the job is cancelled; long waits pass it on so they stop at once. */
export const cancelled = controller.signal

let undo: (() => Promise<void>) | undefined
let installed = false

async function onSignal(signal: NodeJS.Signals): Promise<void> {
  if (controller.signal.aborted) return
  controller.abort(new Error(`cancelled by ${signal}`))
  core.warning(`Received ${signal}: stopping dbt and removing what this run created.`)
  stopRunningProcesses()
  const timeout = new Promise<void>((resolve) => setTimeout(resolve, CANCEL_BUDGET_MS).unref())
  try {
    await Promise.race([undo?.() ?? Promise.resolve(), timeout])
  } catch (error) {
    core.warning(`Cleanup after cancellation failed: ${errorMessage(error)}`)
  }
  core.setFailed(`The run was cancelled (${signal}).`)
  process.exit(1)
}

/** Registers what to undo if the job is cancelled while this step runs. */
export function undoOnCancel(action: () => Promise<void>): void {
  undo = action
  if (installed) return
  installed = true
  process.on('SIGINT', (signal) => void onSignal(signal))
  process.on('SIGTERM', (signal) => void onSignal(signal))
}

/** Resolves after ms, or rejects as soon as the job is cancelled. */
export function sleep(ms: number, signal: AbortSignal = cancelled): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason)
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    const onAbort = (): void => {
      clearTimeout(timer)
      reject(signal.reason)
    }
    signal.addEventListener('abort', onAbort, { once: true })
  })
}

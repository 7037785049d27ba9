// Cancellation: the runner sends SIGINT, then SIGTERM 7.5 s later, then kills the process
// tree 2.5 s after that. On the first signal we stop dbt (SIGINT first, so that it cancels
// its warehouse queries, and wait for it to exit), undo what this run created, report the
// step as cancelled and exit, within a budget that ends before the runner's SIGTERM.
import * as core from '@actions/core'
import { errorMessage } from './errors.js'
import { stopRunningProcesses } from './util/process.js'

/** From the signal to our exit; stopping dbt takes at most 5 s of it (STOP_SCHEDULE). */
export const CANCEL_BUDGET_MS = 6500

const controller = new AbortController()
/** Aborted when the job is cancelled; long waits pass it on so they stop at once. */
export const cancelled = controller.signal

let undo: (() => Promise<void>) | undefined

/** Throws once the job is cancelled: nothing after this point may run then (e.g. a publish). */
export function throwIfCancelled(): void {
  cancelled.throwIfAborted()
}

async function undoWithin(ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), Math.max(0, ms))
  })
  try {
    if ((await Promise.race([undo?.(), timeout])) === 'late')
      core.warning('Cleanup after cancellation ran out of time; the post step finishes it.')
  } catch (error) {
    core.warning(`Cleanup after cancellation failed: ${errorMessage(error)}`)
  } finally {
    clearTimeout(timer)
  }
}

/**
 * Stops the step: its children first, then what it created; reports why and exits. Later
 * calls are ignored: the first reason wins.
 */
async function stopRun(
  reason: Error,
  announce: string,
  failure: string,
  status: string
): Promise<void> {
  if (cancelled.aborted) return
  const deadline = Date.now() + CANCEL_BUDGET_MS
  controller.abort(reason)
  const removing = undo ? ' and removing what this run created' : ''
  core.warning(`${announce}: stopping dbt${removing}.`)
  await stopRunningProcesses()
  await undoWithin(deadline - Date.now())
  core.setOutput('status', status)
  core.setFailed(failure)
  process.exit(1)
}

/** The runner cancelled the job. */
export function cancelRun(signal: NodeJS.Signals): Promise<void> {
  const failure = `The run was cancelled (${signal}).`
  return stopRun(new Error(`cancelled by ${signal}`), `Received ${signal}`, failure, 'cancelled')
}

/** The run may not go on (e.g. it lost its deploy lock): stops it as a cancellation does. */
export function abortRun(reason: Error, announce: string): Promise<void> {
  return stopRun(reason, announce, reason.message, 'failed')
}

/** Handles the runner's SIGINT and SIGTERM for the rest of the step; a repeat is ignored. */
export function cancelOnSignals(): void {
  process.on('SIGINT', (signal) => void cancelRun(signal))
  process.on('SIGTERM', (signal) => void cancelRun(signal))
}

/** Registers what to undo if the job is cancelled while this step runs. */
export function undoOnCancel(action: () => Promise<void>): void {
  undo = action
}

/** Why the wait stopped, as an Error. */
function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason
  return reason instanceof Error ? reason : new Error(String(reason))
}

/** Resolves after ms, or rejects as soon as the job is cancelled. */
export function sleep(ms: number, signal: AbortSignal = cancelled): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(abortReason(signal))
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    const onAbort = (): void => {
      clearTimeout(timer)
      reject(abortReason(signal))
    }
    signal.addEventListener('abort', onAbort, { once: true })
  })
}

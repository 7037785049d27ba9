import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals'
import * as core from '../../__fixtures__/core.js'

/** Stands in for the real stop: resolves when the test says the children have exited. */
const children = { stopped: (): void => undefined }
const stopRunningProcesses = jest.fn(
  () => new Promise<void>((resolve) => (children.stopped = resolve))
)

jest.unstable_mockModule('@actions/core', () => core)
jest.unstable_mockModule('../../src/util/process.js', () => ({ stopRunningProcesses }))

type CancelModule = typeof import('../../src/cancel.js')

/** cancel.ts keeps its state for the whole step, so each test loads a fresh copy. */
async function freshCancel(): Promise<CancelModule> {
  jest.resetModules()
  return import('../../src/cancel.js')
}

/** Lets every pending promise callback run. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

let exit: jest.SpiedFunction<typeof process.exit>

beforeEach(() => {
  core.resetCore()
  exit = jest.spyOn(process, 'exit').mockImplementation(() => undefined as never)
})

afterEach(() => {
  exit.mockRestore()
  jest.useRealTimers()
})

describe('cancelRun', () => {
  it('stops the children and waits for them, then undoes, then reports cancelled and exits 1', async () => {
    const cancel = await freshCancel()
    const steps: string[] = []
    let undone = (): void => undefined
    cancel.undoOnCancel(async () => {
      steps.push('undo')
      await new Promise<void>((resolve) => (undone = resolve))
      steps.push('undone')
    })

    const done = cancel.cancelRun('SIGTERM')
    expect(cancel.cancelled.aborted).toBe(true)
    expect(() => cancel.throwIfCancelled()).toThrow(/SIGTERM/)
    await settle()
    expect(stopRunningProcesses).toHaveBeenCalledTimes(1)
    expect(steps).toEqual([]) // nothing is undone while dbt may still be writing

    children.stopped()
    await settle()
    expect(steps).toEqual(['undo'])
    expect(core.outputs.status).toBeUndefined()
    expect(exit).not.toHaveBeenCalled()

    undone()
    await done
    expect(steps).toEqual(['undo', 'undone'])
    expect(core.outputs.status).toBe('cancelled')
    expect(core.setFailed).toHaveBeenCalledWith(expect.stringMatching(/cancelled \(SIGTERM\)/))
    expect(exit).toHaveBeenCalledWith(1)
  })

  it('ignores the runner’s second signal while the first is handled', async () => {
    const cancel = await freshCancel()
    const first = cancel.cancelRun('SIGINT')
    await cancel.cancelRun('SIGTERM')
    children.stopped()
    await first
    expect(stopRunningProcesses).toHaveBeenCalledTimes(1)
    expect(exit).toHaveBeenCalledTimes(1)
    expect(core.setFailed).toHaveBeenCalledWith(expect.stringMatching(/SIGINT/))
  })

  it('exits within the budget even when the undo hangs, with a warning', async () => {
    jest.useFakeTimers()
    const cancel = await freshCancel()
    cancel.undoOnCancel(() => new Promise(() => undefined))
    const done = cancel.cancelRun('SIGINT')
    children.stopped()
    await jest.advanceTimersByTimeAsync(cancel.CANCEL_BUDGET_MS - 1)
    expect(exit).not.toHaveBeenCalled()
    await jest.advanceTimersByTimeAsync(1)
    await done
    expect(core.warning).toHaveBeenCalledWith(expect.stringMatching(/ran out of time/))
    expect(core.outputs.status).toBe('cancelled')
    expect(exit).toHaveBeenCalledWith(1)
  })

  it('reports a failed undo as a warning and still exits cancelled', async () => {
    const cancel = await freshCancel()
    cancel.undoOnCancel(async () => {
      throw new Error('S3 is down')
    })
    const done = cancel.cancelRun('SIGINT')
    children.stopped()
    await done
    expect(core.warning).toHaveBeenCalledWith(expect.stringContaining('S3 is down'))
    expect(core.outputs.status).toBe('cancelled')
    expect(exit).toHaveBeenCalledWith(1)
  })
})

describe('abortRun', () => {
  it('stops the run as a cancellation does, failing with the reason it was given', async () => {
    const cancel = await freshCancel()
    const undo = jest.fn(async () => undefined)
    cancel.undoOnCancel(undo)
    const lost = new Error('The deploy lock prod/deploy.lock was lost (another run holds it now).')
    const done = cancel.abortRun(lost, 'Lost the deploy lock')
    expect(cancel.cancelled.reason).toBe(lost)
    children.stopped()
    await done
    expect(undo).toHaveBeenCalledTimes(1)
    expect(core.warning).toHaveBeenCalledWith(
      'Lost the deploy lock: stopping dbt and removing what this run created.'
    )
    expect(core.setFailed).toHaveBeenCalledWith(lost.message)
    expect(core.outputs.status).toBe('failed')
    expect(exit).toHaveBeenCalledWith(1)
    // A signal arriving meanwhile changes nothing.
    await cancel.cancelRun('SIGINT')
    expect(exit).toHaveBeenCalledTimes(1)
  })
})

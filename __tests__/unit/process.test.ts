import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals'
import { CANCEL_BUDGET_MS } from '../../src/cancel.js'
import {
  STOP_SCHEDULE,
  runProcess,
  stopGroup,
  stopRunningProcesses,
  type ProcessGroup
} from '../../src/util/process.js'
import { isAlive } from '../e2e/support/processes.js'

/** A process group that records the signals it gets and closes on the ones listed. */
function fakeGroup(closesOn: NodeJS.Signals[] = []): ProcessGroup & { signals: string[] } {
  let close!: () => void
  const closed = new Promise<void>((resolve) => (close = resolve))
  const signals: string[] = []
  return {
    signals,
    closed,
    signal(signal) {
      signals.push(signal)
      if (closesOn.includes(signal)) close()
    }
  }
}

describe('stopGroup', () => {
  it('escalates SIGINT, SIGTERM, SIGKILL, waiting each step out, on a group that never exits', async () => {
    const group = fakeGroup()
    const waits: number[] = []
    await stopGroup(group, STOP_SCHEDULE, async (ms) => void waits.push(ms))
    expect(group.signals).toEqual(['SIGINT', 'SIGTERM', 'SIGKILL'])
    expect(waits).toEqual(STOP_SCHEDULE.map((step) => step.waitMs))
  })

  it('stops escalating as soon as the group has exited', async () => {
    const neverElapses = (): Promise<void> => new Promise(() => undefined)
    const polite = fakeGroup(['SIGINT'])
    await stopGroup(polite, STOP_SCHEDULE, neverElapses)
    expect(polite.signals).toEqual(['SIGINT'])

    const stubborn = fakeGroup(['SIGTERM'])
    let elapsed = 0
    await stopGroup(stubborn, STOP_SCHEDULE, () =>
      elapsed++ === 0 ? Promise.resolve() : neverElapses()
    )
    expect(stubborn.signals).toEqual(['SIGINT', 'SIGTERM'])
  })

  it('asks dbt first (SIGINT), ends with SIGKILL, and leaves time to undo before the runner’s SIGTERM', () => {
    expect(STOP_SCHEDULE[0]?.signal).toBe('SIGINT')
    expect(STOP_SCHEDULE.at(-1)?.signal).toBe('SIGKILL')
    const stopping = STOP_SCHEDULE.reduce((sum, step) => sum + step.waitMs, 0)
    expect(stopping).toBeLessThanOrEqual(CANCEL_BUDGET_MS - 1500)
    expect(CANCEL_BUDGET_MS).toBeLessThan(7500) // the runner's SIGTERM comes 7.5 s after its SIGINT
  })
})

// A real process tree: a node child that starts a grandchild sharing its output, each printing
// the signals it gets. A `polite` tree exits on SIGINT; the other ignores SIGINT and SIGTERM.
// Fake timers stand in for the stop schedule and the timeout; the processes drive the rest.
function treeScript(name: string, polite: boolean): string {
  const onSignals = (who: string): string =>
    `for (const s of ['SIGINT', 'SIGTERM']) process.on(s, () => { console.log('${who} got ' + s); ${polite ? "if (s === 'SIGINT') process.exit(0)" : ''} });`
  const grandchild = `${onSignals(`${name} grandchild`)} console.log('${name} grandchild ready ' + process.pid); setInterval(() => {}, 1000)`
  return `${onSignals(`${name} child`)}
    require('node:child_process').spawn(process.execPath, ['-e', ${JSON.stringify(grandchild)}], { stdio: 'inherit' })
    console.log('${name} child ready ' + process.pid); setInterval(() => {}, 1000)`
}

let echoed = ''
const echoListeners = new Set<() => void>()

beforeEach(() => {
  echoed = ''
  jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    echoed += chunk.toString()
    for (const listener of echoListeners) listener()
    return true
  })
  jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] })
})

afterEach(() => {
  jest.restoreAllMocks()
  jest.useRealTimers()
})

/** Resolves once the processes have printed all of `patterns` (whole lines: mind partial chunks). */
function printed(...patterns: RegExp[]): Promise<RegExpExecArray[]> {
  return new Promise((resolve) => {
    const listener = (): void => {
      const matches = patterns.map((pattern) => pattern.exec(echoed))
      if (matches.some((match) => match === null)) return
      echoListeners.delete(listener)
      resolve(matches as RegExpExecArray[])
    }
    echoListeners.add(listener)
    listener()
  })
}

/** Both processes of a tree have printed that they got `signal`. */
const bothGot = (name: string, signal: NodeJS.Signals): Promise<unknown> =>
  printed(
    new RegExp(`^${name} child got ${signal}\n`, 'm'),
    new RegExp(`^${name} grandchild got ${signal}\n`, 'm')
  )

/** Starts a tree and waits until both its processes are ready; returns their pids and the result. */
async function startTree(name: string, polite: boolean, timeoutMs?: number) {
  const ready = printed(
    new RegExp(`^${name} child ready (\\d+)\n`, 'm'),
    new RegExp(`^${name} grandchild ready (\\d+)\n`, 'm')
  )
  const result = runProcess(process.execPath, ['-e', treeScript(name, polite)], {
    cwd: process.cwd(),
    env: { PATH: process.env.PATH ?? '' },
    timeoutMs
  })
  const failed = result.then((r) => Promise.reject(new Error(`the tree ended early:\n${r.tail}`)))
  const pids = (await Promise.race([ready, failed])).map((match) => Number(match[1]))
  return { pids, result }
}

describe('runProcess and stopRunningProcesses on a real process tree', () => {
  it('a timeout stops the whole tree, SIGINT first', async () => {
    const tree = await startTree('timed', true, 60_000)
    jest.advanceTimersByTime(60_000)
    const result = await tree.result
    expect(result.timedOut).toBe(true)
    expect(result.tail).toContain('timed child got SIGINT')
    expect(result.tail).toContain('timed grandchild got SIGINT')
    expect(result.tail).not.toContain('SIGTERM')
    expect(tree.pids.filter(isAlive)).toEqual([])
  })

  it('a stop sends SIGINT to every tree, escalates on the ones that ignore it, and starts no more', async () => {
    const polite = await startTree('polite', true)
    const stubborn = await startTree('stubborn', false)
    const stopped = stopRunningProcesses()
    const politeResult = await polite.result
    await bothGot('stubborn', 'SIGINT')
    await jest.advanceTimersByTimeAsync(STOP_SCHEDULE[0]!.waitMs)
    await bothGot('stubborn', 'SIGTERM')
    await jest.advanceTimersByTimeAsync(STOP_SCHEDULE[1]!.waitMs)
    const stubbornResult = await stubborn.result
    await stopped

    expect(politeResult.exitCode).toBe(0)
    expect(politeResult.tail).toContain('polite child got SIGINT')
    expect(politeResult.tail).toContain('polite grandchild got SIGINT')
    expect(politeResult.tail).not.toContain('SIGTERM')
    expect(stubbornResult.exitCode).toBe(128) // SIGKILL
    expect([...polite.pids, ...stubborn.pids].filter(isAlive)).toEqual([])
    await expect(startTree('late', true)).rejects.toThrow(/stopping/)
  })
})

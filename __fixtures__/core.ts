// Typed stand-ins for @actions/core, shared by every unit test. Inputs come from a plain
// object so each test states exactly what the user configured.
import type * as core from '@actions/core'
import { jest } from '@jest/globals'

export const inputs: Record<string, string> = {}
export const outputs: Record<string, string> = {}
export const saved: Record<string, string> = {}

export const getInput = jest.fn<typeof core.getInput>((name) => inputs[name] ?? '')
export const setOutput = jest.fn<typeof core.setOutput>((name, value) => {
  outputs[name] = String(value)
})
export const saveState = jest.fn<typeof core.saveState>((name, value) => {
  saved[name] = String(value)
})
export const getState = jest.fn<typeof core.getState>((name) => saved[name] ?? '')
export const setSecret = jest.fn<typeof core.setSecret>()
export const setFailed = jest.fn<typeof core.setFailed>()
export const debug = jest.fn<typeof core.debug>()
export const info = jest.fn<typeof core.info>()
export const notice = jest.fn<typeof core.notice>()
export const warning = jest.fn<typeof core.warning>()
export const error = jest.fn<typeof core.error>()
export const group = jest.fn(async <T>(_name: string, fn: () => Promise<T>): Promise<T> => fn())
interface SummaryMock {
  addRaw: jest.Mock<(text: string) => SummaryMock>
  write: jest.Mock<() => Promise<SummaryMock>>
}
export const summary: SummaryMock = {
  addRaw: jest.fn((_text: string) => summary),
  write: jest.fn(async () => summary)
}

/** Clears recorded calls and the input/output/state maps between tests. */
export function resetCore(): void {
  for (const map of [inputs, outputs, saved]) for (const key of Object.keys(map)) delete map[key]
  jest.clearAllMocks()
}

import { jest, describe, it, expect, beforeEach } from '@jest/globals'
import { existsSync, mkdtempSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import * as core from '../../__fixtures__/core.js'

jest.unstable_mockModule('@actions/core', () => core)
const { cleanup } = await import('../../src/cleanup.js')
const { recordCreated } = await import('../../src/state.js')

beforeEach(() => core.resetCore())

describe('post cleanup', () => {
  it('removes exactly the directories main recorded', async () => {
    const recorded = mkdtempSync(path.join(os.tmpdir(), 'recorded-'))
    const other = mkdtempSync(path.join(os.tmpdir(), 'other-'))
    recordCreated({ kind: 'directory', path: recorded })
    await cleanup()
    expect(existsSync(recorded)).toBe(false)
    expect(existsSync(other)).toBe(true)
  })

  it('does nothing without saved state, and only warns on unreadable state', async () => {
    await cleanup()
    expect(core.group).not.toHaveBeenCalled()
    core.saved.resources = '{not json'
    await cleanup()
    expect(core.warning).toHaveBeenCalledWith(expect.stringContaining('unreadable'))
    expect(core.setFailed).not.toHaveBeenCalled()
  })
})

import { jest, describe, it, expect, beforeEach } from '@jest/globals'
import { existsSync, mkdtempSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import * as core from '../../__fixtures__/core.js'

jest.unstable_mockModule('@actions/core', () => core)
const { cleanup } = await import('../../src/cleanup.js')
const { recordCreated, saveCleanupContext, cleanupContext } = await import('../../src/state.js')

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

  it('acts on what main saved, never on the inputs', async () => {
    recordCreated({ kind: 'lock', key: 'prod/deploy.lock', nonce: 'n' })
    core.inputs['state-uri'] = 's3://another-bucket/prod'
    await cleanup()
    expect(core.getInput).not.toHaveBeenCalled()
    expect(core.warning).toHaveBeenCalledWith(
      expect.stringContaining('the main step saved no S3 or Materialize settings')
    )
  })

  it('reports what even its retry could not undo: a warning and a summary', async () => {
    const summary = path.join(mkdtempSync(path.join(os.tmpdir(), 'summary-')), 'summary.md')
    process.env.GITHUB_STEP_SUMMARY = summary
    // Main left green (its drop failed); this step has no connection either.
    core.saved.resources = JSON.stringify([
      { kind: 'green', schemas: ['prod_dbt_deploy'], clusters: ['c_dbt_deploy'] }
    ])
    try {
      await cleanup()
    } finally {
      delete process.env.GITHUB_STEP_SUMMARY
    }
    expect(core.warning).toHaveBeenCalledWith(
      expect.stringContaining('The cleanup could not undo: green prod_dbt_deploy, c_dbt_deploy')
    )
    expect(core.summary.addRaw).toHaveBeenCalledWith(
      expect.stringMatching(
        /### dbt-materialize-deploy: left behind[\s\S]*- green prod_dbt_deploy, c_dbt_deploy/
      )
    )
  })

  it('reads back the saved context only when it has the shape main wrote', () => {
    const context = {
      bucket: 'b',
      region: 'us-east-1',
      maxAttempts: 3,
      timeoutMs: 30_000,
      projectDir: '/w',
      materializeUrl: false
    }
    saveCleanupContext(context)
    expect(cleanupContext()).toEqual(context)
    core.saved['cleanup-context'] = JSON.stringify({ ...context, maxAttempts: '3' })
    expect(cleanupContext()).toBeUndefined()
  })
})

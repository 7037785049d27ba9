import { jest, describe, it, expect, beforeEach } from '@jest/globals'
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import * as core from '../../__fixtures__/core.js'

const cache = {
  isFeatureAvailable: jest.fn(() => true),
  restoreCache: jest.fn(async (): Promise<string | undefined> => undefined),
  saveCache: jest.fn(async (_paths: string[], _key: string) => 1)
}
jest.unstable_mockModule('@actions/core', () => core)
jest.unstable_mockModule('@actions/cache', () => cache)
jest.unstable_mockModule('../../src/util/git.js', () => ({ treeSha: async () => 'tree1' }))
const { parseScope, restoreParseState, saveParseState } =
  await import('../../src/dbt/parse-cache.js')
const { installedDbtDistributions } = await import('../../src/dbt/ask.js')

/** A virtualenv layout: bin/dbt with a Python shebang, and dist-info directories. */
function fakeVenv(distributions: string[]): string {
  const venv = mkdtempSync(path.join(os.tmpdir(), 'venv-'))
  mkdirSync(path.join(venv, 'bin'))
  for (const name of distributions)
    mkdirSync(path.join(venv, 'lib', 'python3.11', 'site-packages', name), { recursive: true })
  const dbt = path.join(venv, 'bin', 'dbt')
  writeFileSync(dbt, `#!${venv}/bin/python3\nimport dbt\n`)
  chmodSync(dbt, 0o755)
  return dbt
}

const workspace = mkdtempSync(path.join(os.tmpdir(), 'ws-'))
const settings = {
  executable: 'dbt',
  projectDir: path.join(workspace, 'analytics'),
  profilesDir: path.join(workspace, 'analytics'),
  target: 'prod',
  vars: { a: 1 },
  extraArgs: [],
  cacheParse: true
}
const notRun = async (): Promise<never> => Promise.reject(new Error('dbt is not run here'))
const dbt = (executable: string) => ({ projectDir: settings.projectDir, executable, run: notRun })

beforeEach(() => {
  core.resetCore()
  jest.clearAllMocks()
  process.env.GITHUB_WORKSPACE = workspace
  process.env.RUNNER_OS = 'Linux'
})

describe('the parse cache', () => {
  it("reads dbt's distributions from its virtualenv, not from a dbt process", () => {
    const executable = fakeVenv([
      'dbt_core-1.11.7.dist-info',
      'dbt_materialize-1.9.11.dist-info',
      'pyyaml-6.0.dist-info'
    ])
    expect(installedDbtDistributions(executable)).toEqual([
      'dbt_core-1.11.7.dist-info',
      'dbt_materialize-1.9.11.dist-info'
    ])
  })

  it('keys on dbt, target, vars and the git tree, with workspace-relative paths and a prefix fallback', async () => {
    const executable = fakeVenv(['dbt_core-1.11.7.dist-info'])
    const scope = parseScope(dbt(executable), settings, ['target', 'target/dbt_deploy'])
    const entry = await restoreParseState(scope)
    const [paths, key, restoreKeys] = cache.restoreCache.mock.calls[0] as unknown as [
      string[],
      string,
      string[]
    ]
    expect(paths).toEqual([
      'analytics/target/partial_parse.msgpack',
      'analytics/target/dbt_deploy/partial_parse.msgpack'
    ])
    expect(key).toMatch(/^dbt-parse-Linux-[0-9a-f]{24}-tree1$/)
    expect(restoreKeys).toEqual([key.replace(/tree1$/, '')])
    expect(entry?.key).toBe(key)

    const other = await restoreParseState(
      parseScope(dbt(executable), { ...settings, vars: { a: 2 } }, ['target', 'target/dbt_deploy'])
    )
    expect(other?.key).not.toBe(key)
    const newerDbt = await restoreParseState(
      parseScope(dbt(fakeVenv(['dbt_core-1.12.0.dist-info'])), settings, [
        'target',
        'target/dbt_deploy'
      ])
    )
    expect(newerDbt?.key).not.toBe(key)
  })

  it('does nothing when "cache-parse" is off, the service is unavailable, or dbt is a fake', async () => {
    const executable = fakeVenv([])
    expect(
      parseScope(dbt(executable), { ...settings, cacheParse: false }, ['target'])
    ).toBeUndefined()
    expect(
      parseScope({ projectDir: settings.projectDir, run: notRun }, settings, ['target'])
    ).toBeUndefined()
    cache.isFeatureAvailable.mockReturnValueOnce(false)
    expect(
      await restoreParseState(parseScope(dbt(executable), settings, ['target']))
    ).toBeUndefined()
    expect(cache.restoreCache).not.toHaveBeenCalled()
  })

  it('saves only what dbt wrote, and nothing after an exact hit', async () => {
    const target = path.join(settings.projectDir, 'target')
    const entry = { key: 'k-tree1', paths: ['analytics/target/partial_parse.msgpack'] }
    await saveParseState(entry)
    expect(cache.saveCache).not.toHaveBeenCalled() // dbt never parsed: no file
    mkdirSync(target, { recursive: true })
    writeFileSync(path.join(target, 'partial_parse.msgpack'), 'state')
    await saveParseState({ ...entry, restored: 'k-tree1' })
    expect(cache.saveCache).not.toHaveBeenCalled()
    await saveParseState({ ...entry, restored: 'k-tree0' })
    expect(cache.saveCache).toHaveBeenCalledWith(entry.paths, 'k-tree1')
  })

  it('a failing cache service is a warning, never a failed run', async () => {
    cache.restoreCache.mockRejectedValueOnce(new Error('cache down'))
    const entry = await restoreParseState(parseScope(dbt(fakeVenv([])), settings, ['target']))
    expect(core.warning).toHaveBeenCalledWith(
      expect.stringMatching(/Restoring dbt's parse state.*cache down/)
    )
    cache.saveCache.mockRejectedValueOnce(new Error('cache full'))
    await saveParseState(entry)
    expect(core.warning).toHaveBeenCalledWith(
      expect.stringMatching(/Saving dbt's parse state.*cache full/)
    )
  })
})

import { jest, describe, it, expect, beforeEach, afterAll } from '@jest/globals'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import * as core from '../../__fixtures__/core.js'

const cache = {
  isFeatureAvailable: jest.fn(() => true),
  restoreCache: jest.fn(async (): Promise<string | undefined> => undefined),
  saveCache: jest.fn(async () => 1)
}
jest.unstable_mockModule('@actions/core', () => core)
jest.unstable_mockModule('@actions/cache', () => cache)
const { installPackages } = await import('../../src/slim/packages.js')
const { readProject } = await import('../../src/dbt/project.js')
type Dbt = import('../../src/dbt/cli.js').Dbt

const dir = mkdtempSync(path.join(os.tmpdir(), 'packages-'))
writeFileSync(path.join(dir, 'dbt_project.yml'), 'name: p\npackages-install-path: vendor\n')
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function dbt(exitCode = 0): Dbt & { commands: string[] } {
  const commands: string[] = []
  return {
    projectDir: dir,
    commands,
    run: async (command) => {
      commands.push(command)
      return { exitCode, tail: 'Could not resolve package' }
    }
  }
}

beforeEach(() => {
  core.resetCore()
  cache.restoreCache.mockReset().mockResolvedValue(undefined)
  rmSync(path.join(dir, 'packages.yml'), { force: true })
  rmSync(path.join(dir, 'package-lock.yml'), { force: true })
})

describe('installPackages', () => {
  it('does nothing for a project without packages', async () => {
    const fake = dbt()
    await installPackages(fake, readProject(dir), true)
    expect(fake.commands).toEqual([])
  })

  it('installs and caches on a miss, keyed on the package lock', async () => {
    writeFileSync(path.join(dir, 'packages.yml'), 'packages: []\n')
    writeFileSync(path.join(dir, 'package-lock.yml'), 'sha1_hash: abc\n')
    const fake = dbt()
    await installPackages(fake, readProject(dir), true)
    expect(fake.commands).toEqual(['deps'])
    const [paths, key] = cache.saveCache.mock.calls[0] as unknown as [string[], string]
    expect(paths).toEqual([path.join(dir, 'vendor')])
    writeFileSync(path.join(dir, 'package-lock.yml'), 'sha1_hash: def\n')
    await installPackages(dbt(), readProject(dir), true)
    expect((cache.saveCache.mock.calls[1] as unknown as [string[], string])[1]).not.toBe(key)
  })

  it('skips dbt deps on a cache hit, and fails clearly when deps fails', async () => {
    writeFileSync(path.join(dir, 'packages.yml'), 'packages: []\n')
    cache.restoreCache.mockResolvedValue('hit')
    const fake = dbt()
    await installPackages(fake, readProject(dir), true)
    expect(fake.commands).toEqual([])
    cache.restoreCache.mockResolvedValue(undefined)
    await expect(installPackages(dbt(2), readProject(dir), false)).rejects.toThrow(
      /dbt deps failed \(exit 2\)/
    )
  })
})

import { jest, describe, it, expect, beforeEach } from '@jest/globals'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import * as core from '../../__fixtures__/core.js'
import { MemoryStore, manifestJson } from '../../__fixtures__/store.js'
import { diffOff, noConnection } from './support/diff.js'

jest.unstable_mockModule('@actions/core', () => core)
const { slimBuild } = await import('../../src/slim/build.js')
type SlimDbt = import('../../src/slim/build.js').SlimDbt
type SlimBuildInputs = import('../../src/inputs.js').SlimBuildInputs

const project = mkdtempSync(path.join(os.tmpdir(), 'slim-'))
writeFileSync(path.join(project, 'dbt_project.yml'), 'name: p\nprofile: p\n')

/** A dbt that writes the artifacts a real `dbt build` would, and records its arguments. */
function fakeDbt(
  exitCode: number,
  results: Array<[string, string]>
): SlimDbt & { calls: string[][] } {
  const calls: string[][] = []
  return {
    projectDir: project,
    calls,
    manifestSupport: async () => ({ dbtVersion: '1.11.7', versions: [12, 4], exhaustive: true }),
    async run(command, args) {
      calls.push([command, ...args])
      mkdirSync(path.join(project, 'target'), { recursive: true })
      const runResults = {
        results: results.map(([id, status]) => ({
          unique_id: id,
          status,
          execution_time: 0.5,
          message: status === 'error' ? 'boom' : null
        }))
      }
      writeFileSync(path.join(project, 'target', 'run_results.json'), JSON.stringify(runResults))
      writeFileSync(
        path.join(project, 'target', 'manifest.json'),
        manifestJson(Object.fromEntries(results.map(([id]) => [id, 'new'])))
      )
      return { exitCode, tail: exitCode === 2 ? 'Could not find profile named p' : '' }
    }
  }
}

function inputs(overrides: Partial<SlimBuildInputs> = {}): SlimBuildInputs {
  return {
    mode: 'slim',
    phase: 'build',
    workspace: project,
    dbt: {
      executable: 'dbt',
      projectDir: project,
      vars: {},
      extraArgs: ['--threads', '2'],
      cacheParse: false
    },
    report: { prComment: false },
    state: { uri: 's3://b/prod', bucket: 'b', prefix: 'prod' },
    s3: { region: 'us-east-1', maxAttempts: 3, timeoutMs: 1000 },
    onStateError: 'fail',
    selection: {},
    defer: true,
    favorState: false,
    skipUnchanged: false,
    uploadManifest: 'auto',
    cachePackages: false,
    diff: diffOff,
    ...overrides
  }
}

const push = {
  eventName: 'push',
  sha: 'abc',
  ref: 'refs/heads/main',
  owner: 'o',
  repo: 'r',
  defaultBranch: 'main'
}

beforeEach(() => {
  core.resetCore()
  process.env.RUNNER_TEMP = project
  process.env.GITHUB_WORKSPACE = project
  process.env.GITHUB_STEP_SUMMARY = path.join(project, 'summary.md')
})

describe('slimBuild', () => {
  it('builds everything on the first run and publishes the manifest on a main push', async () => {
    const store = new MemoryStore()
    const dbt = fakeDbt(0, [['model.p.a', 'success']])
    await slimBuild(inputs(), push, {
      store: () => store,
      dbt: async () => dbt,
      connect: noConnection
    })
    expect(dbt.calls[0]).toEqual([
      'build',
      '--exclude',
      'config.materialized:source',
      'config.materialized:sink',
      '--threads',
      '2'
    ])
    expect(core.outputs).toMatchObject({
      status: 'success',
      'state-available': 'false',
      'selected-count': '1',
      'manifest-uploaded': 'true'
    })
    expect(store.objects.has('prod/manifest.json')).toBe(true)
  })

  it('builds state:modified+ with defer when state exists, and reports why each node ran', async () => {
    const store = new MemoryStore()
    await store.put('prod/manifest.json', manifestJson({ 'model.p.a': 'old' }))
    const dbt = fakeDbt(0, [
      ['model.p.a', 'success'],
      ['model.p.b', 'success']
    ])
    await slimBuild(inputs({ uploadManifest: 'false' }), push, {
      store: () => store,
      connect: noConnection,
      dbt: async () => dbt
    })
    expect(dbt.calls[0]).toEqual(
      expect.arrayContaining(['--select', 'state:modified+', '--state', '--defer'])
    )
    const summary = core.summary.addRaw.mock.calls[0]?.[0] ?? ''
    expect(summary).toMatch(/model\.p\.a` \| modified/)
    expect(summary).toMatch(/model\.p\.b` \| new/)
    expect(core.outputs['manifest-uploaded']).toBe('false')
  })

  it.each([
    [1, /1 node\(s\) failed \(model\.p\.a\)/],
    [2, /could not complete the build \(exit 2\)[\s\S]*Could not find profile/]
  ])('fails on dbt exit %i, annotates, and never uploads', async (exitCode, message) => {
    const store = new MemoryStore()
    const dbt = fakeDbt(exitCode, exitCode === 1 ? [['model.p.a', 'error']] : [])
    await expect(
      slimBuild(inputs({ uploadManifest: 'true' }), push, {
        store: () => store,
        connect: noConnection,
        dbt: async () => dbt
      })
    ).rejects.toThrow(message)
    expect(store.objects.size).toBe(0)
    expect(core.outputs).toMatchObject({ status: 'failed', 'manifest-uploaded': 'false' })
    if (exitCode === 1) {
      expect(core.error).toHaveBeenCalledWith('boom', {
        title: 'dbt error: model.p.a',
        file: 'models/a.sql'
      })
    }
  })

  it('reports nothing-selected when dbt ran no node', async () => {
    const dbt = fakeDbt(0, [])
    await slimBuild(inputs({ uploadManifest: 'false' }), push, {
      store: () => new MemoryStore(),
      connect: noConnection,
      dbt: async () => dbt
    })
    expect(core.outputs).toMatchObject({
      status: 'nothing-selected',
      'selected-count': '0',
      selected: '[]'
    })
  })
})

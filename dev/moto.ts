// A throwaway moto S3 server for the e2e suite and the demo: `.venv/bin/moto_server` on a
// free loopback port. It runs in its own process group so stop() also ends any children.
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { freePort } from './net.js'

export interface MotoServer {
  endpoint: string
  port: number
  stop(): Promise<void>
}

export interface MotoOptions {
  port?: number
  /** Path of moto_server. Default: `.venv/bin/moto_server` in this repository. */
  binary?: string
  startTimeoutMs?: number
}

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

export function defaultMotoBinary(): string {
  return path.join(repoRoot, '.venv', 'bin', 'moto_server')
}

/** Keeps the tail of a stream so a startup failure can say why. */
function tailOf(child: ChildProcess, limit = 4000): () => string {
  let tail = ''
  const keep = (chunk: Buffer): void => {
    tail = (tail + chunk.toString()).slice(-limit)
  }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  return () => tail
}

async function answersHttp(endpoint: string): Promise<boolean> {
  try {
    const response = await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(1000) })
    await response.arrayBuffer()
    return true
  } catch {
    return false
  }
}

async function waitForHttp(
  endpoint: string,
  child: ChildProcess,
  timeoutMs: number,
  log: () => string
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await answersHttp(endpoint))) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`moto_server exited (${child.exitCode ?? child.signalCode}):\n${log()}`)
    }
    if (Date.now() > deadline) {
      throw new Error(`moto_server did not answer on ${endpoint} within ${timeoutMs} ms:\n${log()}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal)
  } catch {
    // The group is already gone.
  }
}

async function stopChild(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    killGroup(child, 'SIGTERM')
    const timer = setTimeout(() => killGroup(child, 'SIGKILL'), 3000)
    await exited
    clearTimeout(timer)
  }
  killGroup(child, 'SIGKILL') // stragglers that outlived the leader
}

export async function startMoto(options: MotoOptions = {}): Promise<MotoServer> {
  const binary = options.binary ?? defaultMotoBinary()
  if (!existsSync(binary)) {
    throw new Error(`moto_server not found at ${binary}. Run "npm run setup:python" first.`)
  }
  const port = options.port ?? (await freePort())
  const endpoint = `http://127.0.0.1:${port}`
  const child = spawn(binary, ['-H', '127.0.0.1', '-p', String(port)], {
    detached: true, // own process group, so stop() reaches every child
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PYTHONUNBUFFERED: '1' }
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const log = tailOf(child)
  // A crashed parent must not leave moto behind.
  const onExit = (): void => killGroup(child, 'SIGKILL')
  process.once('exit', onExit)
  try {
    await waitForHttp(endpoint, child, options.startTimeoutMs ?? 30_000, log)
  } catch (error) {
    await stopChild(child, exited)
    process.off('exit', onExit)
    throw error
  }
  return {
    endpoint,
    port,
    async stop() {
      await stopChild(child, exited)
      process.off('exit', onExit)
    }
  }
}

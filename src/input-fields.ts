// Typed readers of single action inputs: each reads one input by name, and every error names
// it and says what it accepts. Only inputs.ts calls them; it assembles the per-mode inputs.
import * as core from '@actions/core'
import { existsSync, statSync } from 'node:fs'
import path from 'node:path'
import { InputError } from './errors.js'

export function text(name: string): string {
  return core.getInput(name).trim()
}

export function oneOf<T extends string>(name: string, accepted: readonly T[], fallback: T): T {
  const value = text(name) || fallback
  if ((accepted as readonly string[]).includes(value)) return value as T
  throw new InputError(
    name,
    `is "${value}"; accepted: ${accepted.map((a) => `"${a}"`).join(', ')}.`
  )
}

export function bool(name: string, fallback: boolean): boolean {
  const value = text(name)
  if (value === '') return fallback
  if (/^true$/i.test(value)) return true
  if (/^false$/i.test(value)) return false
  throw new InputError(name, `is "${value}"; accepted: "true" or "false".`)
}

export function integer(name: string, fallback: number, min: number, max: number): number {
  const value = text(name)
  if (value === '') return fallback
  if (!/^-?\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new InputError(name, `is "${value}"; accepted: a whole number from ${min} to ${max}.`)
  }
  return Number(value)
}

export function directoryInWorkspace(name: string, value: string, workspace: string): string {
  const resolved = path.resolve(workspace, value)
  const relative = path.relative(workspace, resolved)
  if (relative.startsWith('..') || path.isAbsolute(relative)) {
    throw new InputError(
      name,
      `is "${value}", which is outside the workspace; accepted: a directory inside ${workspace}.`
    )
  }
  if (!existsSync(resolved) || !statSync(resolved).isDirectory()) {
    throw new InputError(name, `is "${value}", which is not a directory in the workspace.`)
  }
  return resolved
}

const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

/** A duration such as `500ms`, `5s`, `2m`, `1h` or plain seconds, in milliseconds. */
export function parseDuration(value: string): number | undefined {
  const match = DURATION.exec(value.trim())
  return match ? Number(match[1]) * UNIT_MS[match[2] ?? 's']! : undefined
}

export function duration(name: string, fallback: string, minMs: number, maxMs: number): number {
  const value = text(name) || fallback
  const ms = parseDuration(value)
  if (ms === undefined || ms < minMs || ms > maxMs) {
    throw new InputError(
      name,
      `is "${value}"; accepted: a duration from ${minMs / 1000} s to ${maxMs / 3_600_000} h such as "500ms", "30s", "10m" or "1h".`
    )
  }
  return ms
}

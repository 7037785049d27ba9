// JSON the action reads back (S3 records, the lease, saved state) is checked against the shape
// it was written with before anything acts on it: a corrupt or foreign record gives an error
// that names it and the field, never a crash deep inside a phase.
import { ActionError } from '../errors.js'

export type FieldKind =
  'string' | 'string?' | 'string|null' | 'string[]' | 'number' | 'number?' | 'boolean'

export type Shape<T> = { [K in keyof T]-?: FieldKind }

function fits(value: unknown, kind: FieldKind): boolean {
  switch (kind) {
    case 'string':
      return typeof value === 'string'
    case 'string?':
      return value === undefined || typeof value === 'string'
    case 'string|null':
      return value === null || typeof value === 'string'
    case 'string[]':
      return Array.isArray(value) && value.every((item) => typeof item === 'string')
    case 'number':
      return typeof value === 'number' && Number.isFinite(value)
    case 'number?':
      return value === undefined || (typeof value === 'number' && Number.isFinite(value))
    case 'boolean':
      return typeof value === 'boolean'
  }
}

/** The first field of `value` that does not fit `shape`, or undefined when it all fits. */
export function misfit(value: unknown, shape: Record<string, FieldKind>): string | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return '(not an object)'
  const record = value as Record<string, unknown>
  return Object.entries(shape).find(([field, kind]) => !fits(record[field], kind))?.[0]
}

/** Parses `text` as a `what` of this shape, or throws naming `where` and the bad field. */
export function parseRecord<T>(text: string, shape: Shape<T>, what: string, where: string): T {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new ActionError(`The ${what} at ${where} is not valid JSON.`)
  }
  const field = misfit(value, shape)
  if (field !== undefined) {
    throw new ActionError(
      `The ${what} at ${where} is not one this action wrote: field "${field}" is missing or has the wrong type.`
    )
  }
  return value as T
}

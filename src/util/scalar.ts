// YAML and JSON hand the action `unknown`s: only scalars become text, so a mapping written
// where a name belongs is reported as missing, never printed as "[object Object]".
export function scalarText(value: unknown): string | undefined {
  if (typeof value === 'string') return value
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  return undefined
}

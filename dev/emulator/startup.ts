// Startup `options` carry Materialize session variables (dbt-materialize always sends
// auto_route_catalog_queries, welcome_message, current_object_missing_warnings) that
// PostgreSQL refuses with FATAL. Keep what PostgreSQL understands, map `cluster` to the
// emulator's setting, drop the rest.

const POSTGRES_OPTIONS = new Set([
  'search_path',
  'statement_timeout',
  'lock_timeout',
  'idle_in_transaction_session_timeout',
  'timezone',
  'datestyle',
  'application_name',
  'extra_float_digits'
])

/** Splits a libpq options string on unescaped spaces (`\ ` escapes a space). */
function splitOptions(options: string): string[] {
  const words: string[] = []
  let current = ''
  for (let i = 0; i < options.length; i++) {
    const ch = options[i]!
    if (ch === '\\' && i + 1 < options.length) current += options[++i]
    else if (ch === ' ') {
      if (current) words.push(current)
      current = ''
    } else current += ch
  }
  if (current) words.push(current)
  return words
}

/** `--key=value` and `-c key=value` settings, in order. */
function parseSettings(options: string): Array<[string, string]> {
  const words = splitOptions(options)
  const settings: Array<[string, string]> = []
  for (let i = 0; i < words.length; i++) {
    let word = words[i]!
    if (word === '-c') word = words[++i] ?? ''
    else if (word.startsWith('-c')) word = word.slice(2)
    else if (word.startsWith('--')) word = word.slice(2)
    const eq = word.indexOf('=')
    if (eq > 0)
      settings.push([word.slice(0, eq).toLowerCase().replace(/-/g, '_'), word.slice(eq + 1)])
  }
  return settings
}

const escape = (value: string): string => value.replace(/\\/g, '\\\\').replace(/ /g, '\\ ')

function translateSetting([key, value]: [string, string]): string | undefined {
  if (key === 'cluster') return `-c mz_emulator.cluster=${escape(value)}`
  // Materialize searches mz_catalog implicitly; PostgreSQL needs it on the path.
  if (key === 'search_path') return `-c search_path=${escape(`${value},mz_catalog`)}`
  if (POSTGRES_OPTIONS.has(key)) return `-c ${key}=${escape(value)}`
  return undefined
}

export function rewriteStartupOptions(options: string): string {
  return parseSettings(options)
    .map(translateSetting)
    .filter((s): s is string => s !== undefined)
    .join(' ')
}

export function rewriteStartupParams(params: Map<string, string>): Map<string, string> {
  const rewritten = new Map(params)
  const options = params.get('options')
  if (options === undefined) return rewritten
  const kept = rewriteStartupOptions(options)
  if (kept) rewritten.set('options', kept)
  else rewritten.delete('options')
  return rewritten
}

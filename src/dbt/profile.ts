// Reads the dbt profile target the way dbt resolves it, so the action can mask its
// password and open its own connection. Only `env_var(...)` is rendered: anything else
// in a profile value is Jinja the action cannot evaluate, and it says so.
import { existsSync, readFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import yaml from 'js-yaml'
import { ActionError } from '../errors.js'

export interface ProfileTarget {
  profile: string
  target: string
  type: string
  host?: string
  port?: number
  user?: string
  password?: string
  database?: string
  schema?: string
  cluster?: string
  sslmode?: string
}

const EXPRESSION = /\{\{\s*(.*?)\s*\}\}/g
const FILTER = String.raw`(?:\|\s*(?:int|as_number|as_text|string)\s*)?`
const ENV_VAR = new RegExp(
  String.raw`^env_var\(\s*(['"])([^'"]+)\1\s*(?:,\s*(?:'([^']*)'|"([^"]*)")\s*)?\)\s*` +
    FILTER +
    '$'
)
const LITERAL = /^(?:'([^']*)'|"([^"]*)")$/

export function profilesFile(
  projectDir: string,
  profilesDir?: string,
  env = process.env
): string | undefined {
  const candidates = [
    profilesDir,
    env.DBT_PROFILES_DIR,
    projectDir,
    path.join(os.homedir(), '.dbt')
  ]
  for (const dir of candidates) {
    if (dir && existsSync(path.join(dir, 'profiles.yml'))) return path.join(dir, 'profiles.yml')
  }
  return undefined
}

/** One operand: env_var('NAME'[, 'default'])[| filter] or a quoted string. */
function renderTerm(term: string, whole: string, env: NodeJS.ProcessEnv): string {
  const literal = LITERAL.exec(term)
  if (literal) return literal[1] ?? literal[2] ?? ''
  const match = ENV_VAR.exec(term)
  if (!match) {
    throw new ActionError(
      `cannot render ${whole}: only env_var('NAME'[, 'default']), quoted strings and "or" are supported`
    )
  }
  const rendered = env[match[2]!] ?? match[3] ?? match[4]
  if (rendered === undefined)
    throw new ActionError(`env var ${match[2]} is not set and has no default`)
  return rendered
}

export function renderValue(value: string, env: NodeJS.ProcessEnv): string {
  return value.replace(EXPRESSION, (whole, expression: string) => {
    // Jinja's `a or b`: the first operand that renders non-empty.
    const terms = expression.split(/\s+or\s+/).map((term) => renderTerm(term.trim(), whole, env))
    return terms.find((term) => term !== '') ?? terms[terms.length - 1] ?? ''
  })
}

function renderAll(
  target: Record<string, unknown>,
  env: NodeJS.ProcessEnv
): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(target).map(([key, value]) => {
      if (typeof value !== 'string') return [key, value]
      try {
        return [key, renderValue(value, env)]
      } catch (error) {
        throw new ActionError(
          `Profile field "${key}": ${error instanceof Error ? error.message : error}`
        )
      }
    })
  )
}

function optionalString(value: unknown): string | undefined {
  return value === undefined || value === null || value === '' ? undefined : String(value)
}

/** The rendered target, or an error that says which profile, target or field is wrong. */
export function readProfileTarget(
  file: string,
  profileName: string,
  targetName: string | undefined,
  env: NodeJS.ProcessEnv
): ProfileTarget {
  const profiles = (yaml.load(readFileSync(file, 'utf8')) ?? {}) as Record<
    string,
    Record<string, unknown>
  >
  const profile = profiles[profileName]
  if (!profile) throw new ActionError(`Profile "${profileName}" is not in ${file}.`)
  const outputs = (profile.outputs ?? {}) as Record<string, Record<string, unknown>>
  const target = targetName ?? optionalString(renderValue(String(profile.target ?? ''), env))
  if (!target || !outputs[target]) {
    throw new ActionError(
      `Target "${target ?? ''}" is not in profile "${profileName}" (${file}); it has: ${Object.keys(outputs).join(', ') || 'no targets'}.`
    )
  }
  const fields = renderAll(outputs[target], env)
  return {
    profile: profileName,
    target,
    type: String(fields.type ?? ''),
    host: optionalString(fields.host),
    port: fields.port === undefined ? undefined : Number(fields.port),
    user: optionalString(fields.user),
    password: optionalString(fields.password ?? fields.pass),
    database: optionalString(fields.dbname ?? fields.database),
    schema: optionalString(fields.schema),
    cluster: optionalString(fields.cluster),
    sslmode: optionalString(fields.sslmode)
  }
}

/** The target names of a profile, read by name only (nothing rendered); undefined without the profile. */
export function profileTargetNames(file: string, profileName: string): string[] | undefined {
  let profiles: unknown
  try {
    profiles = yaml.load(readFileSync(file, 'utf8'))
  } catch (error) {
    throw new ActionError(
      `Could not parse ${file}: ${error instanceof Error ? error.message.split('\n')[0] : error}`
    )
  }
  const profile = (profiles as Record<string, { outputs?: unknown } | undefined> | null)?.[
    profileName
  ]
  if (!profile || typeof profile !== 'object') return undefined
  return profile.outputs && typeof profile.outputs === 'object' ? Object.keys(profile.outputs) : []
}

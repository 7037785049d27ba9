// Reads the dbt profile target the way dbt resolves it, so the action can mask its secrets
// and open its own connection. Only `env_var(...)`, quoted strings and `or` are rendered:
// a field with any other Jinja is left out and named, never shown, since it may hold a secret.
import { existsSync, readFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import yaml from 'js-yaml'
import { ActionError, errorMessage } from '../errors.js'
import { scalarText } from '../util/scalar.js'

/** What the action needs to connect to the target. */
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
  /** PostgreSQL only: the role dbt switches to with `set role` after connecting. */
  role?: string
  sslmode?: string
  /** Paths of the CA bundle, client certificate and key, as libpq reads them. */
  sslrootcert?: string
  sslcert?: string
  sslkey?: string
}

/** A profile target as far as the action could render it. */
export interface RenderedTarget {
  profile: string
  target: string
  /** The target's fields; those the action could not render are left out. */
  fields: Record<string, unknown>
  /** Why each field left out could not be rendered, by its name (`a.b` when nested). */
  unrendered: Record<string, string>
}

const EXPRESSION = /\{\{\s*(.*?)\s*\}\}/g
const FILTER = String.raw`(?:\|\s*(?:int|float|as_number|as_text|as_bool|as_native|string)\s*)?`
const ENV_VAR = new RegExp(
  String.raw`^env_var\(\s*(['"])([^'"]+)\1\s*(?:,\s*(?:'([^']*)'|"([^"]*)"|(-?\d+(?:\.\d+)?))\s*)?\)\s*` +
    FILTER +
    '$'
)
const LITERAL = /^(?:'([^']*)'|"([^"]*)")$/

/** The fields the action's own connection reads. */
const CONNECTION_FIELDS = [
  'type',
  'host',
  'port',
  'user',
  'password',
  'pass',
  'dbname',
  'database',
  'schema',
  'cluster',
  'role',
  'sslmode',
  'sslrootcert',
  'sslcert',
  'sslkey'
]

/** Credentials in dbt adapters' profiles: password/pass, passphrases, tokens, secrets, keys. */
const SECRET_FIELD = /pass|secret|token|private_key|credential/i
/** …but not where they are kept: paths, files and URLs are no secrets. */
const LOCATION_FIELD = /(?:_path|_file|_uri|_url)$/i

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

/** One operand: env_var('NAME'[, default])[| filter] or a quoted string. */
function renderTerm(term: string, env: NodeJS.ProcessEnv): string {
  const literal = LITERAL.exec(term)
  if (literal) return literal[1] ?? literal[2] ?? ''
  const match = ENV_VAR.exec(term)
  if (!match) {
    throw new ActionError(
      `it has Jinja the action cannot render: only env_var('NAME'[, default]), quoted strings and "or" are supported`
    )
  }
  const rendered = env[match[2]!] ?? match[3] ?? match[4] ?? match[5]
  if (rendered === undefined)
    throw new ActionError(`env var ${match[2]} is not set and has no default`)
  return rendered
}

export function renderValue(value: string, env: NodeJS.ProcessEnv): string {
  return value.replace(EXPRESSION, (_whole, expression: string) => {
    // Jinja's `a or b`: the first operand that renders non-empty.
    const terms = expression.split(/\s+or\s+/).map((term) => renderTerm(term.trim(), env))
    return terms.find((term) => term !== '') ?? terms[terms.length - 1] ?? ''
  })
}

/** Renders every string in `value`; what cannot be rendered is left out and noted by name. */
function renderTree(
  value: unknown,
  name: string,
  env: NodeJS.ProcessEnv,
  unrendered: Record<string, string>
): unknown {
  if (typeof value === 'string') {
    try {
      return renderValue(value, env)
    } catch (error) {
      unrendered[name] = errorMessage(error)
      return undefined
    }
  }
  if (Array.isArray(value)) return value.map((item) => renderTree(item, name, env, unrendered))
  if (value !== null && typeof value === 'object') {
    const fields: Record<string, unknown> = {}
    for (const [key, child] of Object.entries(value)) {
      const rendered = renderTree(child, name ? `${name}.${key}` : key, env, unrendered)
      if (rendered !== undefined) fields[key] = rendered
    }
    return fields
  }
  return value
}

function optionalString(value: unknown): string | undefined {
  const text = scalarText(value)
  return text === '' ? undefined : text
}

/** The target rendered as far as possible, or an error that says which profile or target is wrong. */
export function readProfile(
  file: string,
  profileName: string,
  targetName: string | undefined,
  env: NodeJS.ProcessEnv
): RenderedTarget {
  const profiles = (yaml.load(readFileSync(file, 'utf8')) ?? {}) as Record<
    string,
    Record<string, unknown>
  >
  const profile = profiles[profileName]
  if (!profile) throw new ActionError(`Profile "${profileName}" is not in ${file}.`)
  const outputs = (profile.outputs ?? {}) as Record<string, Record<string, unknown>>
  const target = targetName ?? optionalString(renderValue(scalarText(profile.target) ?? '', env))
  if (!target || !outputs[target]) {
    throw new ActionError(
      `Target "${target ?? ''}" is not in profile "${profileName}" (${file}); it has: ${Object.keys(outputs).join(', ') || 'no targets'}.`
    )
  }
  const unrendered: Record<string, string> = {}
  const fields = renderTree(outputs[target], '', env, unrendered) as Record<string, unknown>
  return { profile: profileName, target, fields, unrendered }
}

/** The values of every secret-looking field, nested ones included (e.g. keyfile_json.private_key). */
export function secretValues(fields: Record<string, unknown>): string[] {
  const found: string[] = []
  const visit = (value: unknown, key: string): void => {
    if (Array.isArray(value)) value.forEach((item) => visit(item, key))
    else if (value !== null && typeof value === 'object')
      for (const [child, inner] of Object.entries(value)) visit(inner, child)
    else if (
      (typeof value === 'string' || typeof value === 'number') &&
      SECRET_FIELD.test(key) &&
      !LOCATION_FIELD.test(key)
    )
      found.push(String(value))
  }
  visit(fields, '')
  return found
}

/** The connection, or an error naming the field it needs but the action could not render. */
export function connectionTarget(rendered: RenderedTarget): ProfileTarget {
  const missing = CONNECTION_FIELDS.find((name) => name in rendered.unrendered)
  if (missing) {
    throw new ActionError(
      `Profile field "${missing}" of target "${rendered.target}": ${rendered.unrendered[missing]}.`
    )
  }
  const { fields } = rendered
  const type = scalarText(fields.type) ?? ''
  const role = optionalString(fields.role)
  if (role && type === 'materialize') {
    // dbt-materialize runs `set role` when the field is set, and Materialize refuses it.
    throw new ActionError(
      `Profile field "role" of target "${rendered.target}" is set, but Materialize has no SET ROLE, so dbt-materialize cannot connect with it. ` +
        'Log in as the deploy role itself (its user and password or app password) and remove "role".'
    )
  }
  return {
    profile: rendered.profile,
    target: rendered.target,
    type,
    host: optionalString(fields.host),
    port: fields.port === undefined ? undefined : Number(fields.port),
    user: optionalString(fields.user),
    password: optionalString(fields.password ?? fields.pass),
    database: optionalString(fields.dbname ?? fields.database),
    schema: optionalString(fields.schema),
    cluster: optionalString(fields.cluster),
    role,
    sslmode: optionalString(fields.sslmode),
    sslrootcert: optionalString(fields.sslrootcert),
    sslcert: optionalString(fields.sslcert),
    sslkey: optionalString(fields.sslkey)
  }
}

/** The target names of a profile, read by name only (nothing rendered); undefined without the profile. */
export function profileTargetNames(file: string, profileName: string): string[] | undefined {
  let profiles: unknown
  try {
    profiles = yaml.load(readFileSync(file, 'utf8'))
  } catch (error) {
    throw new ActionError(`Could not parse ${file}: ${errorMessage(error).split('\n')[0]}`)
  }
  const profile = (profiles as Record<string, { outputs?: unknown } | undefined> | null)?.[
    profileName
  ]
  if (!profile || typeof profile !== 'object') return undefined
  return profile.outputs && typeof profile.outputs === 'object' ? Object.keys(profile.outputs) : []
}

// PostgreSQL's own privilege errors (SQLSTATE 42501, raised for the DDL that passes through:
// CREATE SCHEMA, DROP SCHEMA, CREATE VIEW in a schema, …) in Materialize's words, as upstream's
// UnauthorizedError prints them (src/sql/src/rbac.rs): `permission denied for SCHEMA "db.s"`,
// `must be owner of SCHEMA db.s`. PostgreSQL names a relation without its schema, so relation
// messages keep the bare name.

const OBJECT_TYPES: Record<string, string> = {
  database: 'DATABASE',
  schema: 'SCHEMA',
  table: 'TABLE',
  view: 'VIEW',
  'materialized view': 'MATERIALIZED VIEW',
  index: 'INDEX'
}

const PATTERN =
  /^(permission denied for|must be owner of) (database|schema|table|view|materialized view|index) (.+)$/

/** Materialize's text for a PostgreSQL 42501 message, or undefined when it is not one. */
export function materializePrivilegeMessage(message: string, database: string): string | undefined {
  const match = PATTERN.exec(message)
  if (!match) return undefined
  const [, verb, kind, name] = match as unknown as [string, string, string, string]
  const qualified = kind === 'schema' ? `${database}.${name}` : name
  const object = verb === 'permission denied for' ? `"${qualified}"` : qualified
  return `${verb} ${OBJECT_TYPES[kind]} ${object}`
}

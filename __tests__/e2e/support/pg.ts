// Read-only looks at the shared PostgreSQL server, to assert what dbt really built. Kept for
// callers that only know PostgreSQL; warehouse.ts has the same looks for Materialize too.
import { postgres } from './warehouse.js'

export const query = postgres.query
export const execute = postgres.execute
export const relationsIn = postgres.relationsIn
export const schemasStartingWith = postgres.schemasStartingWith
export const columnsOf = postgres.columnsOf

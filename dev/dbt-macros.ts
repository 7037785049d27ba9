// dbt-materialize's own SQL, rendered from the installed macros: what the emulator tests and
// the bench compare the action against.
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { repoRoot } from './runner.js'

const MACROS = path.join(
  repoRoot,
  '.venv/lib/python3.11/site-packages/dbt/include/materialize/macros'
)

/** `are_clusters_ready`'s SQL (deploy_await's poll) exactly as the installed macro renders it. */
export function areClustersReadySql(clusters: string[], lagThreshold = '1s'): string {
  const macro = readFileSync(path.join(MACROS, 'utils', 'are_clusters_ready.sql'), 'utf8')
  const start = macro.indexOf('{%- set check_clusters_ready_sql %}')
  const end = macro.indexOf('{%- endset %}', start)
  const quote = (s: string): string => `'${s.replace(/'/g, "''")}'`
  const sql = macro
    .slice(start + '{%- set check_clusters_ready_sql %}'.length, end)
    .replaceAll('{{ in_clause }}', clusters.map(quote).join(', '))
    .replaceAll('{{ dbt.string_literal(lag_threshold) }}', quote(lagThreshold))
  if (start < 0 || sql.includes('{{') || sql.includes('{%')) {
    throw new Error('are_clusters_ready.sql changed shape; update dev/dbt-macros.ts')
  }
  return sql
}

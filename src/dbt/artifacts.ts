// dbt's JSON artifacts, reduced to the fields the reports use.
import { existsSync, readFileSync } from 'node:fs'
import { ActionError, errorMessage } from '../errors.js'
import type { ManifestVersion } from './manifest-versions.js'

export interface NodeResult {
  uniqueId: string
  status: string
  seconds: number
  message?: string
  failures?: number
}

export interface NodeInfo {
  resourceType: string
  name: string
  originalFilePath?: string
  checksum?: string
}

/** Node facts keyed by unique id. */
export type NodeIndex = Map<string, NodeInfo>

export const FAILED_STATUSES = new Set(['error', 'fail', 'runtime error'])

interface RawResult {
  unique_id: string
  status: string
  execution_time?: number
  message?: string | null
  failures?: number | null
}

interface RawNode {
  resource_type?: string
  name?: string
  original_file_path?: string
  checksum?: { checksum?: string }
}

export function readRunResults(file: string): NodeResult[] {
  if (!existsSync(file)) return []
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as { results?: RawResult[] }
  return (parsed.results ?? []).map((r) => ({
    uniqueId: r.unique_id,
    status: r.status,
    seconds: r.execution_time ?? 0,
    message: r.message ?? undefined,
    failures: r.failures ?? undefined
  }))
}

/** A manifest reduced to its versions and per-node facts, so the big document can be freed. */
export interface ParsedManifest extends ManifestVersion {
  nodes: NodeIndex
}

export function parseManifest(text: string, source: string): ParsedManifest {
  let parsed: {
    metadata?: { dbt_schema_version?: string; dbt_version?: string }
    nodes?: Record<string, RawNode>
    sources?: Record<string, RawNode>
  }
  try {
    parsed = JSON.parse(text) as typeof parsed
  } catch (error) {
    throw new ActionError(`${source} is not valid JSON (${errorMessage(error)}).`)
  }
  const schemaVersion = parsed?.metadata?.dbt_schema_version
  if (!schemaVersion?.includes('manifest') || typeof parsed.nodes !== 'object') {
    throw new ActionError(
      `${source} is not a dbt manifest (no metadata.dbt_schema_version or nodes).`
    )
  }
  const nodes: NodeIndex = new Map()
  for (const [id, node] of Object.entries({ ...parsed.nodes, ...parsed.sources })) {
    nodes.set(id, {
      resourceType: node.resource_type ?? id.split('.')[0] ?? '',
      name: node.name ?? id,
      originalFilePath: node.original_file_path,
      checksum: node.checksum?.checksum
    })
  }
  return { schemaVersion, dbtVersion: parsed.metadata?.dbt_version, nodes }
}

export function readManifestIndex(file: string): NodeIndex {
  return existsSync(file)
    ? parseManifest(readFileSync(file, 'utf8'), file).nodes
    : new Map<string, NodeInfo>()
}

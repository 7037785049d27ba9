// An in-memory ObjectStore with S3's conditional-write semantics.
import {
  ConditionalWriteRefused,
  type ObjectHead,
  type ObjectStore,
  type StoredObject,
  type WriteCondition
} from '../src/store/s3.js'

/**
 * What S3 does with one write: `lose-answer` commits it, then refuses it as the SDK's retry of
 * a write whose answer was lost would be; `conflict` refuses it unchanged (a 409).
 */
export type PutFault = 'lose-answer' | 'conflict'

export class MemoryStore implements ObjectStore {
  readonly objects = new Map<string, StoredObject>()
  private version = 0
  failGet?: Error
  /** Called before each write: a concurrent writer (via `objects`) or a fault for this write. */
  beforePut?: (key: string) => PutFault | void

  async get(key: string): Promise<StoredObject | undefined> {
    if (this.failGet) throw this.failGet
    return this.objects.get(key)
  }

  /** Every key read with HEAD, in order. */
  readonly heads: string[] = []

  async head(key: string): Promise<ObjectHead | undefined> {
    if (this.failGet) throw this.failGet
    this.heads.push(key)
    const object = this.objects.get(key)
    return object && { etag: object.etag, metadata: object.metadata }
  }

  async put(
    key: string,
    body: string,
    condition?: WriteCondition,
    metadata: Record<string, string> = {}
  ): Promise<string> {
    const fault = this.beforePut?.(key)
    if (fault === 'conflict') throw new ConditionalWriteRefused(key)
    const etag = this.write(key, body, condition, metadata)
    if (fault === 'lose-answer') throw new ConditionalWriteRefused(key)
    return etag
  }

  private write(
    key: string,
    body: string,
    condition: WriteCondition,
    metadata: Record<string, string>
  ): string {
    const current = this.objects.get(key)
    if (condition && 'ifNoneMatch' in condition && current) throw new ConditionalWriteRefused(key)
    if (condition && 'ifMatch' in condition && current?.etag !== condition.ifMatch)
      throw new ConditionalWriteRefused(key)
    const etag = `"v${++this.version}"`
    this.objects.set(key, { body, etag, metadata })
    return etag
  }

  async delete(key: string, ifMatch?: string): Promise<void> {
    const current = this.objects.get(key)
    if (ifMatch && current && current.etag !== ifMatch) throw new ConditionalWriteRefused(key)
    this.objects.delete(key)
  }

  close(): void {}
}

export function manifestJson(nodes: Record<string, string> = {}): string {
  return JSON.stringify({
    metadata: {
      dbt_schema_version: 'https://schemas.getdbt.com/dbt/manifest/v12.json',
      dbt_version: '1.11.7'
    },
    nodes: Object.fromEntries(
      Object.entries(nodes).map(([id, checksum]) => [
        id,
        {
          resource_type: id.split('.')[0],
          name: id.split('.').pop(),
          original_file_path: `models/${id.split('.').pop()}.sql`,
          checksum: { checksum }
        }
      ])
    )
  })
}

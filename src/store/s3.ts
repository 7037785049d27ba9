// The state store: small JSON objects in S3 or an S3-compatible server, read with their ETag
// and written with conditional headers so that concurrent runs cannot clobber each other.
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException
} from '@aws-sdk/client-s3'
import type { S3Settings } from '../inputs.js'
import { ActionError, errorMessage } from '../errors.js'

export interface StoredObject extends ObjectHead {
  body: string
}

/** What a HEAD request tells: enough to decide without downloading the body. */
export interface ObjectHead {
  etag: string
  metadata: Record<string, string>
}

export type WriteCondition = { ifMatch: string } | { ifNoneMatch: '*' } | undefined

export interface ObjectStore {
  /** The object, or undefined when the key does not exist. */
  get(key: string): Promise<StoredObject | undefined>
  /** The object's ETag and metadata, or undefined when the key does not exist. */
  head(key: string): Promise<ObjectHead | undefined>
  /** Writes in one request; a failed condition throws ConditionalWriteRefused. */
  put(
    key: string,
    body: string,
    condition?: WriteCondition,
    metadata?: Record<string, string>
  ): Promise<string>
  /** Deletes the key; with ifMatch, only that version (a no-op when already gone). */
  delete(key: string, ifMatch?: string): Promise<void>
}

/** Another writer got there first: the precondition (ETag or absence) no longer holds. */
export class ConditionalWriteRefused extends ActionError {
  constructor(readonly location: string) {
    super(
      `S3 refused the conditional write to ${location}: the object changed since this run read it.`
    )
    this.name = 'ConditionalWriteRefused'
  }
}

export class S3ObjectStore implements ObjectStore {
  private constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly settings: S3Settings
  ) {}

  static create(settings: S3Settings, bucket: string): S3ObjectStore {
    const client = new S3Client({
      region: settings.region,
      endpoint: settings.endpoint,
      forcePathStyle: settings.endpoint !== undefined,
      // S3-compatible stores reject or corrupt the SDK's default aws-chunked CRC32 uploads.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: settings.maxAttempts,
      requestHandler: {
        connectionTimeout: settings.timeoutMs,
        requestTimeout: settings.timeoutMs,
        // Without this the SDK only logs a warning when a response is late.
        throwOnRequestTimeout: true
      }
    })
    return new S3ObjectStore(client, bucket, settings)
  }

  async get(key: string): Promise<StoredObject | undefined> {
    try {
      const response = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: key })
      )
      const body = (await response.Body?.transformToString('utf8')) ?? ''
      return { body, etag: response.ETag ?? '', metadata: response.Metadata ?? {} }
    } catch (error) {
      if (errorCode(error) === 'NoSuchKey') return undefined
      throw this.explain(error, 'read', key)
    }
  }

  async head(key: string): Promise<ObjectHead | undefined> {
    try {
      const response = await this.client.send(
        new HeadObjectCommand({ Bucket: this.bucket, Key: key })
      )
      return { etag: response.ETag ?? '', metadata: response.Metadata ?? {} }
    } catch (error) {
      // A HEAD answer has no body, so a 404 may be a missing key or a missing bucket: GET tells.
      if (httpStatus(error) === 404) {
        const object = await this.get(key)
        return object && { etag: object.etag, metadata: object.metadata }
      }
      throw this.explain(error, 'read', key)
    }
  }

  async put(
    key: string,
    body: string,
    condition?: WriteCondition,
    metadata: Record<string, string> = {}
  ): Promise<string> {
    try {
      const response = await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: body,
          ContentType: 'application/json',
          Metadata: metadata,
          IfMatch: condition && 'ifMatch' in condition ? condition.ifMatch : undefined,
          IfNoneMatch: condition && 'ifNoneMatch' in condition ? condition.ifNoneMatch : undefined
        })
      )
      return response.ETag ?? ''
    } catch (error) {
      const code = errorCode(error)
      // 409 is a concurrent conditional write; 404 is If-Match on a key deleted meanwhile.
      if (
        condition &&
        ['PreconditionFailed', 'ConditionalRequestConflict', 'NoSuchKey'].includes(code)
      ) {
        throw new ConditionalWriteRefused(this.location(key))
      }
      throw this.explain(error, 'write', key)
    }
  }

  async delete(key: string, ifMatch?: string): Promise<void> {
    try {
      await this.client.send(
        new DeleteObjectCommand({ Bucket: this.bucket, Key: key, IfMatch: ifMatch })
      )
    } catch (error) {
      const code = errorCode(error)
      if (code === 'NoSuchKey') return
      if (ifMatch && code === 'PreconditionFailed')
        throw new ConditionalWriteRefused(this.location(key))
      throw this.explain(error, 'delete', key)
    }
  }

  close(): void {
    this.client.destroy()
  }

  private location(key: string): string {
    return `s3://${this.bucket}/${key}`
  }

  private explain(error: unknown, verb: 'read' | 'write' | 'delete', key: string): ActionError {
    const where = this.location(key)
    const attempts = `after ${this.settings.maxAttempts} attempt(s)`
    const endpoint = this.settings.endpoint ? ` at ${this.settings.endpoint}` : ''
    const code = errorCode(error)
    const status = httpStatus(error)
    const detail = (() => {
      if (code === 'NoSuchBucket')
        return `the bucket "${this.bucket}" does not exist${endpoint}; check "state-uri" and "s3-endpoint".`
      if (code === 'AccessDenied' || status === 403)
        return `access was denied (${code === 'Unknown' ? 'HTTP 403' : code}); the credentials need s3:GetObject and s3:PutObject on the state prefix.`
      if (code === 'TimeoutError' || code === 'RequestTimeout')
        return `S3${endpoint} did not answer within ${this.settings.timeoutMs / 1000} s ${attempts} (raise "s3-timeout" for slow stores).`
      if (code === 'CredentialsProviderError')
        return 'no AWS credentials were found; configure them before this step, e.g. with aws-actions/configure-aws-credentials.'
      if (status && status >= 500)
        return `S3${endpoint} answered HTTP ${status} (${code}) ${attempts}.`
      if (isNetworkError(code)) return `S3${endpoint} is unreachable (${code}) ${attempts}.`
      return `S3 answered ${code}${status ? ` (HTTP ${status})` : ''}: ${errorMessage(error)}`
    })()
    return new ActionError(`Could not ${verb} ${where}: ${detail}`, { cause: error })
  }
}

function httpStatus(error: unknown): number | undefined {
  return error instanceof S3ServiceException ? error.$metadata.httpStatusCode : undefined
}

function errorCode(error: unknown): string {
  if (error && typeof error === 'object') {
    const named = error as { name?: string; Code?: string; code?: string }
    return named.Code ?? named.code ?? named.name ?? 'UnknownError'
  }
  return 'UnknownError'
}

function isNetworkError(code: string): boolean {
  return [
    'ECONNREFUSED',
    'ECONNRESET',
    'ENOTFOUND',
    'EAI_AGAIN',
    'EPIPE',
    'ETIMEDOUT',
    'EHOSTUNREACH'
  ].includes(code)
}

// Direct S3 access to the moto server for arranging and checking state, independent of the
// action's own S3 code.
import { randomBytes } from 'node:crypto'
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  S3Client
} from '@aws-sdk/client-s3'

export interface StoredObject {
  body: string
  /** User metadata, lower-case keys without `x-amz-meta-` (e.g. `git-sha`). */
  metadata: Record<string, string>
  etag: string
  contentType?: string
}

export function s3Endpoint(): string {
  const endpoint = process.env.E2E_S3_ENDPOINT
  if (!endpoint) throw new Error('E2E_S3_ENDPOINT is not set: is the e2e global setup running?')
  return endpoint
}

let client: S3Client | undefined

export function s3Client(): S3Client {
  client ??= new S3Client({
    endpoint: s3Endpoint(),
    region: 'us-east-1',
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' }
  })
  return client
}

/** A new, empty bucket with a unique name. */
export async function createBucket(label: string): Promise<string> {
  const name = `e2e-${label}-${randomBytes(4).toString('hex')}`.toLowerCase()
  await s3Client().send(new CreateBucketCommand({ Bucket: name }))
  return name
}

export async function getObject(bucket: string, key: string): Promise<StoredObject | undefined> {
  try {
    const response = await s3Client().send(new GetObjectCommand({ Bucket: bucket, Key: key }))
    return {
      body: (await response.Body?.transformToString('utf8')) ?? '',
      metadata: response.Metadata ?? {},
      etag: response.ETag ?? '',
      contentType: response.ContentType
    }
  } catch (error) {
    if (error instanceof NoSuchKey) return undefined
    throw error
  }
}

export async function putObject(
  bucket: string,
  key: string,
  body: string,
  metadata: Record<string, string> = {}
): Promise<string> {
  const response = await s3Client().send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: body,
      Metadata: metadata,
      ContentType: 'application/json'
    })
  )
  return response.ETag ?? ''
}

export async function listKeys(bucket: string, prefix = ''): Promise<string[]> {
  const keys: string[] = []
  let token: string | undefined
  do {
    const page = await s3Client().send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token })
    )
    keys.push(...(page.Contents ?? []).map((object) => object.Key!))
    token = page.NextContinuationToken
  } while (token)
  return keys.sort()
}

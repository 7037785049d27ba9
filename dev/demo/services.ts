// The local stand-ins a run of the action talks to: PostgreSQL behind the Materialize
// emulator, moto for S3, and the GitHub API stub. Shared by the demo and the bench.
import { randomBytes } from 'node:crypto'
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3'
import { startEmulator, type Emulator } from '../emulator/index.js'
import { startGitHubStub, type GitHubStub } from '../github-stub.js'
import { startMoto, type MotoServer } from '../moto.js'
import { withPgClient } from '../pg.js'
import { startPostgres, type PostgresServer } from '../postgres.js'

export interface Services {
  postgres: PostgresServer
  emulator: Emulator
  moto: MotoServer
  github: GitHubStub
  /** The state bucket. */
  bucket: string
  /** The environment the action and dbt need: profile variables and S3 credentials. */
  env: Record<string, string>
  /** Runs SQL through the emulator, as a client of "Materialize" would. */
  sql(statement: string): Promise<void>
  stop(): Promise<void>
}

const REGION = 'us-east-1'
export const AWS_ENV = {
  AWS_ACCESS_KEY_ID: 'testing',
  AWS_SECRET_ACCESS_KEY: 'testing',
  AWS_REGION: REGION,
  AWS_EC2_METADATA_DISABLED: 'true'
}

export function s3Client(endpoint: string): S3Client {
  return new S3Client({
    endpoint,
    region: REGION,
    forcePathStyle: true,
    // moto, like most S3-compatible stores, wants checksums only where S3 requires them.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    credentials: { accessKeyId: AWS_ENV.AWS_ACCESS_KEY_ID, secretAccessKey: 'testing' }
  })
}

async function createBucket(endpoint: string, name: string): Promise<void> {
  const client = s3Client(endpoint)
  try {
    await client.send(new CreateBucketCommand({ Bucket: name }))
  } finally {
    client.destroy()
  }
}

/** Stops whatever started, in reverse order, never throwing. */
async function stopAll(stops: Array<() => Promise<void>>): Promise<void> {
  for (const stop of [...stops].reverse()) {
    await stop().catch(() => undefined)
  }
}

function runSql(url: string, statement: string): Promise<void> {
  // The simple protocol: the emulator rewrites multi-part Materialize DDL only there.
  return withPgClient(url, async (client) => void (await client.query(statement)))
}

async function startEmulatorStack(
  password: string,
  stops: Array<() => Promise<void>>
): Promise<{ postgres: PostgresServer; emulator: Emulator }> {
  const postgres = await startPostgres({
    user: 'materialize',
    password,
    // Lets PostgreSQL notice a vanished client during a long query.
    settings: { client_connection_check_interval: '1000' }
  })
  stops.push(() => postgres.stop())
  const emulator = await startEmulator({ postgres })
  stops.push(() => emulator.stop())
  return { postgres, emulator }
}

async function startMotoStack(
  stops: Array<() => Promise<void>>
): Promise<{ moto: MotoServer; bucket: string }> {
  const moto = await startMoto()
  stops.push(() => moto.stop())
  const bucket = `dbt-state-${randomBytes(3).toString('hex')}`
  await createBucket(moto.endpoint, bucket)
  return { moto, bucket }
}

function settled<T>(result: PromiseSettledResult<T>): T {
  if (result.status === 'rejected') throw result.reason
  return result.value
}

/** Starts everything in parallel; on any failure stops what did start, then throws. */
export async function startServices(): Promise<Services> {
  const stops: Array<() => Promise<void>> = []
  const password = `demo-${randomBytes(9).toString('base64url')}`
  // allSettled, not all: a failure must wait for the others to start before stopping them.
  const results = await Promise.allSettled([
    startEmulatorStack(password, stops),
    startMotoStack(stops),
    startGitHubStub().then((stub) => (stops.push(() => stub.stop()), stub))
  ])
  try {
    const stack = settled(results[0])
    const s3 = settled(results[1])
    const github = settled(results[2])
    const { emulator } = stack
    return {
      ...stack,
      ...s3,
      github,
      env: {
        MZ_HOST: emulator.host,
        MZ_PORT: String(emulator.port),
        MZ_USER: emulator.user,
        DBT_ENV_SECRET_MZ_PASSWORD: emulator.password,
        ...AWS_ENV
      },
      sql: (statement) => runSql(emulator.url(), statement),
      stop: () => stopAll(stops)
    }
  } catch (error) {
    await stopAll(stops)
    throw error
  }
}

// A deploy lease in S3 beside the manifest. Created with If-None-Match, renewed and released
// with If-Match on our own ETag, and taken over only once expired (with If-Match on the
// expired lease's ETag, so two runs cannot both take it). Expiry keeps a crashed run from
// blocking deploys forever: correctness never depends on the post step running.
import * as core from '@actions/core'
import { randomUUID } from 'node:crypto'
import { ActionError, errorMessage } from '../errors.js'
import { ConditionalWriteRefused, type ObjectStore, type WriteCondition } from './s3.js'
import { misfit, type Shape } from './shape.js'

export interface LeaseBody {
  owner: string
  runUrl?: string
  nonce: string
  acquiredAt: string
  expiresAt: string
}

export interface LockOptions {
  owner: string
  runUrl?: string
  ttlMs: number
  timeoutMs: number
  pollMs: number
  sleep: (ms: number) => Promise<void>
  now?: () => number
}

export class LockTimeout extends ActionError {}

/** The lease expired and another run took it over (or it was deleted): this run must stop. */
export class LeaseLost extends ActionError {}

function describe(lease: LeaseBody): string {
  const run = lease.runUrl ? ` (${lease.runUrl})` : ''
  return `${lease.owner}${run}, acquired ${lease.acquiredAt}, expires ${lease.expiresAt}`
}

const LEASE_SHAPE: Shape<LeaseBody> = {
  owner: 'string',
  runUrl: 'string?',
  nonce: 'string',
  acquiredAt: 'string',
  expiresAt: 'string'
}

/** The lease, or undefined for a body no run of this action wrote (taken over once expired). */
export function parseLease(body: string): LeaseBody | undefined {
  try {
    const lease: unknown = JSON.parse(body)
    return misfit(lease, LEASE_SHAPE) === undefined ? (lease as LeaseBody) : undefined
  } catch {
    return undefined
  }
}

export class S3Lease {
  private constructor(
    private readonly store: ObjectStore,
    readonly key: string,
    private body: LeaseBody,
    private etag: string,
    private readonly options: LockOptions
  ) {}

  get holder(): LeaseBody {
    return this.body
  }

  static async acquire(store: ObjectStore, key: string, options: LockOptions): Promise<S3Lease> {
    const now = options.now ?? Date.now
    const deadline = now() + options.timeoutMs
    const nonce = randomUUID()
    let waitingFor: LeaseBody | undefined
    for (;;) {
      const body = S3Lease.newBody(options, nonce, now())
      const existing = await store.get(key)
      const current = existing && parseLease(existing.body)
      const condition: WriteCondition = !existing
        ? { ifNoneMatch: '*' }
        : !current || Date.parse(current.expiresAt) <= now()
          ? { ifMatch: existing.etag }
          : undefined
      if (current?.nonce === nonce) return new S3Lease(store, key, current, existing!.etag, options)
      if (condition) {
        if (existing)
          core.warning(
            `Taking over an expired or unreadable deploy lock: ${current ? describe(current) : 'unreadable'}.`
          )
        try {
          const etag = await store.put(key, JSON.stringify(body), condition)
          return new S3Lease(store, key, body, etag, options)
        } catch (error) {
          // Someone else won the race, or S3 retried our own write: the next read tells which.
          if (!(error instanceof ConditionalWriteRefused)) throw error
          continue
        }
      }
      if (now() >= deadline) {
        throw new LockTimeout(
          `Another deploy holds the lock ${key}: ${describe(current!)}. Waited ${Math.round(options.timeoutMs / 1000)} s ("lock-timeout"). ` +
            'If that run is gone, the lock expires by itself; delete the object to release it sooner.'
        )
      }
      if (waitingFor?.nonce !== current!.nonce)
        core.info(`Waiting for the deploy lock held by ${describe(current!)}.`)
      waitingFor = current
      await options.sleep(Math.min(options.pollMs, Math.max(0, deadline - now())))
    }
  }

  private static newBody(options: LockOptions, nonce: string, at: number): LeaseBody {
    return {
      owner: options.owner,
      runUrl: options.runUrl,
      nonce,
      acquiredAt: new Date(at).toISOString(),
      expiresAt: new Date(at + options.ttlMs).toISOString()
    }
  }

  /** Extends the lease; throws LeaseLost if it is no longer ours. */
  async renew(): Promise<void> {
    const now = (this.options.now ?? Date.now)()
    const body = { ...this.body, expiresAt: new Date(now + this.options.ttlMs).toISOString() }
    try {
      this.etag = await this.store.put(this.key, JSON.stringify(body), { ifMatch: this.etag })
      this.body = body
    } catch (error) {
      if (!(error instanceof ConditionalWriteRefused)) throw error
      // S3 may have retried our own renewal: the lease is still ours if it carries our nonce.
      const existing = await this.store.get(this.key)
      const current = existing && parseLease(existing.body)
      if (current?.nonce !== this.body.nonce) throw this.lost(current)
      this.body = current
      this.etag = existing!.etag
    }
  }

  private lost(current: LeaseBody | undefined): LeaseLost {
    const now = current ? `another run holds it now: ${describe(current)}` : 'it was deleted'
    return new LeaseLost(
      `The deploy lock ${this.key} was lost (${now}). This run stops so that it touches nothing the new holder owns.`
    )
  }

  /** Deletes the lease if it is still ours; false when it is not (any more). */
  async release(): Promise<boolean> {
    return S3Lease.releaseRecorded(this.store, this.key, this.body.nonce)
  }

  /** Renews every third of the TTL until stopped; `onLost` hears once if the lease is gone. */
  keepAlive(onLost: (error: LeaseLost) => void): () => void {
    const timer = setInterval(
      () => {
        this.renew().catch((error: unknown) => {
          if (!(error instanceof LeaseLost))
            return core.warning(`Renewing the deploy lock failed: ${errorMessage(error)}`)
          clearInterval(timer)
          onLost(error)
        })
      },
      Math.max(1000, this.options.ttlMs / 3)
    )
    timer.unref()
    return () => clearInterval(timer)
  }

  /** Whether a lease at `key` carries another nonce than `nonce` (another run holds it). */
  static async heldByAnother(store: ObjectStore, key: string, nonce: string): Promise<boolean> {
    const existing = await store.get(key)
    return existing !== undefined && parseLease(existing.body)?.nonce !== nonce
  }

  /** Releases a lease recorded by an earlier step, if it still carries that nonce. */
  static async releaseRecorded(store: ObjectStore, key: string, nonce: string): Promise<boolean> {
    const existing = await store.get(key)
    if (!existing || parseLease(existing.body)?.nonce !== nonce) return false
    await store.delete(key, existing.etag)
    return true
  }
}

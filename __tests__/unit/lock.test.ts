import { jest, describe, it, expect, beforeEach } from '@jest/globals'
import * as core from '../../__fixtures__/core.js'
import { MemoryStore } from '../../__fixtures__/store.js'

jest.unstable_mockModule('@actions/core', () => core)
const { S3Lease, LockTimeout, LeaseLost } = await import('../../src/store/lock.js')

/** A clock that only moves when the lock sleeps. */
function clock(start = Date.parse('2026-11-25T00:00:00Z')) {
  let now = start
  return { now: () => now, sleep: async (ms: number) => void (now += ms) }
}

function options(overrides: Partial<Parameters<typeof S3Lease.acquire>[2]> = {}) {
  const time = clock()
  return { owner: 'run A', ttlMs: 60_000, timeoutMs: 10_000, pollMs: 1000, ...time, ...overrides }
}

beforeEach(() => core.resetCore())

describe('S3Lease', () => {
  it('is taken with If-None-Match and released only by its holder', async () => {
    const store = new MemoryStore()
    const lease = await S3Lease.acquire(store, 'lock', options())
    expect(JSON.parse(store.objects.get('lock')!.body)).toMatchObject({
      owner: 'run A',
      nonce: lease.holder.nonce
    })
    expect(await S3Lease.releaseRecorded(store, 'lock', 'someone-else')).toBe(false)
    await lease.release()
    expect(store.objects.has('lock')).toBe(false)
  })

  it('makes a second deploy wait, then fail naming the holder', async () => {
    const store = new MemoryStore()
    const time = clock()
    await S3Lease.acquire(store, 'lock', options({ ...time, runUrl: 'https://ci/run/1' }))
    const waiting = S3Lease.acquire(store, 'lock', options({ ...time, owner: 'run B' }))
    await expect(waiting).rejects.toBeInstanceOf(LockTimeout)
    await expect(
      S3Lease.acquire(store, 'lock', options({ ...time, owner: 'run B' }))
    ).rejects.toThrow(/run A \(https:\/\/ci\/run\/1\)/)
    expect(time.now() - Date.parse('2026-11-25T00:00:00Z')).toBeGreaterThanOrEqual(10_000)
  })

  it('gets the lock once the holder releases it while waiting', async () => {
    const store = new MemoryStore()
    const time = clock()
    const first = await S3Lease.acquire(store, 'lock', options(time))
    const sleep = async (ms: number) => {
      await time.sleep(ms)
      await first.release()
    }
    const second = await S3Lease.acquire(store, 'lock', options({ ...time, sleep, owner: 'run B' }))
    expect(second.holder.owner).toBe('run B')
  })

  it('takes over an expired lease, and the old holder then learns it lost it', async () => {
    const store = new MemoryStore()
    const time = clock()
    const stale = await S3Lease.acquire(store, 'lock', options({ ...time, ttlMs: 10_000 }))
    await time.sleep(11_000)
    const fresh = await S3Lease.acquire(store, 'lock', options({ ...time, owner: 'run B' }))
    expect(fresh.holder.owner).toBe('run B')
    expect(core.warning).toHaveBeenCalledWith(expect.stringContaining('expired'))
    await expect(stale.renew()).rejects.toThrow(/was lost/)
    await stale.release()
    expect(store.objects.has('lock')).toBe(true)
  })

  it('renewing a lease another run took over fails as LeaseLost, naming the new holder', async () => {
    const store = new MemoryStore()
    const time = clock()
    const stale = await S3Lease.acquire(store, 'lock', options({ ...time, ttlMs: 10_000 }))
    await time.sleep(11_000)
    await S3Lease.acquire(
      store,
      'lock',
      options({ ...time, owner: 'run B', runUrl: 'https://ci/b' })
    )
    const renewing = stale.renew()
    await expect(renewing).rejects.toBeInstanceOf(LeaseLost)
    await expect(stale.renew()).rejects.toThrow(
      /another run holds it now: run B \(https:\/\/ci\/b\)/
    )
    store.objects.delete('lock')
    await expect(stale.renew()).rejects.toThrow(/it was deleted/)
  })

  it('stays ours when S3 retried our own renewal (the first attempt went through)', async () => {
    const store = new MemoryStore()
    const lease = await S3Lease.acquire(store, 'lock', options())
    store.beforePut = () => {
      store.beforePut = undefined
      return 'lose-answer'
    }
    await lease.renew()
    await lease.renew()
    expect(await S3Lease.heldByAnother(store, 'lock', lease.holder.nonce)).toBe(false)
  })

  it('keepAlive tells once that the lease was lost, and release says it was no longer ours', async () => {
    jest.useFakeTimers()
    try {
      const store = new MemoryStore()
      const lease = await S3Lease.acquire(store, 'lock', options({ ttlMs: 30_000 }))
      const lost = jest.fn()
      const stop = lease.keepAlive(lost)
      await jest.advanceTimersByTimeAsync(10_000)
      expect(lost).not.toHaveBeenCalled()
      const foreign = JSON.parse(store.objects.get('lock')!.body) as Record<string, string>
      await store.put('lock', JSON.stringify({ ...foreign, nonce: 'theirs' }))
      await jest.advanceTimersByTimeAsync(30_000)
      expect(lost).toHaveBeenCalledTimes(1)
      expect(lost.mock.calls[0]![0]).toBeInstanceOf(LeaseLost)
      stop()
      expect(await lease.release()).toBe(false)
      expect(JSON.parse(store.objects.get('lock')!.body)).toMatchObject({ nonce: 'theirs' })
    } finally {
      jest.useRealTimers()
    }
  })
})

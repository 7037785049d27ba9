// Undoing what a run created, newest first: used by the main step on failure and
// cancellation, and by the post step for whatever main could not finish. A failing removal
// warns and is handed back, so that main leaves it for the post step to retry and the post
// step reports it. Green is never dropped once a swap committed (its names then hold the
// previous production), nor once another run holds the deploy lock (green is then that run's).
import * as core from '@actions/core'
import { rmSync } from 'node:fs'
import type { CreatedResource, SwapResource } from './state.js'
import { errorMessage } from './errors.js'
import { describeSwapped, nextSteps, settleSwap } from './bluegreen/cutover.js'
import { S3Lease } from './store/lock.js'
import type { ObjectStore } from './store/s3.js'
import type { Warehouse } from './warehouse/pg.js'
import { dropEnvironment } from './warehouse/environment.js'

/** Clients opened only when a resource needs them. */
export interface CleanupClients {
  store(): Promise<ObjectStore>
  warehouse(): Promise<Warehouse>
}

/** The swap is settled before anything else, since it decides whether green may go. */
type RemovableResource = Exclude<CreatedResource, SwapResource>
type Removable = RemovableResource['kind']
type Of<K extends Removable> = Extract<RemovableResource, { kind: K }>

type Removers = {
  [K in Removable]: (resource: Of<K>, clients: CleanupClients) => Promise<string>
}

const removers: Removers = {
  directory: ({ path }) => {
    rmSync(path, { recursive: true, force: true })
    return Promise.resolve(`Removed ${path}.`)
  },
  lock: async ({ key, nonce }, clients) => {
    const released = await S3Lease.releaseRecorded(await clients.store(), key, nonce)
    return released
      ? `Released the deploy lock ${key}.`
      : `The deploy lock ${key} was no longer ours.`
  },
  green: async ({ schemas, clusters }, clients) => {
    const dropped = await dropEnvironment(await clients.warehouse(), { schemas, clusters }, 'exact')
    return dropped.length > 0
      ? `Dropped green ${dropped.join(', ')}.`
      : 'No green environment was left.'
  }
}

function remove<K extends Removable>(resource: Of<K>, clients: CleanupClients): Promise<string> {
  const removeThis: Removers[K] = removers[resource.kind]
  return removeThis(resource, clients)
}

/** Why green must stay, or undefined when this run may drop it. */
async function keepGreenBecause(
  resources: CreatedResource[],
  clients: CleanupClients
): Promise<string | undefined> {
  const lock = resources.find((r): r is Of<'lock'> => r.kind === 'lock')
  if (lock) {
    try {
      // A lease that is gone (released by an earlier post step, say) leaves green to us.
      if (await S3Lease.heldByAnother(await clients.store(), lock.key, lock.nonce))
        return `Another run holds the deploy lock ${lock.key} now, so green belongs to it: it was left as it is.`
    } catch (error) {
      return `Could not check the deploy lock ${lock.key} (${errorMessage(error)}), so green was left as it is.`
    }
  }
  const swap = resources.find((r): r is SwapResource => r.kind === 'swap')
  if (!swap) return undefined
  try {
    const keys = { swap: swap.key, previous: swap.previousKey }
    const outcome = await settleSwap(await clients.store(), await clients.warehouse(), keys, swap)
    if (outcome === 'not-committed') return undefined
    return `${describeSwapped(swap, outcome)} ${nextSteps(swap)}`
  } catch (error) {
    return `Could not settle the swap (${errorMessage(error)}), so green was left as it is: it may hold the previous production.`
  }
}

/**
 * Undoes resources newest first (green before the lock that protects it). Returns what could
 * not be removed, with the swap record when green is among them (it decides green's fate).
 */
export async function undoResources(
  resources: CreatedResource[],
  clients: CleanupClients
): Promise<CreatedResource[]> {
  const keepGreen = resources.some((r) => r.kind === 'green')
    ? await keepGreenBecause(resources, clients)
    : undefined
  const left: CreatedResource[] = []
  for (const resource of [...resources].reverse()) {
    if (resource.kind === 'swap') continue
    if (resource.kind === 'green' && keepGreen) {
      core.warning(keepGreen)
      continue
    }
    try {
      core.info(await remove(resource, clients))
    } catch (error) {
      core.warning(`Could not undo ${describeResource(resource)}: ${errorMessage(error)}`)
      left.unshift(resource)
    }
  }
  const swap = resources.filter((r) => r.kind === 'swap')
  return left.some((r) => r.kind === 'green') ? [...swap, ...left] : left
}

/** A resource as the summary names it, with what to do about it by hand. */
export function describeResource(resource: CreatedResource): string {
  switch (resource.kind) {
    case 'directory':
      return `the directory ${resource.path}`
    case 'lock':
      return `the deploy lock ${resource.key} (it expires after "lock-ttl")`
    case 'green':
      return `green ${[...resource.schemas, ...resource.clusters].join(', ')} (drop them by hand, or run "phase: cleanup")`
    case 'swap':
      return `the swap record ${resource.key}`
  }
}

// Inputs and clients for tests of runs whose data diff is off.
import type { DiffSettings } from '../../../src/diff/model.js'

export const diffOff: DiffSettings = {
  mode: 'off',
  maxRowChangePercent: 10,
  allowSchemaChange: true,
  timeoutMs: 300_000,
  maxObjects: 20,
  keys: {},
  downstream: false
}

/** A connect that fails the test: a run with the diff off never opens the diff's connection. */
export const noConnection = (): Promise<never> =>
  Promise.reject(new Error('the data diff connected'))

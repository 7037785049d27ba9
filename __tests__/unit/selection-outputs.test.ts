import { jest, describe, it, expect, beforeEach } from '@jest/globals'
import { mkdtempSync, readFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import * as core from '../../__fixtures__/core.js'

jest.unstable_mockModule('@actions/core', () => core)
const { cappedJsonList, setSelectionOutputs, SELECTED_LIMIT } =
  await import('../../src/slim/outputs.js')

const result = (uniqueId: string) => ({ uniqueId, status: 'success', seconds: 0.1 })

beforeEach(() => core.resetCore())

describe('cappedJsonList', () => {
  it('keeps the whole list when it fits, exactly at the limit too', () => {
    const ids = ['model.p.a', 'model.p.b']
    const exact = JSON.stringify(ids).length
    expect(cappedJsonList(ids, exact)).toEqual({ json: JSON.stringify(ids), truncated: false })
    expect(cappedJsonList(ids, exact - 1)).toEqual({ json: '["model.p.a"]', truncated: true })
    expect(cappedJsonList([], 2)).toEqual({ json: '[]', truncated: false })
  })
})

describe('setSelectionOutputs', () => {
  it('caps "selected" under the output limit at 30,000 nodes and writes them all to a file', () => {
    const ids = Array.from({ length: 30_000 }, (_, i) => `model.big_project.model_number_${i}`)
    const target = mkdtempSync(path.join(os.tmpdir(), 'selected-'))
    setSelectionOutputs(ids.map(result), target)
    const listed = JSON.parse(core.outputs.selected ?? '') as string[]
    expect(core.outputs.selected?.length).toBeLessThanOrEqual(SELECTED_LIMIT)
    expect(listed).toEqual(ids.slice(0, listed.length))
    expect(core.outputs).toMatchObject({
      'selected-count': '30000',
      'selected-truncated': 'true',
      'selected-file': path.join(target, 'selected.json'),
      'run-results': path.join(target, 'run_results.json')
    })
    expect(JSON.parse(readFileSync(path.join(target, 'selected.json'), 'utf8'))).toEqual(ids)
  })

  it('lists everything and says so when a skipped run selected nothing', () => {
    setSelectionOutputs([])
    expect(core.outputs).toMatchObject({
      'selected-count': '0',
      selected: '[]',
      'selected-truncated': 'false'
    })
    expect(core.outputs['selected-file']).toBeUndefined()
  })
})

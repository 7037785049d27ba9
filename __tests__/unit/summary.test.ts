import { jest, describe, it, expect } from '@jest/globals'
import * as core from '../../__fixtures__/core.js'

jest.unstable_mockModule('@actions/core', () => core)
const { renderSummary } = await import('../../src/report/summary.js')
const { renderComment } = await import('../../src/report/comment.js')

const nodes = Array.from({ length: 2500 }, (_, i) => ({
  uniqueId: `model.p.m${i}`,
  name: `m${i}`,
  resourceType: 'model',
  status: 'success',
  seconds: 0.1,
  reason: 'modified'
}))
const report = {
  title: 'dbt slim build',
  status: 'success',
  headline: 'ok',
  facts: [],
  nodes,
  notes: []
}

describe('overflow notes', () => {
  it('the summary points to run_results.json for the nodes it leaves out, never to itself', () => {
    const summary = renderSummary(report)
    expect(summary).toContain("…and 500 more (dbt's run_results.json (the `run-results` output)")
    expect(summary).not.toMatch(/job summary/)
  })

  it('the PR comment points to the job summary', () => {
    expect(renderComment(report, 'slim')).toMatch(/…and \d+ more \(see the job summary\)/)
  })
})

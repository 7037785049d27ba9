import { describe, it, expect } from '@jest/globals'
import { planSelection } from '../../src/slim/selection.js'
import type { DbtProject } from '../../src/dbt/project.js'

const project = (
  selectors: Array<{ name: string; stateBased: boolean; isDefault?: boolean }> = []
): DbtProject => ({
  dir: '/p',
  name: 'p',
  profile: 'p',
  sourcePaths: ['models'],
  targetPath: 'target',
  packagesPath: 'dbt_packages',
  packageFiles: [],
  defaultSelector: selectors.find((s) => s.isDefault),
  selectors: new Map(selectors.map((s) => [s.name, s])),
  vars: {}
})
const withState = { stateDir: '/state', defer: false, favorState: false }
const noState = { defer: true, favorState: false }
const excludes = ['--exclude', 'config.materialized:source', 'config.materialized:sink']

describe('planSelection', () => {
  it('defaults to state:modified+ against the state, excluding sources and sinks', () => {
    const plan = planSelection({}, project(), withState)
    expect(plan.args).toEqual(['--select', 'state:modified+', ...excludes, '--state', '/state'])
    expect(plan.stateBased).toBe(true)
  })

  it('adds --defer and --favor-state only when asked and state exists', () => {
    expect(
      planSelection({}, project(), { ...withState, defer: true, favorState: true }).args
    ).toEqual([
      '--select',
      'state:modified+',
      ...excludes,
      '--state',
      '/state',
      '--defer',
      '--favor-state'
    ])
    expect(planSelection({}, project(), noState).args).toEqual(excludes)
  })

  it('builds everything without state when the selection is state-based', () => {
    const plan = planSelection({}, project(), noState)
    expect(plan.stateBased).toBe(false)
    expect(plan.description).toMatch(/^Full build/)
  })

  it('keeps a selection without state methods when there is no state', () => {
    expect(
      planSelection({ select: 'tag:nightly +orders', exclude: [] }, project(), noState).args
    ).toEqual(['--select', 'tag:nightly', '+orders'])
  })

  it('lets a default YAML selector win when no select is given, without adding excludes', () => {
    const selectors = [{ name: 'ci', stateBased: true, isDefault: true }]
    expect(planSelection({}, project(selectors), withState).args).toEqual([
      '--selector',
      'ci',
      '--state',
      '/state'
    ])
    expect(planSelection({ select: 'a' }, project(selectors), withState).args[1]).toBe('a')
  })

  it('uses an explicit selector and excludes nothing when exclude is none', () => {
    expect(planSelection({ selector: 'nightly', exclude: [] }, project(), noState).args).toEqual([
      '--selector',
      'nightly'
    ])
  })
})

import { describe, it, expect } from '@jest/globals'
import { readFileSync } from 'node:fs'
import yaml from 'js-yaml'
import { updatedReadme } from '../../tools/readme.js'
import { readmeRecipes } from '../../tools/workflow-lint.js'

describe('README', () => {
  it('has inputs and outputs tables that match action.yml (npm run docs regenerates them)', () => {
    const readme = readFileSync('README.md', 'utf8')
    expect(readme).toBe(updatedReadme(readme))
  })

  it('opens with the demo and the test command', () => {
    const opening = readFileSync('README.md', 'utf8').split('\n').slice(0, 25).join('\n')
    expect(opening).toContain('npm run demo')
    expect(opening).toContain('npm test')
  })
})

describe('README workflow recipes', () => {
  const readme = readFileSync('README.md', 'utf8')
  const action = yaml.load(readFileSync('action.yml', 'utf8')) as {
    inputs: Record<string, { default?: string }>
  }
  // The same recipes that workflow-lint.test.ts runs the workflow linters on.
  const recipes = readmeRecipes(readme).map((recipe) => recipe.text)

  it('has the five complete workflow files', () => {
    expect(recipes.length).toBeGreaterThanOrEqual(5)
  })

  it.each(recipes.map((block): [string, string] => [block.split('\n')[0] ?? '', block]))(
    '%s parses and uses only declared inputs',
    (_name, block) => {
      const workflow = yaml.load(block) as {
        jobs: Record<string, { steps: Array<{ uses?: string; with?: Record<string, unknown> }> }>
      }
      const ours = Object.values(workflow.jobs)
        .flatMap((job) => job.steps)
        .filter((step) => step.uses?.includes('dbt-materialize-deploy'))
      expect(ours.length).toBeGreaterThan(0)
      for (const step of ours) {
        for (const input of Object.keys(step.with ?? {}))
          expect(Object.keys(action.inputs)).toContain(input)
      }
    }
  )

  // A deploy job's own limit must leave the action's limits room to fire first: above
  // await-timeout plus lock-timeout (action.yml's defaults unless the step sets them).
  it.each(recipes.map((block): [string, string] => [block.split('\n')[0] ?? '', block]))(
    '%s gives every job a timeout-minutes above what the action may wait',
    (_name, block) => {
      const minutes = (duration: string): number => {
        const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(duration)
        if (!match) throw new Error(`unexpected duration ${duration}`)
        const unit = { ms: 1 / 60_000, s: 1 / 60, m: 1, h: 60 }[match[2] as 'ms' | 's' | 'm' | 'h']
        return Number(match[1]) * unit
      }
      const input = (step: { with?: Record<string, unknown> }, name: string): string => {
        const value = step.with?.[name] ?? action.inputs[name]?.default ?? ''
        return typeof value === 'string' ? value : JSON.stringify(value)
      }
      const workflow = yaml.load(block) as {
        jobs: Record<
          string,
          {
            'timeout-minutes'?: number
            steps: Array<{ uses?: string; with?: Record<string, unknown> }>
          }
        >
      }
      for (const [name, job] of Object.entries(workflow.jobs)) {
        expect([name, typeof job['timeout-minutes']]).toEqual([name, 'number'])
        for (const step of job.steps.filter((s) => s.uses?.includes('dbt-materialize-deploy'))) {
          if (input(step, 'mode') !== 'blue-green') continue
          // Only `all` and `deploy` wait for hydration; a phase chosen at run time may be either.
          const waits = !['promote', 'rollback', 'cleanup', 'status'].includes(input(step, 'phase'))
          const bound =
            minutes(input(step, 'lock-timeout')) +
            (waits ? minutes(input(step, 'await-timeout')) : 0)
          expect(job['timeout-minutes']).toBeGreaterThan(bound)
        }
      }
    }
  )
})

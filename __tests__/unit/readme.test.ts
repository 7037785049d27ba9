import { describe, it, expect } from '@jest/globals'
import { readFileSync } from 'node:fs'
import yaml from 'js-yaml'
import { updatedReadme } from '../../tools/readme.js'

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
    inputs: Record<string, unknown>
  }
  const recipes = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)]
    .map((match) => match[1] ?? '')
    .filter((block) => block.startsWith('# .github/workflows/'))

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
})

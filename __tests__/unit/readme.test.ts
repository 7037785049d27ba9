import { describe, it, expect } from '@jest/globals'
import { readFileSync } from 'node:fs'
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

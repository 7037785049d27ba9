import { describe, it, expect } from '@jest/globals'
import { splitArgs } from '../../src/util/args.js'

describe('splitArgs', () => {
  it.each([
    ['', []],
    ['  --threads   8 ', ['--threads', '8']],
    [`--vars '{a: 1}' --x "y z"`, ['--vars', '{a: 1}', '--x', 'y z']],
    [`a\\ b "q\\"x" ''`, ['a b', 'q"x', '']],
    ['$HOME; rm -rf /', ['$HOME;', 'rm', '-rf', '/']]
  ])('%s', (line, expected) => {
    expect(splitArgs(line)).toEqual(expected)
  })
  it('rejects an unclosed quote', () => {
    expect(() => splitArgs(`--x "open`)).toThrow(/unclosed/)
  })
})

import { describe, expect, it } from '@jest/globals'
import {
  bundlePath,
  eventRefs,
  inputDefaults,
  inputEnvName,
  lineSplitter,
  parseAnnotations,
  parseFileCommands,
  parseMasks,
  postOptions,
  pullRequestEvent,
  pushEvent,
  type ActionRun
} from '../../dev/runner.js'

describe('parseFileCommands', () => {
  it('reads name=value lines and name<<DELIM blocks', () => {
    const text = 'status=success\nselected<<ghadelimiter_1\n["a",\n"b"]\nghadelimiter_1\nempty=\n'
    expect(parseFileCommands(text)).toEqual({
      status: 'success',
      selected: '["a",\n"b"]',
      empty: ''
    })
  })

  it('keeps = inside values and tolerates CRLF', () => {
    expect(parseFileCommands('url=a=b\r\nx<<EOF\r\n1\r\nEOF\r\n')).toEqual({ url: 'a=b', x: '1\r' })
  })

  it('refuses an unterminated block and a malformed line', () => {
    expect(() => parseFileCommands('x<<EOF\n1\n')).toThrow(/unterminated/)
    expect(() => parseFileCommands('nonsense\n')).toThrow(/malformed/)
  })
})

describe('workflow commands', () => {
  it('parses annotations with escaped properties and messages', () => {
    const stdout = 'plain\n::warning file=a.sql,title=x%2Cy::one%0Atwo\n::notice::hi\n'
    expect(parseAnnotations(stdout)).toEqual([
      {
        level: 'warning',
        message: 'one\ntwo',
        file: 'a.sql',
        title: 'x,y',
        properties: { file: 'a.sql', title: 'x,y' }
      },
      { level: 'notice', message: 'hi', properties: {} }
    ])
  })

  it('collects masks', () => {
    expect(parseMasks('::add-mask::p%25w\nx\n::add-mask::two')).toEqual(['p%w', 'two'])
  })
})

describe('environment', () => {
  it('names inputs like @actions/core', () => {
    expect(inputEnvName('state-uri')).toBe('INPUT_STATE-URI')
    expect(inputEnvName('a b')).toBe('INPUT_A_B')
  })

  it('fills defaults and evaluates github.token', () => {
    const yml =
      'inputs:\n  mode:\n    default: slim\n  token:\n    default: ${{ github.token }}\n  none: {}\n'
    expect(inputDefaults(yml, 'T')).toEqual({ mode: 'slim', token: 'T', none: '' })
  })

  it('derives refs and sha from pull request and push events', () => {
    const pr = pullRequestEvent({ number: 7, action: 'opened', headSha: 'h', headRef: 'f' })
    expect(eventRefs(pr)).toMatchObject({
      GITHUB_REF: 'refs/pull/7/merge',
      GITHUB_SHA: 'h',
      GITHUB_HEAD_REF: 'f',
      GITHUB_BASE_REF: 'main'
    })
    expect(eventRefs(pushEvent({ sha: 's' }))).toMatchObject({
      GITHUB_REF: 'refs/heads/main',
      GITHUB_REF_NAME: 'main',
      GITHUB_SHA: 's'
    })
  })
})

describe('lineSplitter', () => {
  it('emits complete lines across chunks and the rest at the end', () => {
    const lines: string[] = []
    const splitter = lineSplitter((line) => lines.push(line))
    splitter.push('a\r\nb')
    splitter.push('c\n')
    splitter.push('tail')
    expect(lines).toEqual(['a', 'bc'])
    splitter.end()
    expect(lines).toEqual(['a', 'bc', 'tail'])
  })
})

describe('steps', () => {
  it('finds a step bundle in a dist dir', () => {
    expect(bundlePath('post', '/d')).toBe('/d/post.js')
    expect(bundlePath(undefined, '/d')).toBe('/d/index.js')
  })

  it('runs the post step with the main step state, in its own dir, without the signal', () => {
    const event = pushEvent({ sha: 's' })
    const main = {
      options: {
        workspace: 'w',
        event,
        inputs: { a: '1' },
        signal: { name: 'SIGINT', onLine: /Await hydration/ }
      },
      files: { dir: '/run' },
      state: { k: 'v' }
    } as unknown as ActionRun
    expect(postOptions(main, { inputs: { a: '2' } })).toEqual({
      workspace: 'w',
      event,
      inputs: { a: '2' },
      runDir: '/run/post',
      entry: 'post',
      state: { k: 'v' }
    })
  })
})

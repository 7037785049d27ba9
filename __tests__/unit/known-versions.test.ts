import { describe, expect, it } from '@jest/globals'
import { mkdirSync } from 'node:fs'
import path from 'node:path'
import { scriptDir } from '../../__fixtures__/scripts.js'
import {
  CI_TAG_BREAKS_DEPLOY_INIT,
  FLOORS,
  REFUSED_RELEASES,
  compareVersions,
  isIn,
  parseDbtVersionOutput,
  parseVersionsAnswer,
  queryInstalledVersions,
  versionProblems
} from '../../src/dbt/known-versions.js'

const { dir, script } = scriptDir('known-versions')

const installed = (core: string | undefined, materialize: string | undefined) => ({
  'dbt-core': core,
  'dbt-materialize': materialize
})

describe('the table', () => {
  it('links every entry upstream', () => {
    for (const entry of [...FLOORS, ...REFUSED_RELEASES, CI_TAG_BREAKS_DEPLOY_INIT])
      expect(entry.link).toMatch(/^https:\/\/github\.com\/MaterializeInc\/materialize\//)
  })

  it('has a floor for dbt-core and for dbt-materialize at 1.9.8', () => {
    expect(FLOORS.map((f) => f.package).sort()).toEqual(['dbt-core', 'dbt-materialize'])
    expect(FLOORS.find((f) => f.package === 'dbt-materialize')?.minimum).toBe('1.9.8')
  })
})

describe('compareVersions', () => {
  it.each([
    ['1.9.7', '1.9.8', -1],
    ['1.9.10', '1.9.8', 1],
    ['1.10.0', '1.9.11', 1],
    ['1.9.8', '1.9.8', 0],
    ['1.9', '1.9.0', 0],
    ['1.9.8rc1', '1.9.8', 0],
    ['v1.8.0', '1.8.0', 0]
  ])('%s against %s', (a, b, sign) => {
    expect(Math.sign(compareVersions(a, b))).toBe(sign)
  })
})

describe('versionProblems', () => {
  it('accepts the floors themselves and newer releases', () => {
    expect(versionProblems(installed('1.8.0', '1.9.8'))).toEqual([])
    expect(versionProblems(installed('1.11.7', '1.9.10'))).toEqual([])
  })

  it('refuses dbt-materialize 1.9.7, naming the floor, the reason and the link', () => {
    const [problem, ...rest] = versionProblems(installed('1.11.7', '1.9.7'))
    expect(rest).toEqual([])
    expect(problem).toMatch(/^dbt-materialize 1\.9\.7 is older than 1\.9\.8/)
    expect(problem).toMatch(/max_retries\/retry_backoff/)
    expect(problem).toContain('https://github.com/MaterializeInc/materialize/pull/36155')
  })

  it('refuses an old dbt-core and a missing dbt-materialize', () => {
    const problems = versionProblems(installed('1.7.11', undefined))
    expect(problems).toEqual([
      'dbt-materialize is not installed.',
      expect.stringMatching(/^dbt-core 1\.7\.11 is older than 1\.8\.0/)
    ])
  })
})

describe('CI_TAG_BREAKS_DEPLOY_INIT', () => {
  it.each([
    ['1.7.4', false],
    ['1.7.5', true],
    ['1.9.10', true],
    ['1.9.11', true],
    ['1.9.12', false]
  ])('dbt-materialize %s: %s', (version, broken) => {
    expect(isIn(version, CI_TAG_BREAKS_DEPLOY_INIT)).toBe(broken)
  })
})

describe('reading the installed releases', () => {
  it('parses the Python answer, with a missing package as undefined', () => {
    expect(parseVersionsAnswer('noise\n{"dbt-core": "1.11.7", "dbt-materialize": null}\n')).toEqual(
      installed('1.11.7', undefined)
    )
    expect(parseVersionsAnswer('Traceback (most recent call last):')).toBeUndefined()
  })

  it('parses `dbt --version`', () => {
    const output = [
      'Core:',
      '  - installed: 1.11.7',
      '  - latest:    1.12.6 - Update available!',
      'Plugins:',
      '  - postgres:    1.10.0 - Update available!',
      '  - materialize: 1.9.7  - Update available!'
    ].join('\n')
    expect(parseDbtVersionOutput(output)).toEqual(installed('1.11.7', '1.9.7'))
    expect(parseDbtVersionOutput('command not found')).toBeUndefined()
  })

  it('asks the Python of a Python script, once', async () => {
    const fakePython = script(
      'python3',
      '#!/bin/sh\necho \'{"dbt-core": "1.11.7", "dbt-materialize": "1.9.7"}\'\n'
    )
    const dbt = script('dbt', `#!${fakePython}\n`)
    expect(await queryInstalledVersions(dbt, dir, {})).toEqual(installed('1.11.7', '1.9.7'))
  })

  it('runs `dbt --version` for an executable that is not a Python script', async () => {
    const dbt = script(
      'dbt-wrapper',
      '#!/bin/sh\necho "Core:"\necho "  - installed: 1.10.2"\necho "Plugins:"\necho "  - materialize: 1.9.10 - Up to date!"\n'
    )
    expect(await queryInstalledVersions(dbt, dir, { PATH: process.env.PATH ?? '' })).toEqual(
      installed('1.10.2', '1.9.10')
    )
  })

  /** A venv whose Python does not exist, holding these distributions: only files can answer. */
  function venvWith(name: string, ...distributions: string[]): string {
    const venv = path.join(dir, name)
    for (const distribution of distributions)
      mkdirSync(path.join(venv, 'lib', 'python3.12', 'site-packages', distribution), {
        recursive: true
      })
    return script(`dbt-${name}`, `#!${venv}/bin/python3\nimport sys\n`)
  }

  it('reads both releases from their distributions next to dbt, starting no process', async () => {
    const dbt = venvWith(
      'venv-both',
      'dbt_core-1.11.7.dist-info',
      'dbt_core_experimental_parser-2.0.0a4.dist-info',
      'dbt_materialize-1.9.8.dist-info'
    )
    expect(await queryInstalledVersions(dbt, dir, {})).toEqual(installed('1.11.7', '1.9.8'))
  })

  it('asks dbt when a distribution is missing or there twice', async () => {
    // The Python these venvs name does not exist: asking it fails, so the answer is undefined.
    const coreOnly = venvWith('venv-core', 'dbt_core-1.11.7.dist-info')
    expect(await queryInstalledVersions(coreOnly, dir, {})).toBeUndefined()
    const twice = venvWith(
      'venv-twice',
      'dbt_core-1.11.7.dist-info',
      'dbt_core-1.10.0.dist-info',
      'dbt_materialize-1.9.8.dist-info'
    )
    expect(await queryInstalledVersions(twice, dir, {})).toBeUndefined()
  })

  it('is undefined when dbt fails', async () => {
    const dbt = script('dbt-broken', '#!/bin/sh\nexit 2\n')
    expect(await queryInstalledVersions(dbt, dir, {})).toBeUndefined()
  })
})

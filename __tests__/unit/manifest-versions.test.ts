import { describe, it, expect } from '@jest/globals'
import { mkdirSync } from 'node:fs'
import path from 'node:path'
import { scriptDir } from '../../__fixtures__/scripts.js'
import {
  parsePythonAnswer,
  parseVersionOutput,
  queryManifestSupport,
  supportFromTable,
  unreadableManifest
} from '../../src/dbt/manifest-versions.js'
import { pythonShebang } from '../../src/dbt/ask.js'

const schema = (n: number): string => `https://schemas.getdbt.com/dbt/manifest/v${n}.json`
/** dbt-core 1.11 as its own Python answers: v12, and v4 to v11 as compatible previous versions. */
const dbt111 = parsePythonAnswer('{"dbt": "1.11.7", "versions": [12, 4, 5, 6, 7, 8, 9, 10, 11]}')!
const SOURCE = 's3://b/prod/manifest.json'

const { dir, script } = scriptDir('manifest-versions')

describe('unreadableManifest', () => {
  it.each([
    ['an older manifest', 10],
    ['the same version', 12]
  ])('accepts %s', (_name, version) => {
    expect(unreadableManifest({ schemaVersion: schema(version) }, dbt111, SOURCE)).toBeUndefined()
  })

  it('refuses a newer manifest, naming both versions and both dbt versions', () => {
    const reason = unreadableManifest(
      { schemaVersion: schema(13), dbtVersion: '1.12.0' },
      dbt111,
      SOURCE
    )
    expect(reason).toContain(SOURCE)
    expect(reason).toMatch(/schema version v13 \(written by dbt 1\.12\.0\)/)
    expect(reason).toMatch(/installed dbt-core 1\.11\.7 cannot read/)
    expect(reason).toMatch(/v4 to v12/)
  })

  it('refuses a manifest older than any this dbt reads', () => {
    expect(unreadableManifest({ schemaVersion: schema(3) }, dbt111, SOURCE)).toMatch(/v3/)
  })

  it('says so when the manifest does not name the dbt that wrote it', () => {
    expect(unreadableManifest({ schemaVersion: schema(20) }, dbt111, SOURCE)).toMatch(
      /written by dbt of an unknown version/
    )
  })

  it('refuses a schema version that is not a manifest schema URL, quoting it', () => {
    expect(unreadableManifest({ schemaVersion: 'manifest-v12' }, dbt111, SOURCE)).toMatch(
      /"manifest-v12"/
    )
  })

  it('leaves a newer manifest to dbt when dbt-core is newer than the table', () => {
    const newer = supportFromTable('1.42.0')!
    expect(unreadableManifest({ schemaVersion: schema(13) }, newer, SOURCE)).toBeUndefined()
    expect(unreadableManifest({ schemaVersion: schema(3) }, newer, SOURCE)).toMatch(/v3/)
  })
})

describe('supportFromTable', () => {
  it.each([
    ['1.11.7', 4, 12, true],
    ['1.8.0', 4, 12, true],
    ['1.7.19', 4, 11, true],
    ['1.2.0', 4, 6, true],
    ['1.1.3', 5, 5, true],
    ['1.12.0', 4, 12, true],
    ['1.13.0b1', 4, 12, false]
  ])('dbt-core %s reads v%i to v%i (exhaustive: %s)', (version, oldest, newest, exhaustive) => {
    const support = supportFromTable(version)!
    expect([Math.min(...support.versions), Math.max(...support.versions)]).toEqual([oldest, newest])
    expect(support.versions).toHaveLength(newest - oldest + 1)
    expect(support.exhaustive).toBe(exhaustive)
  })

  it.each(['2.0.0', 'unknown'])('knows nothing about dbt %s', (version) => {
    expect(supportFromTable(version)).toBeUndefined()
  })
})

describe('parsing what dbt says', () => {
  it('reads the installed version from dbt --version', () => {
    const output =
      'Core:\n  - installed: 1.11.7\n  - latest:    1.12.6 - Update available!\n\nPlugins:\n  - postgres:    1.10.0\n'
    expect(parseVersionOutput(output)).toBe('1.11.7')
    expect(parseVersionOutput('installed version: 1.0.0\n   latest version: 1.0.1')).toBe('1.0.0')
    expect(parseVersionOutput('dbt-fusion 2.0.0-preview.45')).toBeUndefined()
  })

  it("reads the Python query's last line, past warnings", () => {
    expect(
      parsePythonAnswer('DeprecationWarning: x\n{"dbt": "1.9.4", "versions": [12, 4]}')
    ).toEqual({ dbtVersion: '1.9.4', versions: [12, 4], exhaustive: true })
    expect(parsePythonAnswer('Traceback: ImportError')).toBeUndefined()
    expect(parsePythonAnswer('{"dbt": "1.9.4", "versions": []}')).toBeUndefined()
  })

  it.each([
    ['#!/venv/bin/python3.11\n', ['/venv/bin/python3.11']],
    ['#!/usr/bin/env python3\n', ['/usr/bin/env', 'python3']],
    ['#!/bin/sh\nexec dbt "$@"\n', undefined],
    ['\x7fELF binary', undefined]
  ])('finds the Python interpreter of %j', (text, interpreter) => {
    expect(pythonShebang(script('shebang', text))).toEqual(interpreter)
  })
})

describe('queryManifestSupport', () => {
  const env = { PATH: process.env.PATH ?? '' }

  it("asks dbt's own Python when dbt is a Python script", async () => {
    const python = script(
      'python3',
      `#!/bin/sh\n[ "$1" = "-c" ] && echo '{"dbt": "1.10.2", "versions": [12, 4, 5]}'\n`
    )
    const dbt = script('dbt-pip', `#!${python}\nimport sys\n`)
    expect(await queryManifestSupport(dbt, dir, env)).toEqual({
      dbtVersion: '1.10.2',
      versions: [12, 4, 5],
      exhaustive: true
    })
  })

  it('runs dbt --version and uses the table when dbt is a wrapper script', async () => {
    const wrapper = script(
      'dbt-wrapper',
      `#!/bin/sh\n[ "$1" = "--version" ] && printf 'Core:\\n  - installed: 1.7.4\\n'\n`
    )
    expect(await queryManifestSupport(wrapper, dir, env)).toMatchObject({
      dbtVersion: '1.7.4',
      exhaustive: true,
      versions: [4, 5, 6, 7, 8, 9, 10, 11]
    })
  })

  it("reads a known dbt-core's version from its distribution, starting no process", async () => {
    const venv = path.join(dir, 'venv-known')
    mkdirSync(path.join(venv, 'bin'), { recursive: true })
    mkdirSync(path.join(venv, 'lib', 'python3.12', 'site-packages', 'dbt_core-1.11.7.dist-info'), {
      recursive: true
    })
    // Its Python does not exist: any process would fail, so the answer comes from the files.
    const dbt = script('dbt-venv', `#!${venv}/bin/python3\nimport sys\n`)
    expect(await queryManifestSupport(dbt, dir, env)).toEqual({
      dbtVersion: '1.11.7',
      versions: [4, 5, 6, 7, 8, 9, 10, 11, 12],
      exhaustive: true
    })
  })

  it('cannot tell when dbt fails to answer', async () => {
    const broken = script('dbt-broken', '#!/bin/sh\necho "boom" >&2\nexit 1\n')
    expect(await queryManifestSupport(broken, dir, env)).toBeUndefined()
  })
})

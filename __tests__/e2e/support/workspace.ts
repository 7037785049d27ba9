// A GitHub workspace for one test: a copy of a fixture dbt project in a fresh git repository
// with history, so the action can diff against the commit a manifest was built from.
import { execFileSync } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fixturesDir, tempRoot } from './paths.js'

export interface Workspace {
  dir: string
  /** HEAD's commit sha. */
  sha(): string
  /** Writes (string) or deletes (null) files, commits everything, returns the new sha. */
  commit(message: string, files: Record<string, string | null>): string
  /**
   * A second checkout of the same history (same shas) in its own temp dir; with `depth`, a
   * shallow one of HEAD, as actions/checkout makes by default (fetch-depth: 1).
   */
  clone(options?: { depth?: number }): Workspace
  /** Checks out `sha` (detached HEAD), as actions/checkout does for a push. */
  checkout(sha: string): void
  cleanup(): void
}

export interface WorkspaceOptions {
  fixture?: string
  /** Extra or replaced files in the first commit (null deletes a fixture file). */
  files?: Record<string, string | null>
}

const BUILD_DIRS = new Set(['target', 'logs', 'dbt_packages'])

function git(dir: string, args: string[]): string {
  return execFileSync('git', args, {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0' },
    stdio: ['ignore', 'pipe', 'pipe']
  }).trim()
}

function configure(dir: string): void {
  git(dir, ['config', 'user.name', 'E2E Tester'])
  git(dir, ['config', 'user.email', 'e2e@example.com'])
  git(dir, ['config', 'commit.gpgsign', 'false'])
}

function writeFiles(dir: string, files: Record<string, string | null>): void {
  for (const [relative, content] of Object.entries(files)) {
    const file = path.join(dir, relative)
    if (content === null) {
      rmSync(file, { force: true })
    } else {
      mkdirSync(path.dirname(file), { recursive: true })
      writeFileSync(file, content)
    }
  }
}

function wrap(dir: string): Workspace {
  const workspace: Workspace = {
    dir,
    sha: () => git(dir, ['rev-parse', 'HEAD']),
    commit(message, files) {
      writeFiles(dir, files)
      git(dir, ['add', '-A'])
      git(dir, ['commit', '--quiet', '--allow-empty', '-m', message])
      return workspace.sha()
    },
    clone(options = {}) {
      const copy = mkdtempSync(path.join(tempRoot(), 'e2e-ws-'))
      // A local path would ignore --depth; a file:// URL honours it.
      const source = options.depth ? ['--depth', String(options.depth), `file://${dir}`] : [dir]
      git(copy, ['clone', '--quiet', ...source, '.'])
      configure(copy)
      return wrap(copy)
    },
    checkout: (sha) => void git(dir, ['checkout', '--quiet', '--detach', sha]),
    cleanup: () => rmSync(dir, { recursive: true, force: true })
  }
  return workspace
}

export function createWorkspace(options: WorkspaceOptions = {}): Workspace {
  const dir = mkdtempSync(path.join(tempRoot(), 'e2e-ws-'))
  try {
    cpSync(path.join(fixturesDir, options.fixture ?? 'jaffle'), dir, {
      recursive: true,
      filter: (source) => !BUILD_DIRS.has(path.basename(source))
    })
    writeFiles(dir, options.files ?? {})
    git(dir, ['init', '--quiet', '-b', 'main'])
    configure(dir)
    const workspace = wrap(dir)
    workspace.commit('Initial dbt project', {})
    return workspace
  } catch (error) {
    rmSync(dir, { recursive: true, force: true })
    throw error
  }
}

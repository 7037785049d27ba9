// A throwaway git repository holding a dbt project, for the demo and the bench: the action
// reads git history (the manifest's commit vs HEAD), so the workspace must be a real clone.
import { spawnSync } from 'node:child_process'
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'

const GIT_ENV = {
  GIT_AUTHOR_NAME: 'Demo Bot',
  GIT_AUTHOR_EMAIL: 'demo@example.com',
  GIT_COMMITTER_NAME: 'Demo Bot',
  GIT_COMMITTER_EMAIL: 'demo@example.com',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_TERMINAL_PROMPT: '0'
}

export class GitWorkspace {
  private constructor(readonly dir: string) {}

  /** Copies `template` into `dir` and commits it on `main`. */
  static create(dir: string, template: string, message = 'Initial project'): GitWorkspace {
    mkdirSync(dir, { recursive: true })
    cpSync(template, dir, { recursive: true })
    const workspace = new GitWorkspace(dir)
    workspace.git('init', '--quiet', '--initial-branch=main')
    workspace.commitAll(message)
    return workspace
  }

  git(...args: string[]): string {
    const result = spawnSync(
      'git',
      ['-c', 'commit.gpgsign=false', '-c', 'core.hooksPath=/dev/null', ...args],
      {
        cwd: this.dir,
        env: { ...process.env, ...GIT_ENV, HOME: this.dir },
        encoding: 'utf8'
      }
    )
    if (result.status !== 0) {
      throw new Error(`git ${args.join(' ')} failed: ${result.stderr || result.stdout}`)
    }
    return result.stdout.trim()
  }

  head(): string {
    return this.git('rev-parse', 'HEAD')
  }

  write(file: string, content: string): void {
    const target = path.join(this.dir, file)
    mkdirSync(path.dirname(target), { recursive: true })
    writeFileSync(target, content)
  }

  read(file: string): string {
    return readFileSync(path.join(this.dir, file), 'utf8')
  }

  /** Commits every change and returns the new commit's sha. */
  commitAll(message: string): string {
    this.git('add', '--all')
    this.git('commit', '--quiet', '--allow-empty', '-m', message)
    return this.head()
  }

  branch(name: string): void {
    this.git('checkout', '--quiet', '-b', name)
  }

  checkout(ref: string): void {
    this.git('checkout', '--quiet', ref)
  }

  /** Merges `branch` into the checked-out branch with a merge commit; returns its sha. */
  merge(branch: string, message: string): string {
    this.git('merge', '--quiet', '--no-ff', '-m', message, branch)
    return this.head()
  }
}

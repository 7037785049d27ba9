// Read-only git queries in the workspace.
import * as exec from '@actions/exec'

async function gitRun(cwd: string, args: string[]): Promise<exec.ExecOutput> {
  return exec.getExecOutput('git', args, { cwd, ignoreReturnCode: true, silent: true })
}

async function git(cwd: string, args: string[]): Promise<string | undefined> {
  const result = await gitRun(cwd, args)
  return result.exitCode === 0 ? result.stdout : undefined
}

/** Guards git arguments read from S3 metadata: a commit sha, never an option. */
export function isCommitSha(value: string): boolean {
  return /^[0-9a-f]{7,64}$/i.test(value)
}

export async function headSha(cwd: string): Promise<string | undefined> {
  return (await git(cwd, ['rev-parse', 'HEAD']))?.trim() || undefined
}

/** The git tree of `cwd` at HEAD: equal trees hold equal files. */
export async function treeSha(cwd: string): Promise<string | undefined> {
  return (await git(cwd, ['rev-parse', 'HEAD:./']))?.trim() || undefined
}

/**
 * Files (relative to cwd, limited to it) that differ between `sha` and the working tree,
 * untracked ones included; undefined when git cannot tell (e.g. a shallow clone without sha).
 */
export async function changedFilesSince(cwd: string, sha: string): Promise<string[] | undefined> {
  if (!isCommitSha(sha)) return undefined
  const diff = await git(cwd, ['diff', '--name-only', '--relative', '--no-renames', sha, '--'])
  const untracked = await git(cwd, ['ls-files', '--others', '--exclude-standard'])
  if (diff === undefined || untracked === undefined) return undefined
  return [...diff.split('\n'), ...untracked.split('\n')].filter((line) => line !== '')
}

/** Whether `ancestor` is in the history of `descendant`; undefined when a commit is missing. */
export async function isAncestor(
  cwd: string,
  ancestor: string,
  descendant: string
): Promise<boolean | undefined> {
  if (!isCommitSha(ancestor) || !isCommitSha(descendant)) return undefined
  const { exitCode } = await gitRun(cwd, ['merge-base', '--is-ancestor', ancestor, descendant])
  return exitCode === 0 ? true : exitCode === 1 ? false : undefined
}

/** A shallow clone lacks older history, so "not an ancestor" there proves nothing (true when git cannot say). */
export async function isShallow(cwd: string): Promise<boolean> {
  return (await git(cwd, ['rev-parse', '--is-shallow-repository']))?.trim() !== 'false'
}

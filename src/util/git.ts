// Read-only git queries in the workspace.
import * as exec from '@actions/exec'

async function git(cwd: string, args: string[]): Promise<string | undefined> {
  const result = await exec.getExecOutput('git', args, {
    cwd,
    ignoreReturnCode: true,
    silent: true
  })
  return result.exitCode === 0 ? result.stdout : undefined
}

export async function headSha(cwd: string): Promise<string | undefined> {
  return (await git(cwd, ['rev-parse', 'HEAD']))?.trim() || undefined
}

/**
 * Files (relative to cwd, limited to it) that differ between `sha` and the working tree,
 * untracked ones included; undefined when git cannot tell (e.g. a shallow clone without sha).
 */
export async function changedFilesSince(cwd: string, sha: string): Promise<string[] | undefined> {
  if (!/^[0-9a-f]{7,64}$/i.test(sha)) return undefined
  const diff = await git(cwd, ['diff', '--name-only', '--relative', '--no-renames', sha, '--'])
  const untracked = await git(cwd, ['ls-files', '--others', '--exclude-standard'])
  if (diff === undefined || untracked === undefined) return undefined
  return [...diff.split('\n'), ...untracked.split('\n')].filter((line) => line !== '')
}

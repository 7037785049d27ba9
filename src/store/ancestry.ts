// How the commit of a manifest another run published relates to this run's commit: from the
// local git history when it holds both commits, else from GitHub's compare API.
import { octokitFor } from '../github/octokit.js'
import { errorMessage } from '../errors.js'
import { isAncestor, isCommitSha, isShallow } from '../util/git.js'

/** Where the stored manifest's commit stands relative to this run's commit. */
export type CommitOrder = 'ancestor' | 'descendant' | 'identical' | 'diverged' | 'unknown'

export interface Ordering {
  order: CommitOrder
  /** Who decided ("git", "the GitHub API"), or, when unknown, why nobody could. */
  how: string
}

/** Orders `stored` (the commit of the manifest in S3) against `ours` (this run's commit). */
export type CommitHistory = (stored: string, ours: string) => Promise<Ordering>

export interface Repository {
  owner: string
  repo: string
}

/** compare/{base}...{head}: head is "ahead" of base when base is its ancestor. */
const ORDER_OF_STATUS: Record<string, CommitOrder> = {
  ahead: 'ancestor',
  behind: 'descendant',
  identical: 'identical',
  diverged: 'diverged'
}

const GIT_CANNOT_TELL =
  'git cannot relate the two commits (one is missing from this checkout, or it is shallow; fetch-depth: 0 helps)'

export function commitHistory(
  cwd: string,
  token: string | undefined,
  repository: Repository
): CommitHistory {
  return async (stored, ours) => {
    if (stored === ours) return { order: 'identical', how: 'their shas' }
    if (!isCommitSha(stored)) return { order: 'unknown', how: `"${stored}" is not a commit sha` }
    const fromGit = await orderFromGit(cwd, stored, ours)
    if (fromGit) return { order: fromGit, how: 'git' }
    return orderFromGitHub(token, repository, stored, ours)
  }
}

async function orderFromGit(
  cwd: string,
  stored: string,
  ours: string
): Promise<CommitOrder | undefined> {
  const storedFirst = await isAncestor(cwd, stored, ours)
  if (storedFirst === undefined) return undefined // a commit is missing here
  if (storedFirst) return 'ancestor'
  if (await isAncestor(cwd, ours, stored)) return 'descendant'
  return (await isShallow(cwd)) ? undefined : 'diverged'
}

async function orderFromGitHub(
  token: string | undefined,
  { owner, repo }: Repository,
  stored: string,
  ours: string
): Promise<Ordering> {
  if (!token)
    return {
      order: 'unknown',
      how: `${GIT_CANNOT_TELL}, and without "github-token" GitHub cannot be asked`
    }
  try {
    const { data } = await octokitFor(token).rest.repos.compareCommitsWithBasehead({
      owner,
      repo,
      basehead: `${stored}...${ours}`,
      per_page: 1
    })
    const order = ORDER_OF_STATUS[data.status]
    if (order) return { order, how: 'the GitHub API' }
    return {
      order: 'unknown',
      how: `${GIT_CANNOT_TELL}, and GitHub answered status "${data.status}"`
    }
  } catch (error) {
    return {
      order: 'unknown',
      how: `${GIT_CANNOT_TELL}, and GitHub's compare API failed: ${errorMessage(error)}`
    }
  }
}

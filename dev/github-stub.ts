// A local stand-in for the GitHub REST API: the issue-comment endpoints that a sticky PR
// comment needs, with realistic JSON, pagination and permission errors, and the commit compare
// endpoint, answered from a local git repository's history. Used by the e2e suite and the demo;
// it records every request so tests can assert what was posted and edited.
import { execFileSync } from 'node:child_process'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { StubDeployments, StubHttpError as HttpError } from './github-stub-deployments.js'
import { StubChecks, type StubCheckRun, type StubCommitStatus } from './github-stub-checks.js'

export type { StubCheckRun, StubCommitStatus }

export interface StubComment {
  id: number
  /** `owner/repo` */
  repo: string
  issueNumber: number
  body: string
  user: { login: string; id: number; type: string }
  createdAt: string
  updatedAt: string
}

export interface StubRequest {
  method: string
  /** Path without the query string. */
  path: string
  /** Query string including `?`, or empty. */
  query: string
  authorization: string | undefined
  /** Parsed JSON request body, when there was one. */
  body: unknown
}

export interface StubDeploymentStatus {
  id: number
  state: string
  description?: string
  logUrl?: string
  environmentUrl?: string
}

export interface StubDeployment {
  id: number
  repo: string
  sha: string
  environment: string
  transient: boolean
  production: boolean
  description?: string
  payload: unknown
  /** Oldest first. */
  statuses: StubDeploymentStatus[]
}

/** API areas that can be refused, as GitHub refuses a token without the permission. */
export type StubArea = 'deployments' | 'checks' | 'statuses'

export interface GitHubStub {
  url: string
  deployments(): StubDeployment[]
  checkRuns(): StubCheckRun[]
  commitStatuses(): StubCommitStatus[]
  /** A check run of another job, e.g. a failed re-run of the deploy on the same commit. */
  addCheckRun(fields: { repo: string; headSha: string; name: string; conclusion: string }): void
  /** Resolves once a request matching `match` has been answered (at once if one has). */
  answered(match: (request: StubRequest) => boolean): Promise<StubRequest>
  /** Later requests to this area get a 403, as for a token without its permission. */
  deny(area: StubArea): void
  comments(): StubComment[]
  /** A comment written by someone else, e.g. a person quoting the action's marker. */
  addComment(comment: Pick<StubComment, 'repo' | 'issueNumber' | 'body' | 'user'>): StubComment
  requests: StubRequest[]
  /** Later requests with this token (with or without its auth scheme) get a 403. */
  denyToken(token: string): void
  /** Answers compare requests from this git repository (without one, every compare is a 404). */
  serveHistory(gitDir: string): void
  stop(): Promise<void>
}

const BOT = { login: 'github-actions[bot]', id: 41898282, type: 'Bot' }
const ISSUE_COMMENTS = /^\/repos\/([^/]+)\/([^/]+)\/issues\/(\d+)\/comments$/
const ONE_COMMENT = /^\/repos\/([^/]+)\/([^/]+)\/issues\/comments\/(\d+)$/
const COMPARE = /^\/repos\/([^/]+)\/([^/]+)\/compare\/([^/.]+)\.\.\.([^/.]+)$/
const CHECK_RUNS = /^\/repos\/([^/]+)\/([^/]+)\/check-runs(?:\/(\d+))?$/
const REF_CHECK_RUNS = /^\/repos\/([^/]+)\/([^/]+)\/commits\/([^/]+)\/check-runs$/
const STATUSES =
  /^\/repos\/([^/]+)\/([^/]+)\/(?:statuses|commits\/([^/]+)\/statuses)(?:\/([^/]+))?$/
const DEPLOYMENTS = /^\/repos\/([^/]+)\/([^/]+)\/deployments$/
const DEPLOYMENT_STATUSES = /^\/repos\/([^/]+)\/([^/]+)\/deployments\/(\d+)\/statuses$/

function tokenOf(authorization: string | undefined): string | undefined {
  return authorization?.replace(/^(token|bearer)\s+/i, '').trim()
}

function readBody(request: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('error', reject)
    request.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8')
      if (!text) return resolve(undefined)
      try {
        resolve(JSON.parse(text))
      } catch {
        reject(new HttpError(400, 'Problems parsing JSON'))
      }
    })
  })
}

function sendJson(
  response: ServerResponse,
  status: number,
  payload: unknown,
  headers: Record<string, string> = {}
): void {
  const text = JSON.stringify(payload)
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
    'x-github-media-type': 'github.v3; format=json',
    'x-ratelimit-limit': '5000',
    'x-ratelimit-remaining': '4999',
    ...headers
  })
  response.end(text)
}

function bodyText(body: unknown): string {
  const text = (body as { body?: unknown } | undefined)?.body
  if (typeof text !== 'string')
    throw new HttpError(422, 'Invalid request: "body" wasn\'t supplied.')
  return text
}

/** Builds the `link` header Octokit's paginator follows. */
function linkHeader(base: string, page: number, lastPage: number, perPage: number): string {
  const at = (p: number): string => `<${base}?per_page=${perPage}&page=${p}>`
  const links: string[] = []
  if (page > 1) links.push(`${at(page - 1)}; rel="prev"`, `${at(1)}; rel="first"`)
  if (page < lastPage) links.push(`${at(page + 1)}; rel="next"`, `${at(lastPage)}; rel="last"`)
  return links.join(', ')
}

/** git in the served repository; undefined when it fails (e.g. an unknown commit). */
function gitIn(dir: string, args: string[]): string | undefined {
  try {
    return execFileSync('git', args, { cwd: dir, encoding: 'utf8', stdio: 'pipe' }).trim()
  } catch {
    return undefined
  }
}

function compareStatus(aheadBy: number, behindBy: number): string {
  if (aheadBy > 0 && behindBy > 0) return 'diverged'
  if (aheadBy > 0) return 'ahead'
  return behindBy > 0 ? 'behind' : 'identical'
}

function positiveInt(value: string | null, fallback: number, max: number): number {
  const parsed = Number(value)
  return Number.isInteger(parsed) && parsed > 0 ? Math.min(parsed, max) : fallback
}

export async function startGitHubStub(): Promise<GitHubStub> {
  const store: StubComment[] = []
  const requests: StubRequest[] = []
  const denied = new Set<string>()
  const deniedAreas = new Set<StubArea>()
  const deployments = new StubDeployments(() => url)
  const checks = new StubChecks()
  const answeredRequests: StubRequest[] = []
  let waiters: Array<{ match: (r: StubRequest) => boolean; resolve: (r: StubRequest) => void }> = []
  const markAnswered = (entry: StubRequest): void => {
    answeredRequests.push(entry)
    for (const w of waiters.filter((w) => w.match(entry))) w.resolve(entry)
    waiters = waiters.filter((w) => !w.match(entry))
  }
  let nextId = 1_900_000_001
  let url = ''
  let history: string | undefined

  function toJson(comment: StubComment): Record<string, unknown> {
    const [owner, repo] = comment.repo.split('/')
    return {
      id: comment.id,
      node_id: `IC_kwDO${comment.id.toString(36)}`,
      url: `${url}/repos/${comment.repo}/issues/comments/${comment.id}`,
      html_url: `https://github.com/${owner}/${repo}/pull/${comment.issueNumber}#issuecomment-${comment.id}`,
      issue_url: `${url}/repos/${comment.repo}/issues/${comment.issueNumber}`,
      body: comment.body,
      user: {
        ...comment.user,
        node_id: 'MDM6Qm90NDE4OTgyODI=',
        html_url: 'https://github.com/apps/github-actions'
      },
      created_at: comment.createdAt,
      updated_at: comment.updatedAt,
      author_association: 'NONE',
      performed_via_github_app: null
    }
  }

  function listComments(response: ServerResponse, path: string, query: URLSearchParams): void {
    const [, owner, repo, number] = ISSUE_COMMENTS.exec(path)!
    const all = store.filter(
      (c) => c.repo === `${owner}/${repo}` && c.issueNumber === Number(number)
    )
    const perPage = positiveInt(query.get('per_page'), 30, 100)
    const page = positiveInt(query.get('page'), 1, Number.MAX_SAFE_INTEGER)
    const lastPage = Math.max(1, Math.ceil(all.length / perPage))
    const slice = all.slice((page - 1) * perPage, page * perPage)
    const link = linkHeader(`${url}${path}`, page, lastPage, perPage)
    sendJson(response, 200, slice.map(toJson), link ? { link } : {})
  }

  function createComment(response: ServerResponse, path: string, body: unknown): void {
    const [, owner, repo, number] = ISSUE_COMMENTS.exec(path)!
    const now = new Date().toISOString()
    const comment: StubComment = {
      id: nextId++,
      repo: `${owner}/${repo}`,
      issueNumber: Number(number),
      body: bodyText(body),
      user: { ...BOT },
      createdAt: now,
      updatedAt: now
    }
    store.push(comment)
    sendJson(response, 201, toJson(comment), {
      location: `${url}/repos/${comment.repo}/issues/comments/${comment.id}`
    })
  }

  function addComment(fields: Pick<StubComment, 'repo' | 'issueNumber' | 'body' | 'user'>) {
    const now = new Date().toISOString()
    const comment: StubComment = { id: nextId++, ...fields, createdAt: now, updatedAt: now }
    store.push(comment)
    return comment
  }

  /** GET compare/{base}...{head} as GitHub answers it: ahead/behind counts from the history. */
  function compareCommits(response: ServerResponse, path: string, query: URLSearchParams): void {
    const [, owner, repo, base, head] = COMPARE.exec(path)!
    const commit = (ref: string) =>
      history ? gitIn(history, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]) : undefined
    const [baseSha, headSha] = [commit(base!), commit(head!)]
    if (!history || !baseSha || !headSha) throw new HttpError(404, 'Not Found')
    const mergeBase = gitIn(history, ['merge-base', baseSha, headSha])
    if (!mergeBase) throw new HttpError(404, `No common ancestor between ${base} and ${head}.`)
    const ahead = gitIn(history, ['rev-list', '--reverse', `${baseSha}..${headSha}`])!
      .split('\n')
      .filter(Boolean)
    const behindBy = Number(gitIn(history, ['rev-list', '--count', `${headSha}..${baseSha}`]))
    const perPage = positiveInt(query.get('per_page'), 250, 250)
    const commitJson = (sha: string) => ({
      sha,
      url: `${url}/repos/${owner}/${repo}/commits/${sha}`
    })
    sendJson(response, 200, {
      url: `${url}${path}`,
      html_url: `https://github.com/${owner}/${repo}/compare/${base}...${head}`,
      base_commit: commitJson(baseSha),
      merge_base_commit: commitJson(mergeBase),
      status: compareStatus(ahead.length, behindBy),
      ahead_by: ahead.length,
      behind_by: behindBy,
      total_commits: ahead.length,
      commits: ahead.slice(0, perPage).map(commitJson),
      files: []
    })
  }

  function routeDeployments(
    method: string,
    path: string,
    query: URLSearchParams,
    body: unknown,
    response: ServerResponse
  ): void {
    refuse('deployments')
    const fields = body as Record<string, unknown> | undefined
    const list = DEPLOYMENTS.exec(path)
    if (list) {
      const repo = `${list[1]}/${list[2]}`
      if (method === 'POST') return sendJson(response, 201, deployments.create(repo, fields))
      if (method === 'GET') return sendJson(response, 200, deployments.list(repo, query))
    }
    const statuses = DEPLOYMENT_STATUSES.exec(path)
    if (statuses) {
      const [repo, id] = [`${statuses[1]}/${statuses[2]}`, Number(statuses[3])]
      if (method === 'POST') return sendJson(response, 201, deployments.addStatus(repo, id, fields))
      if (method === 'GET') return sendJson(response, 200, deployments.listStatuses(repo, id))
    }
    throw new HttpError(404, 'Not Found')
  }

  function refuse(area: StubArea): void {
    if (deniedAreas.has(area)) throw new HttpError(403, 'Resource not accessible by integration')
  }

  function routeChecks(
    method: string,
    path: string,
    query: URLSearchParams,
    body: unknown,
    response: ServerResponse
  ): void {
    refuse('checks')
    const fields = body as Record<string, unknown> | undefined
    const forRef = REF_CHECK_RUNS.exec(path)
    if (forRef && method === 'GET') {
      const repo = `${forRef[1]}/${forRef[2]}`
      return sendJson(response, 200, checks.listForRef(repo, forRef[3]!, query.get('check_name')))
    }
    const [, owner, repo, id] = CHECK_RUNS.exec(path) ?? []
    if (!id && method === 'POST')
      return sendJson(response, 201, checks.create(`${owner}/${repo}`, fields))
    if (id && method === 'PATCH')
      return sendJson(response, 200, checks.update(`${owner}/${repo}`, Number(id), fields))
    throw new HttpError(404, 'Not Found')
  }

  function routeStatuses(
    method: string,
    path: string,
    body: unknown,
    response: ServerResponse
  ): void {
    refuse('statuses')
    const [, owner, repo, listRef, postSha] = STATUSES.exec(path) ?? []
    const full = `${owner}/${repo}`
    if (postSha && method === 'POST')
      return sendJson(
        response,
        201,
        checks.addStatus(full, postSha, body as Record<string, unknown>)
      )
    if (listRef && method === 'GET')
      return sendJson(response, 200, checks.statusesForRef(full, listRef))
    throw new HttpError(404, 'Not Found')
  }

  function findComment(path: string): { comment: StubComment; index: number } {
    const [, owner, repo, id] = ONE_COMMENT.exec(path)!
    const index = store.findIndex((c) => c.id === Number(id) && c.repo === `${owner}/${repo}`)
    if (index < 0) throw new HttpError(404, 'Not Found')
    return { comment: store[index]!, index }
  }

  function route(
    method: string,
    path: string,
    query: URLSearchParams,
    body: unknown,
    response: ServerResponse
  ): void {
    // Installation tokens (GITHUB_TOKEN) have no user of their own.
    if (path === '/user') throw new HttpError(403, 'Resource not accessible by integration')
    if (ISSUE_COMMENTS.test(path) && method === 'GET') return listComments(response, path, query)
    if (ISSUE_COMMENTS.test(path) && method === 'POST') return createComment(response, path, body)
    if (COMPARE.test(path) && method === 'GET') return compareCommits(response, path, query)
    if (DEPLOYMENTS.test(path) || DEPLOYMENT_STATUSES.test(path))
      return routeDeployments(method, path, query, body, response)
    if (CHECK_RUNS.test(path) || REF_CHECK_RUNS.test(path))
      return routeChecks(method, path, query, body, response)
    if (STATUSES.test(path)) return routeStatuses(method, path, body, response)
    if (ONE_COMMENT.test(path)) {
      const { comment, index } = findComment(path)
      if (method === 'GET') return sendJson(response, 200, toJson(comment))
      if (method === 'PATCH') {
        comment.body = bodyText(body)
        comment.updatedAt = new Date().toISOString()
        return sendJson(response, 200, toJson(comment))
      }
      if (method === 'DELETE') {
        store.splice(index, 1)
        response.writeHead(204).end()
        return
      }
    }
    throw new HttpError(404, 'Not Found')
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const parsed = new URL(request.url ?? '/', 'http://stub')
    const authorization = request.headers.authorization
    const entry: StubRequest = {
      method: request.method ?? 'GET',
      path: parsed.pathname,
      query: parsed.search,
      authorization,
      body: undefined
    }
    requests.push(entry)
    entry.body = await readBody(request)
    const token = tokenOf(authorization)
    if (!token) throw new HttpError(401, 'Requires authentication')
    if (denied.has(token)) throw new HttpError(403, 'Resource not accessible by integration')
    route(entry.method, parsed.pathname, parsed.searchParams, entry.body, response)
    markAnswered(entry)
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      const status = error instanceof HttpError ? error.status : 500
      const message = error instanceof Error ? error.message : String(error)
      sendJson(response, status, {
        message,
        documentation_url: 'https://docs.github.com/rest',
        status: String(status)
      })
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

  return {
    url,
    comments: () => store.map((c) => ({ ...c, user: { ...c.user } })),
    deployments: () => structuredClone(deployments.all),
    checkRuns: () => structuredClone(checks.runs),
    commitStatuses: () => structuredClone(checks.statuses),
    addCheckRun: ({ repo, headSha, name, conclusion }) => {
      const run = checks.create(repo, { name, head_sha: headSha, status: 'completed' })
      checks.update(repo, run.id as number, { conclusion })
    },
    answered: (match) => {
      const seen = answeredRequests.find(match)
      if (seen) return Promise.resolve(seen)
      return new Promise((resolve) => waiters.push({ match, resolve }))
    },
    deny: (area) => deniedAreas.add(area),
    addComment,
    requests,
    denyToken: (token) => denied.add(tokenOf(token) ?? token),
    serveHistory: (gitDir) => (history = gitDir),
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}

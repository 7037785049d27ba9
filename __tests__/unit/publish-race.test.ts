// The manifest publish after S3 refuses a conditional write: the read-back that recognises a
// write S3 had already committed, the decision by commit ancestry, and where the ancestry
// comes from (git in the workspace, else GitHub's compare API, here the dev stub).
import { jest, describe, it, expect, beforeEach, afterAll } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import * as core from '../../__fixtures__/core.js'
import { MemoryStore, manifestJson } from '../../__fixtures__/store.js'
import { startGitHubStub } from '../../dev/github-stub.js'

jest.unstable_mockModule('@actions/core', () => core)
// @actions/github reads the API URL when it is first imported.
const stub = await startGitHubStub()
process.env.GITHUB_API_URL = stub.url
const { judgeStoredManifest, publishManifest } = await import('../../src/store/publish.js')
const { commitHistory } = await import('../../src/store/ancestry.js')
type CommitHistory = import('../../src/store/ancestry.js').CommitHistory
type CommitOrder = import('../../src/store/ancestry.js').CommitOrder

const OLDER = 'a'.repeat(40)
const NEWER = 'b'.repeat(40)
const URI = 's3://b/prod/manifest.json'
const location = { uri: 's3://b/prod', bucket: 'b', prefix: 'prod' }
const KEY = 'prod/manifest.json'

beforeEach(() => core.resetCore())

afterAll(() => stub.stop())

describe('judgeStoredManifest', () => {
  const facts = (
    ours: string,
    stored: string | undefined,
    order: CommitOrder | undefined,
    changedProduction = true
  ) => ({
    manifestUri: URI,
    ours,
    stored,
    ordering: order && { order, how: 'git' },
    changedProduction
  })

  it('replaces the manifest of an ancestor, saying which commit it replaces', () => {
    expect(judgeStoredManifest(facts(NEWER, OLDER, 'ancestor'))).toEqual({
      replace: true,
      notice: `While this run was deploying, ${URI} was replaced by the manifest of ${OLDER}, an ancestor of this run's commit ${NEWER} (according to git). This run's newer manifest replaces it.`
    })
  })

  it('replaces a manifest of the same commit', () => {
    const verdict = judgeStoredManifest(facts(NEWER, NEWER, 'identical'))
    expect(verdict).toMatchObject({ replace: true })
    expect(verdict.replace && verdict.notice).toContain(`the same commit ${NEWER}`)
  })

  it('refuses a descendant: S3 keeps the newer commit, production may hold the older one', () => {
    expect(judgeStoredManifest(facts(OLDER, NEWER, 'descendant'))).toEqual({
      replace: false,
      message:
        `This run's manifest (commit ${OLDER}) was not published: while this run was deploying, ${URI} was replaced by the manifest of ${NEWER}, a newer commit (${OLDER} is its ancestor, according to git). S3 keeps the manifest of ${NEWER}. ` +
        `This run changed production, possibly after the deploy of ${NEWER} did, so production may hold objects built from the older commit ${OLDER}: re-run the deploy of ${NEWER} (or of the newest commit) to restore them.`
    })
  })

  it('refuses a descendant without a word about production when this run did not change it', () => {
    const verdict = judgeStoredManifest(facts(OLDER, NEWER, 'descendant', false))
    expect(verdict.replace).toBe(false)
    expect(!verdict.replace && verdict.message).toMatch(
      new RegExp(`${NEWER}, a newer commit .*S3 keeps the manifest of ${NEWER}\\.$`)
    )
  })

  it.each([
    ['diverged', /neither commit is an ancestor of the other \(according to git\)/],
    ['unknown', /cannot tell whether that commit is newer or older than a{40}: git\./],
    [undefined, /which this run does not replace\./]
  ] as const)('refuses when the order is %s, naming both commits', (order, reason) => {
    const verdict = judgeStoredManifest(facts(OLDER, NEWER, order))
    expect(verdict.replace).toBe(false)
    const message = verdict.replace ? '' : verdict.message
    expect(message).toMatch(reason)
    expect(message).toContain(`This run's manifest (commit ${OLDER}) was not published`)
    expect(message).toContain(`the manifest of ${NEWER}`)
    expect(message).toContain(
      `Production may hold objects built from ${OLDER} while S3 describes ${NEWER}`
    )
  })

  it('names an unknown commit when the stored manifest has no git-sha', () => {
    const verdict = judgeStoredManifest(facts(OLDER, undefined, 'unknown'))
    expect(!verdict.replace && verdict.message).toContain('the manifest of an unknown commit.')
  })
})

describe('publishManifest after S3 refuses the write', () => {
  const ours = manifestJson({ 'model.p.a': 'ours' })
  const history = jest.fn<CommitHistory>()

  /** A store holding the production manifest of `sha`, as the run read it at its start. */
  async function production(sha = 'f'.repeat(40)): Promise<{ store: MemoryStore; etag: string }> {
    const store = new MemoryStore()
    const etag = await store.put(KEY, manifestJson({ 'model.p.a': 'prod' }), undefined, {
      'git-sha': sha
    })
    return { store, etag }
  }

  /** Another run publishes its manifest just before each of this run's writes. */
  function rivalPublishes(store: MemoryStore, sha: string, times = 1): void {
    let published = 0
    store.beforePut = (key) => {
      if (key !== KEY || published >= times) return
      published++
      store.objects.set(KEY, {
        body: manifestJson({ 'model.p.a': `rival${published}` }),
        etag: `"rival${published}"`,
        metadata: { 'git-sha': sha }
      })
    }
  }

  beforeEach(() => {
    history.mockReset()
  })

  it.each([
    ['replacing a manifest', true],
    ['creating the first manifest', false]
  ])(
    'a write S3 committed before answering 500 (%s) succeeds, and the archive is written',
    async (_case, existing) => {
      const { store, etag } = existing
        ? await production()
        : { store: new MemoryStore(), etag: undefined }
      let lost = false
      store.beforePut = (key) => (key === KEY && !lost ? ((lost = true), 'lose-answer') : undefined)
      const condition = etag ? { ifMatch: etag } : ({ ifNoneMatch: '*' } as const)
      const note = await publishManifest(store, location, ours, condition, NEWER, { history })
      expect(note).toBe(`Manifest of ${NEWER} published to ${URI}.`)
      expect(store.objects.get(KEY)?.body).toBe(ours)
      expect(store.objects.get(`prod/manifests/${NEWER}.json`)?.body).toBe(ours)
      expect(history).not.toHaveBeenCalled()
      expect(core.info).toHaveBeenCalledWith(expect.stringContaining('first attempt had succeeded'))
    }
  )

  it('replaces the manifest of an ancestor published meanwhile, on the ETag it read back', async () => {
    const { store, etag } = await production()
    rivalPublishes(store, OLDER)
    history.mockResolvedValue({ order: 'ancestor', how: 'git' })
    const note = await publishManifest(store, location, ours, { ifMatch: etag }, NEWER, {
      history
    })
    expect(history).toHaveBeenCalledWith(OLDER, NEWER)
    expect(store.objects.get(KEY)).toMatchObject({ body: ours, metadata: { 'git-sha': NEWER } })
    expect(store.objects.has(`prod/manifests/${NEWER}.json`)).toBe(true)
    expect(core.notice).toHaveBeenCalledWith(expect.stringContaining(`manifest of ${OLDER}`))
    expect(note).toBe(
      `Manifest of ${NEWER} published to ${URI}, replacing the manifest of ${OLDER} published meanwhile.`
    )
  })

  it('leaves the manifest of a descendant in place and fails with what that means', async () => {
    const { store, etag } = await production()
    rivalPublishes(store, NEWER)
    history.mockResolvedValue({ order: 'descendant', how: 'the GitHub API' })
    await expect(
      publishManifest(store, location, ours, { ifMatch: etag }, OLDER, {
        history,
        changedProduction: true
      })
    ).rejects.toThrow(
      new RegExp(
        `manifest of ${NEWER}, a newer commit .*production may hold objects built from the older commit ${OLDER}`
      )
    )
    expect(store.objects.get(KEY)).toMatchObject({ etag: '"rival1"' })
    expect(store.objects.has(`prod/manifests/${OLDER}.json`)).toBe(false)
  })

  it('does not consult the history when the stored manifest has no git-sha', async () => {
    const { store, etag } = await production()
    rivalPublishes(store, '')
    await expect(
      publishManifest(store, location, ours, { ifMatch: etag }, OLDER, { history })
    ).rejects.toThrow(/an unknown commit\. .* does not say which commit it was built from/)
    expect(history).not.toHaveBeenCalled()
  })

  it('retries on the same condition when the refusal left the manifest unchanged (a 409)', async () => {
    const { store, etag } = await production()
    let conflicts = 0
    store.beforePut = (key) => (key === KEY && conflicts++ === 0 ? 'conflict' : undefined)
    await publishManifest(store, location, ours, { ifMatch: etag }, NEWER, { history })
    expect(store.objects.get(KEY)?.body).toBe(ours)
    expect(history).not.toHaveBeenCalled()
  })

  it('creates the manifest when it was deleted meanwhile', async () => {
    const { store, etag } = await production()
    store.objects.delete(KEY)
    await publishManifest(store, location, ours, { ifMatch: etag }, NEWER, { history })
    expect(store.objects.get(KEY)?.body).toBe(ours)
  })

  it('gives up after five writes on a manifest that keeps changing', async () => {
    const { store, etag } = await production()
    rivalPublishes(store, OLDER, Infinity)
    history.mockResolvedValue({ order: 'ancestor', how: 'git' })
    await expect(
      publishManifest(store, location, ours, { ifMatch: etag }, NEWER, { history })
    ).rejects.toThrow(/kept changing while this run wrote it \(5 attempts\)/)
    expect(store.objects.get(KEY)?.etag).toBe('"rival5"')
    expect(store.objects.has(`prod/manifests/${NEWER}.json`)).toBe(false)
  })
})

describe('commitHistory', () => {
  const repository = { owner: 'acme', repo: 'analytics' }
  const dirs: string[] = []
  const git = (dir: string, args: string[]): string =>
    execFileSync('git', args, { cwd: dir, encoding: 'utf8', stdio: 'pipe' }).trim()

  function tempDir(): string {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ancestry-'))
    dirs.push(dir)
    return dir
  }

  /** root → older → newer on main, and a side branch off root. */
  function repositoryWithHistory() {
    const dir = tempDir()
    git(dir, ['init', '--quiet', '-b', 'main'])
    const commit = (message: string): string => {
      git(dir, [
        '-c',
        'user.name=T',
        '-c',
        'user.email=t@example.com',
        'commit',
        '--quiet',
        '--allow-empty',
        '-m',
        message
      ])
      return git(dir, ['rev-parse', 'HEAD'])
    }
    const root = commit('root')
    const older = commit('older')
    const newer = commit('newer')
    git(dir, ['checkout', '--quiet', '-b', 'side', root])
    const side = commit('side')
    git(dir, ['checkout', '--quiet', 'main'])
    return { dir, older, newer, side }
  }

  const repo = repositoryWithHistory()

  afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })))

  it.each([
    ['ancestor', () => [repo.older, repo.newer]],
    ['descendant', () => [repo.newer, repo.older]],
    ['diverged', () => [repo.side, repo.newer]],
    ['identical', () => [repo.newer, repo.newer]]
  ] as const)('git orders a full clone: %s', async (order, shas) => {
    const before = stub.requests.length
    const [stored, ours] = shas()
    const ordering = await commitHistory(repo.dir, 'token', repository)(stored!, ours!)
    expect(ordering.order).toBe(order)
    expect(stub.requests.length).toBe(before)
  })

  it('asks the GitHub API when a shallow clone cannot tell', async () => {
    const shallow = tempDir()
    git(shallow, ['clone', '--quiet', '--depth', '1', `file://${repo.dir}`, '.'])
    git(shallow, ['fetch', '--quiet', '--depth', '1', 'origin', repo.older])
    stub.serveHistory(repo.dir)
    const history = commitHistory(shallow, 'ghs_compareToken', repository)
    expect(await history(repo.older, repo.newer)).toEqual({
      order: 'ancestor',
      how: 'the GitHub API'
    })
    expect(await history(repo.side, repo.newer)).toMatchObject({ order: 'diverged' })
    expect(stub.requests.at(-1)).toMatchObject({
      method: 'GET',
      path: `/repos/acme/analytics/compare/${repo.side}...${repo.newer}`,
      authorization: 'token ghs_compareToken'
    })
  })

  it('is unknown, and says why, when neither git nor GitHub can tell', async () => {
    stub.serveHistory(tempDir())
    const missing = 'c'.repeat(40)
    const withToken = await commitHistory(repo.dir, 'token', repository)(missing, repo.newer)
    expect(withToken.order).toBe('unknown')
    expect(withToken.how).toMatch(/git cannot relate .* GitHub's compare API failed: Not Found/)
    const withoutToken = await commitHistory(repo.dir, undefined, repository)(missing, repo.newer)
    expect(withoutToken).toMatchObject({ order: 'unknown' })
    expect(withoutToken.how).toMatch(/without "github-token"/)
  })

  it('never hands git something that is not a commit sha', async () => {
    const before = stub.requests.length
    const ordering = await commitHistory(
      repo.dir,
      'token',
      repository
    )('--output=/tmp/x', repo.newer)
    expect(ordering).toEqual({ order: 'unknown', how: '"--output=/tmp/x" is not a commit sha' })
    expect(stub.requests.length).toBe(before)
  })
})

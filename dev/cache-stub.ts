// A local stand-in for the GitHub Actions cache service (the v1 REST protocol that
// @actions/cache speaks when ACTIONS_CACHE_URL is set): look up by key, then by restore-key
// prefix (newest first), within one cache version; reserve, chunked upload, commit, download.
// Entries live in memory, so two action runs against one stub share a cache as two CI runs do.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface CacheEntry {
  id: number
  key: string
  version: string
  /** Undefined until the upload is committed. */
  archive?: Buffer
}

export interface CacheStub {
  /** For ACTIONS_CACHE_URL, with the trailing slash the library expects. */
  url: string
  entries: CacheEntry[]
  /** `METHOD path?query` of every request, in order. */
  requests: string[]
  /** The environment that makes @actions/cache use this stub. */
  env: Record<string, string>
  stop(): Promise<void>
}

const API = '/_apis/artifactcache/'

async function body(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of request) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

function json(response: ServerResponse, status: number, value?: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' })
  response.end(value === undefined ? undefined : JSON.stringify(value))
}

class CacheService {
  readonly entries: CacheEntry[] = []
  private readonly uploads = new Map<number, Array<{ start: number; data: Buffer }>>()

  constructor(private readonly url: () => string) {}

  /** An exact key first, then each key as a prefix, newest entry first. */
  lookup(keys: string[], version: string): CacheEntry | undefined {
    const committed = this.entries.filter((e) => e.archive && e.version === version).reverse()
    const [primary] = keys
    return (
      committed.find((e) => e.key === primary) ??
      keys.map((key) => committed.find((e) => e.key.startsWith(key))).find(Boolean)
    )
  }

  async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://stub')
    const route = `${request.method} ${url.pathname}`
    const id = Number(/\/caches\/(\d+)$/.exec(url.pathname)?.[1])
    if (route === `GET ${API}cache`) {
      // The library encodes the comma-joined keys once more than the URL needs.
      const keys = decodeURIComponent(url.searchParams.get('keys') ?? '').split(',')
      const found = this.lookup(keys, url.searchParams.get('version') ?? '')
      if (!found) return json(response, 204)
      return json(response, 200, {
        cacheKey: found.key,
        archiveLocation: `${this.url()}archives/${found.id}`
      })
    }
    if (route === `POST ${API}caches`) {
      const { key, version } = JSON.parse((await body(request)).toString()) as CacheEntry
      if (this.entries.some((e) => e.key === key && e.version === version))
        return json(response, 409, { message: `Cache already exists: ${key}` })
      const entry = { id: this.entries.length + 1, key, version }
      this.entries.push(entry)
      this.uploads.set(entry.id, [])
      return json(response, 201, { cacheId: entry.id })
    }
    if (request.method === 'PATCH' && this.uploads.has(id)) {
      const start = Number(/bytes (\d+)-/.exec(request.headers['content-range'] ?? '')?.[1])
      this.uploads.get(id)!.push({ start, data: await body(request) })
      return json(response, 204)
    }
    if (request.method === 'POST' && this.uploads.has(id)) {
      const parts = this.uploads.get(id)!.sort((a, b) => a.start - b.start)
      this.entries.find((e) => e.id === id)!.archive = Buffer.concat(parts.map((p) => p.data))
      this.uploads.delete(id)
      return json(response, 204)
    }
    const archive = /^\/archives\/(\d+)$/.exec(url.pathname)
    const entry = archive && this.entries.find((e) => e.id === Number(archive[1]))
    if (request.method === 'GET' && entry?.archive) {
      response.writeHead(200, {
        'content-type': 'application/octet-stream',
        'content-length': entry.archive.length
      })
      return void response.end(entry.archive)
    }
    json(response, 404, { message: `no route for ${route}` })
  }
}

export async function startCacheStub(): Promise<CacheStub> {
  let url = ''
  const service = new CacheService(() => url)
  const requests: string[] = []
  const server = createServer((request, response) => {
    requests.push(`${request.method} ${request.url}`)
    service.handle(request, response).catch((error: unknown) => {
      json(response, 500, { message: String(error) })
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
  return {
    url,
    entries: service.entries,
    requests,
    env: { ACTIONS_CACHE_URL: url, ACTIONS_RUNTIME_TOKEN: 'cache-stub-token' },
    stop: () => new Promise((resolve) => server.close(() => resolve()))
  }
}

// A tiny HTTP proxy in front of moto that injects S3 faults (5xx, delays, AccessDenied,
// connection resets, held requests, lost answers) and logs every request the action makes.
import { randomBytes } from 'node:crypto'
import {
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse
} from 'node:http'
import type { AddressInfo } from 'node:net'

export interface ProxiedRequest {
  method: string
  /** Path without the query string, e.g. `/bucket/prod/manifest.json`. */
  path: string
  query: string
  headers: IncomingHttpHeaders
  /** Status sent back, or `reset` / `aborted`; undefined while in flight. */
  outcome?: number | 'reset' | 'aborted'
}

export type RequestMatcher = (request: ProxiedRequest) => boolean

export interface FaultProxy {
  url: string
  requests: ProxiedRequest[]
  /** Forward everything untouched (clears faults and holds). */
  passThrough(): void
  /** Answer matching requests with an S3 `InternalError` (or another status) every time. */
  failAlways(status?: number, match?: RequestMatcher): void
  /** Fail the first `times` matching requests, then pass. */
  failTimes(times: number, status?: number, match?: RequestMatcher): void
  /**
   * Forward the first `times` matching requests to moto, then answer them with an error instead
   * of moto's reply: the request took effect, but the client sees a failure.
   */
  loseAnswers(times: number, status?: number, match?: RequestMatcher): void
  /** Delay matching requests by `ms` before forwarding. */
  delay(ms: number, match?: RequestMatcher): void
  /** Answer matching requests with 403 AccessDenied. */
  deny(match?: RequestMatcher): void
  /** Reset the connection of matching requests without answering. */
  reset(match?: RequestMatcher): void
  /** Park matching requests until the returned release() is called. */
  hold(match?: RequestMatcher): () => void
  /** Resolves with the first matching request to reach the proxy (at once if one has). */
  arrival(match: RequestMatcher): Promise<ProxiedRequest>
  stop(): Promise<void>
}

type Fault =
  | { kind: 'status'; status: number; remaining: number; forwardFirst?: boolean }
  | { kind: 'delay'; ms: number }
  | { kind: 'reset' }
  | { kind: 'hold'; released: Promise<void> }

interface Rule {
  fault: Fault
  match: RequestMatcher
}

const ALL: RequestMatcher = () => true

const S3_ERRORS: Record<number, { code: string; message: string }> = {
  403: { code: 'AccessDenied', message: 'Access Denied' },
  500: { code: 'InternalError', message: 'We encountered an internal error. Please try again.' },
  503: { code: 'SlowDown', message: 'Please reduce your request rate.' }
}

function sendS3Error(request: IncomingMessage, response: ServerResponse, status: number): void {
  const error = S3_ERRORS[status] ?? { code: 'ServiceUnavailable', message: 'Service unavailable' }
  const requestId = randomBytes(8).toString('hex').toUpperCase()
  const body =
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<Error><Code>${error.code}</Code><Message>${error.message}</Message>` +
    `<Resource>${request.url}</Resource><RequestId>${requestId}</RequestId></Error>`
  response.writeHead(status, {
    'content-type': 'application/xml',
    'content-length': String(Buffer.byteLength(body)),
    'x-amz-request-id': requestId
  })
  response.end(request.method === 'HEAD' ? undefined : body)
}

function readAll(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.once('end', () => resolve(Buffer.concat(chunks)))
    request.once('error', reject)
  })
}

/** Sends the request to moto; `answer` gets moto's reply (default: passed on as is). */
function forward(
  target: URL,
  request: IncomingMessage,
  body: Buffer,
  response: ServerResponse,
  entry: ProxiedRequest,
  answer: (reply: IncomingMessage) => void = (reply) => {
    entry.outcome = reply.statusCode
    response.writeHead(reply.statusCode ?? 502, reply.headers)
    reply.pipe(response)
  }
): void {
  const upstream = httpRequest(
    {
      host: target.hostname,
      port: target.port,
      method: request.method,
      path: request.url,
      headers: { ...request.headers, host: target.host }
    },
    answer
  )
  upstream.once('error', () => {
    entry.outcome = 'aborted'
    response.destroy()
  })
  upstream.end(body)
}

/** Lets moto apply the request, then answers with an S3 error once moto's reply is complete. */
function forwardThenFail(
  target: URL,
  request: IncomingMessage,
  body: Buffer,
  response: ServerResponse,
  entry: ProxiedRequest,
  status: number
): void {
  forward(target, request, body, response, entry, (reply) => {
    reply.resume()
    reply.once('end', () => {
      entry.outcome = status
      sendS3Error(request, response, status)
    })
  })
}

export async function startFaultProxy(targetUrl: string): Promise<FaultProxy> {
  const target = new URL(targetUrl)
  const requests: ProxiedRequest[] = []
  let rules: Rule[] = []
  let waiters: Array<{ match: RequestMatcher; resolve: (request: ProxiedRequest) => void }> = []

  function faultFor(entry: ProxiedRequest): Fault | undefined {
    const rule = rules.find((r) => r.match(entry))
    if (rule?.fault.kind !== 'status') return rule?.fault
    if (rule.fault.remaining <= 0) return undefined
    rule.fault.remaining--
    return rule.fault
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const parsed = new URL(request.url ?? '/', 'http://proxy')
    const entry: ProxiedRequest = {
      method: request.method ?? 'GET',
      path: decodeURIComponent(parsed.pathname),
      query: parsed.search,
      headers: request.headers
    }
    requests.push(entry)
    waiters.filter((w) => w.match(entry)).forEach((w) => w.resolve(entry))
    waiters = waiters.filter((w) => !w.match(entry))
    response.once('close', () => (entry.outcome ??= 'aborted'))
    const body = await readAll(request)
    const fault = faultFor(entry)
    if (fault?.kind === 'status' && fault.forwardFirst) {
      return forwardThenFail(target, request, body, response, entry, fault.status)
    }
    if (fault?.kind === 'status') {
      entry.outcome = fault.status
      return sendS3Error(request, response, fault.status)
    }
    if (fault?.kind === 'reset') {
      entry.outcome = 'reset'
      request.socket.resetAndDestroy()
      return
    }
    if (fault?.kind === 'delay') await new Promise((resolve) => setTimeout(resolve, fault.ms))
    if (fault?.kind === 'hold') await fault.released
    if (response.destroyed) return // the client gave up meanwhile
    forward(target, request, body, response, entry)
  }

  const server = createServer((request, response) => {
    handle(request, response).catch(() => response.destroy())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const add = (fault: Fault, match: RequestMatcher = ALL): void => {
    rules = [{ fault, match }, ...rules]
  }

  return {
    url,
    requests,
    passThrough: () => (rules = []),
    failAlways: (status = 500, match) =>
      add({ kind: 'status', status, remaining: Infinity }, match),
    failTimes: (times, status = 500, match) =>
      add({ kind: 'status', status, remaining: times }, match),
    loseAnswers: (times, status = 500, match) =>
      add({ kind: 'status', status, remaining: times, forwardFirst: true }, match),
    delay: (ms, match) => add({ kind: 'delay', ms }, match),
    deny: (match) => add({ kind: 'status', status: 403, remaining: Infinity }, match),
    reset: (match) => add({ kind: 'reset' }, match),
    hold(match) {
      let release!: () => void
      add({ kind: 'hold', released: new Promise<void>((resolve) => (release = resolve)) }, match)
      return release
    },
    arrival: (match) =>
      new Promise((resolve) => {
        const arrived = requests.find(match)
        if (arrived) resolve(arrived)
        else waiters.push({ match, resolve })
      }),
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}

/** Matches requests for a key (path ends with it), optionally only one HTTP method. */
export function forKey(key: string, method?: string): RequestMatcher {
  return (request) => request.path.endsWith(`/${key}`) && (!method || request.method === method)
}

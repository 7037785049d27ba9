// The Postgres-wire proxy. Each client connection gets its own PostgreSQL backend connection
// (its own session), so `SET cluster`, temporary views and transactions stay per client.
// Authentication is relayed verbatim; only the startup options, Query and Parse texts are
// edited, plus the `mz_version` ParameterStatus and the results of hidden helper statements.
import { connect, createServer, type Server, type Socket } from 'node:net'
import { TLSSocket } from 'node:tls'
import { MaterializeError } from './cursor.js'
import { rejection, rewriteQuery, rewriteStatement, type ServerStatement } from './rewriter.js'
import { splitStatements, tokenize } from './lexer.js'
import { rewriteStartupParams } from './startup.js'
import type { Certificate } from './tls.js'
import { TransactionGuard } from './transactions.js'
import { MZ_VERSION } from './version.js'
import { materializePrivilegeMessage } from './privileges.js'
import * as wire from './wire.js'

export interface ProxyOptions {
  backendHost: string
  backendPort: number
  port: number
  host?: string
  /** Require TLS with this certificate, as Materialize Cloud does. */
  tls?: Certificate
}

export interface Proxy {
  host: string
  port: number
  /** Destroys every client connection, as a network failure would. Returns how many. */
  dropConnections(): number
  /**
   * Arms (or disarms) a one-shot fault: the client connection whose next swap transaction
   * commits is cut right after its ReadyForQuery, so the client sees the commit, and then a
   * dead connection for whatever it sends next (as a network failure after COMMIT would).
   */
  dropAfterNextSwap(armed?: boolean): void
  /**
   * Arms (or, with undefined, disarms) a one-shot fault: the connection whose next simple query
   * matches `pattern` is cut instead of running it, as a network failure mid-statement would.
   */
  dropOnNextQuery(pattern?: RegExp): void
  /**
   * One-shot: when a simple query matching `pattern` arrives, `action` runs before the query is
   * forwarded. Resolves, or rejects with the action's error, once the query went on (it goes on
   * either way) or was dropped with its connection.
   */
  beforeNextQuery(pattern: RegExp, action: () => Promise<void>): Promise<void>
  /** One-shot: the next simple query matching `pattern` waits until `release()`. */
  holdNextQuery(pattern: RegExp): HeldQuery
  close(): Promise<void>
}

export type GateOutcome = 'forwarded' | 'dropped'

export interface HeldQuery {
  /** Resolves with the query's text once it is held. */
  reached: Promise<string>
  /** Forwards the held query (or lets the next match through, if none is held yet). */
  release(): void
  /** Whether the query went on after `release()`, or was dropped as its client disconnected. */
  settled: Promise<GateOutcome>
}

/** How to relay the responses up to the next ReadyForQuery. */
interface ResponsePlan {
  statements?: ServerStatement[]
  index: number
  /** The query swaps schemas or clusters; `failed` once the backend reported an error. */
  swaps?: boolean
  failed?: boolean
}

/**
 * A one-shot hook on a simple query: `open` is called when a matching query arrives, and the
 * query waits for what it returns before it is forwarded.
 */
interface Gate {
  pattern: RegExp
  open(text: string): Promise<unknown>
  /** Called once the query went on to PostgreSQL, or was dropped with its connection. */
  passed(outcome: GateOutcome): void
}

/** Faults shared by every session of one proxy. */
interface Faults {
  dropAfterSwap: boolean
  dropOnQuery?: RegExp
  /** Armed gates, first armed first; a query takes the first that matches it. */
  gates: Gate[]
}

function takeGate(faults: Faults, text: string): Gate | undefined {
  const index = faults.gates.findIndex((gate) => gate.pattern.test(text))
  return index < 0 ? undefined : faults.gates.splice(index, 1)[0]
}

/** The gate of beforeNextQuery: its promise settles as the action did, after the forward. */
function actionGate(pattern: RegExp, action: () => Promise<void>): [Gate, Promise<void>] {
  let ran: Promise<void> = Promise.resolve()
  let settle!: () => void
  // Settles when the query passed and the action finished (a connection cut mid-action
  // passes first).
  const done = new Promise<void>((resolve) => (settle = resolve)).then(() => ran)
  const open = (): Promise<unknown> => {
    ran = Promise.resolve().then(action)
    return ran.catch(() => undefined)
  }
  // Handled here, so a caller that never awaits the result does not crash on its rejection.
  done.catch(() => undefined)
  return [{ pattern, open, passed: settle }, done]
}

function holdGate(pattern: RegExp): [Gate, HeldQuery] {
  let reach!: (text: string) => void
  let release!: () => void
  let passed!: (outcome: GateOutcome) => void
  const reached = new Promise<string>((resolve) => (reach = resolve))
  const released = new Promise<void>((resolve) => (release = resolve))
  const settled = new Promise<GateOutcome>((resolve) => (passed = resolve))
  const open = (text: string): Promise<unknown> => {
    reach(text)
    return released
  }
  return [
    { pattern, open, passed },
    { reached, release, settled }
  ]
}

const SWAP_CALL = /\bmz_emulator\.swap_(schemas|clusters)\(/

/** Keeps a replacement statement's parameter count, so the client's Bind still fits. */
function withParameters(replacement: string, original: string): string {
  const numbers = tokenize(original)
    .filter((t) => t.kind === 'param')
    .map((t) => Number(t.text.slice(1)))
  const count = Math.max(0, ...numbers)
  if (count === 0) return replacement
  const params = Array.from({ length: count }, (_, i) => `$${i + 1}::text`).join(', ')
  return `${replacement} FROM (SELECT ${params}) AS parameters`
}

class Session {
  private client: Socket
  private encrypted = false
  private readonly clientReader = new wire.MessageReader()
  private readonly backendReader = new wire.MessageReader()
  private backend?: Socket
  private startedUp = false
  private ready = false
  private readonly plans: ResponsePlan[] = []
  private backendKey?: { pid: number; secret: number }
  private closed = false
  private readonly transaction = new TransactionGuard()
  /** The gate a query of this session waits at, and the client messages queued behind it. */
  private gate?: Gate
  private readonly waiting: wire.Message[] = []
  /** The session's database, which Materialize's privilege errors name. */
  private database = ''

  constructor(
    socket: Socket,
    private readonly options: ProxyOptions,
    private readonly faults: Faults,
    private readonly onClose: () => void
  ) {
    this.client = socket
    socket.setNoDelay(true)
    this.listen(socket)
  }

  private listen(socket: Socket): void {
    socket.on('data', (chunk: Buffer) => this.fromClient(chunk))
    socket.on('error', () => this.close())
    socket.on('close', () => this.close())
  }

  /** Answers an SSLRequest with 'S' and continues the session over TLS. */
  private startTls(certificate: Certificate): void {
    this.client.removeAllListeners('data')
    this.client.write('S')
    const secure = new TLSSocket(this.client, { isServer: true, ...certificate })
    this.client = secure
    this.encrypted = true
    this.listen(secure)
  }

  private fromClient(chunk: Buffer): void {
    this.clientReader.push(chunk)
    if (!this.startedUp) this.readStartup()
    if (!this.startedUp) return
    for (let m = this.clientReader.nextTyped(); m; m = this.clientReader.nextTyped()) {
      this.clientMessage(m)
    }
  }

  private readStartup(): void {
    for (let raw = this.clientReader.nextUntyped(); raw; raw = this.clientReader.nextUntyped()) {
      const code = raw.length >= 8 ? raw.readInt32BE(4) : 0
      if (code === wire.SSL_REQUEST && this.options.tls && !this.encrypted) {
        return this.startTls(this.options.tls)
      } else if (code === wire.SSL_REQUEST || code === wire.GSSENC_REQUEST) {
        this.client.write('N')
      } else if (code === wire.CANCEL_REQUEST) {
        this.forwardCancel(raw)
        return
      } else if (code === wire.PROTOCOL_V3 && this.options.tls && !this.encrypted) {
        // Materialize's refusal: src/pgwire-common/src/conn.rs (ensure_tls_compatibility) at
        // 09b4c8f617, SQLSERVER_REJECTED_ESTABLISHMENT_OF_SQLCONNECTION.
        this.fatal('08004', 'TLS encryption is required')
        return
      } else if (code === wire.PROTOCOL_V3) {
        this.openBackend(rewriteStartupParams(wire.parseStartupParams(raw)))
        this.startedUp = true
        return
      } else {
        this.fatal('08P01', `unsupported frontend protocol ${code >> 16}.${code & 0xffff}`)
        return
      }
    }
  }

  private forwardCancel(raw: Buffer): void {
    const socket = connect(this.options.backendPort, this.options.backendHost)
    socket.on('error', () => socket.destroy())
    socket.end(raw)
    this.client.end()
  }

  private openBackend(params: Map<string, string>): void {
    this.database = params.get('database') ?? params.get('user') ?? ''
    const backend = connect(this.options.backendPort, this.options.backendHost)
    this.backend = backend
    backend.setNoDelay(true)
    backend.on('data', (chunk: Buffer) => this.fromBackend(chunk))
    backend.on('error', (error) => {
      if (!this.ready) this.fatal('08006', `emulator backend unavailable: ${error.message}`)
      this.close()
    })
    backend.on('close', () => this.close())
    backend.write(wire.startupMessage(params))
  }

  /** While a gated query waits, later messages queue behind it, so their order holds. */
  private clientMessage(message: wire.Message): void {
    if (this.gate) this.waiting.push(message)
    else this.dispatch(message)
  }

  private dispatch(message: wire.Message): void {
    switch (message.type) {
      case 'Q':
        return this.onQuery(message)
      case 'P':
        return this.send(this.rewriteParse(message))
      case 'S':
      case 'F':
        this.plans.push({ index: 0 })
        return this.send(message.raw)
      case 'X':
        this.send(message.raw)
        return this.close()
      default:
        return this.send(message.raw)
    }
  }

  private onQuery(message: wire.Message): void {
    const text = wire.queryText(message)
    if (this.faults.dropOnQuery?.test(text)) {
      this.faults.dropOnQuery = undefined
      return this.close()
    }
    const gate = takeGate(this.faults, text)
    if (gate) return this.forwardAfter(gate, message, text)
    this.sendQuery(message, text)
  }

  /** Holds `message` until the gate opens, then forwards it and what queued behind it. */
  private forwardAfter(gate: Gate, message: wire.Message, text: string): void {
    this.gate = gate
    void gate.open(text).then(() => {
      if (this.closed) return // dropGate told the gate
      this.gate = undefined
      this.sendQuery(message, text)
      gate.passed('forwarded')
      while (!this.gate && !this.closed && this.waiting.length) {
        this.dispatch(this.waiting.shift()!)
      }
    })
  }

  /** A query waiting at a gate goes nowhere once its connection is gone. */
  private dropGate(): void {
    this.gate?.passed('dropped')
    this.gate = undefined
  }

  private sendQuery(message: wire.Message, text: string): void {
    const rewritten = rewriteQuery(text, this.transaction.admit(splitStatements(text)))
    this.plans.push({
      statements: rewritten.changed ? rewritten.statements : undefined,
      index: 0,
      swaps: rewritten.changed && SWAP_CALL.test(rewritten.text)
    })
    this.send(rewritten.changed ? wire.queryMessage(rewritten.text) : message.raw)
  }

  /** The extended protocol carries one statement; rewrite its text and keep the rest. */
  private rewriteParse(message: wire.Message): Buffer {
    const { name, sql, rest } = wire.parseMessageParts(message)
    const statements = splitStatements(sql)
    if (statements.length !== 1) return message.raw // let PostgreSQL report it
    let sent: string
    try {
      const rewritten = rewriteStatement(statements[0]!)
      if (rewritten.length !== 1) {
        throw new MaterializeError('0A000', 'this statement needs the simple query protocol')
      }
      sent = rewritten[0]!.sql
    } catch (error) {
      if (!(error instanceof MaterializeError)) throw error
      sent = withParameters(rejection(error).sql, sql)
    }
    return sent === sql ? message.raw : wire.parseMessage(name, sent, rest)
  }

  private fromBackend(chunk: Buffer): void {
    this.backendReader.push(chunk)
    const out: Buffer[] = []
    for (let m = this.backendReader.nextTyped(); m; m = this.backendReader.nextTyped()) {
      const hangUp = this.swapCommitted(m)
      out.push(...this.backendMessage(m))
      if (hangUp) return this.hangUpAfter(Buffer.concat(out))
    }
    if (out.length) this.client.write(Buffer.concat(out))
  }

  /** Whether `message` ends a committed swap transaction while the drop-after-swap fault is armed. */
  private swapCommitted(message: wire.Message): boolean {
    const plan = this.plans[0]
    if (!this.ready || !plan?.swaps) return false
    if (message.type === 'E') plan.failed = true
    // ReadyForQuery carries the transaction status: 'I' (idle) after a COMMIT that went through.
    const committed = message.type === 'Z' && !plan.failed && message.body[0] === 0x49
    if (!committed || !this.faults.dropAfterSwap) return false
    this.faults.dropAfterSwap = false
    return true
  }

  /** Sends the last answer, then cuts the connection as a network failure would. */
  private hangUpAfter(last: Buffer): void {
    this.closed = true
    this.dropGate()
    this.backend?.destroy()
    this.client.end(last)
    this.onClose()
  }

  private backendMessage(message: wire.Message): Buffer[] {
    if (message.type === 'E' || message.type === 'N') message = wire.withoutEmulatorContext(message)
    if (message.type === 'E') message = this.inMaterializeWords(message)
    if (!this.ready) return this.startupResponse(message)
    const plan = this.plans[0]
    if (message.type === 'Z') {
      this.plans.shift()
      this.transaction.settle(message.body[0]!)
      return [message.raw]
    }
    if (!plan?.statements) return [message.raw]
    return this.filtered(plan, plan.statements, message)
  }

  private inMaterializeWords(error: wire.Message): wire.Message {
    return wire.withMessageText(error, (sqlstate, text) =>
      sqlstate === '42501' ? materializePrivilegeMessage(text, this.database) : undefined
    )
  }

  private startupResponse(message: wire.Message): Buffer[] {
    if (message.type === 'K') {
      this.backendKey = { pid: message.body.readInt32BE(0), secret: message.body.readInt32BE(4) }
    }
    if (message.type !== 'Z') return [message.raw]
    this.ready = true
    return [wire.parameterStatus('mz_version', MZ_VERSION), message.raw]
  }

  /** Hides the rows and CommandComplete of helper statements and applies Materialize tags. */
  private filtered(plan: ResponsePlan, statements: ServerStatement[], m: wire.Message): Buffer[] {
    const current = statements[plan.index]
    if (m.type === 'T' || m.type === 'D') return current?.hidden ? [] : [m.raw]
    if (m.type !== 'C') return [m.raw]
    plan.index++
    if (current?.tag) return [wire.commandComplete(current.tag)]
    return current?.hidden ? [] : [m.raw]
  }

  private send(data: Buffer): void {
    this.backend?.write(data)
  }

  private fatal(sqlstate: string, message: string): void {
    this.client.end(wire.errorResponse(sqlstate, message, 'FATAL'))
  }

  /** Closing either side closes both; a query still running is cancelled first. */
  close(): void {
    if (this.closed) return
    this.closed = true
    this.dropGate()
    if (this.plans.length && this.backendKey) {
      const { pid, secret } = this.backendKey
      const canceller = connect(this.options.backendPort, this.options.backendHost)
      canceller.on('error', () => canceller.destroy())
      canceller.end(wire.cancelRequest(pid, secret))
    }
    this.backend?.destroy()
    this.client.destroy()
    this.onClose()
  }
}

export function startProxy(options: ProxyOptions): Promise<Proxy> {
  const sessions = new Set<Session>()
  const faults: Faults = { dropAfterSwap: false, gates: [] }
  const server: Server = createServer((socket) => {
    const session: Session = new Session(socket, options, faults, () => sessions.delete(session))
    sessions.add(session)
  })
  const host = options.host ?? '127.0.0.1'
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port, host, () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : options.port
      resolve({
        host,
        port,
        dropConnections() {
          const count = sessions.size
          for (const session of [...sessions]) session.close()
          return count
        },
        dropAfterNextSwap(armed = true) {
          faults.dropAfterSwap = armed
        },
        dropOnNextQuery(pattern) {
          faults.dropOnQuery = pattern
        },
        beforeNextQuery(pattern, action) {
          const [gate, done] = actionGate(pattern, action)
          faults.gates.push(gate)
          return done
        },
        holdNextQuery(pattern) {
          const [gate, held] = holdGate(pattern)
          faults.gates.push(gate)
          return held
        },
        close() {
          for (const session of [...sessions]) session.close()
          return new Promise((done) => server.close(() => done()))
        }
      })
    })
  })
}

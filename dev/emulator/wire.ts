// PostgreSQL wire-format helpers: framing, the few backend messages the proxy writes itself,
// and the StartupMessage / Parse / Query bodies it edits.

export const PROTOCOL_V3 = 196608
export const SSL_REQUEST = 80877103
export const GSSENC_REQUEST = 80877104
export const CANCEL_REQUEST = 80877102

export interface Message {
  type: string
  /** The whole message, header included, for verbatim relaying. */
  raw: Buffer
  body: Buffer
}

/** Accumulates socket data and cuts it into complete messages. */
export class MessageReader {
  private buffer: Buffer = Buffer.alloc(0)

  push(chunk: Buffer): void {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk
  }

  /** The next typed message (1-byte type + int32 length), or undefined if incomplete. */
  nextTyped(): Message | undefined {
    if (this.buffer.length < 5) return undefined
    const length = this.buffer.readInt32BE(1)
    if (this.buffer.length < length + 1) return undefined
    const raw = this.buffer.subarray(0, length + 1)
    this.buffer = this.buffer.subarray(length + 1)
    return { type: String.fromCharCode(raw[0]!), raw, body: raw.subarray(5) }
  }

  /** The next untyped startup-phase message (int32 length first), or undefined. */
  nextUntyped(): Buffer | undefined {
    if (this.buffer.length < 4) return undefined
    const length = this.buffer.readInt32BE(0)
    if (this.buffer.length < length) return undefined
    const raw = this.buffer.subarray(0, length)
    this.buffer = this.buffer.subarray(length)
    return raw
  }
}

export function frame(type: string, body: Buffer): Buffer {
  const header = Buffer.alloc(5)
  header.write(type, 0, 'latin1')
  header.writeInt32BE(body.length + 4, 1)
  return Buffer.concat([header, body])
}

const cstring = (s: string): Buffer => Buffer.from(`${s}\0`, 'utf8')

function readCString(buffer: Buffer, offset: number): { value: string; next: number } {
  const end = buffer.indexOf(0, offset)
  return { value: buffer.toString('utf8', offset, end), next: end + 1 }
}

export const parameterStatus = (name: string, value: string): Buffer =>
  frame('S', Buffer.concat([cstring(name), cstring(value)]))

export const commandComplete = (tag: string): Buffer => frame('C', cstring(tag))

export function errorResponse(sqlstate: string, message: string, severity = 'ERROR'): Buffer {
  const fields = [`S${severity}`, `V${severity}`, `C${sqlstate}`, `M${message}`]
  return frame('E', Buffer.concat([...fields.map(cstring), Buffer.from([0])]))
}

export function parseStartupParams(raw: Buffer): Map<string, string> {
  const params = new Map<string, string>()
  let offset = 8
  while (offset < raw.length && raw[offset] !== 0) {
    const key = readCString(raw, offset)
    const value = readCString(raw, key.next)
    params.set(key.value, value.value)
    offset = value.next
  }
  return params
}

export function startupMessage(params: Map<string, string>): Buffer {
  const pairs = [...params].flatMap(([k, v]) => [cstring(k), cstring(v)])
  const body = Buffer.concat([...pairs, Buffer.from([0])])
  const header = Buffer.alloc(8)
  header.writeInt32BE(body.length + 8, 0)
  header.writeInt32BE(PROTOCOL_V3, 4)
  return Buffer.concat([header, body])
}

export const queryText = (message: Message): string => readCString(message.body, 0).value

export const queryMessage = (sql: string): Buffer => frame('Q', cstring(sql))

export function parseMessageParts(message: Message): { name: string; sql: string; rest: Buffer } {
  const name = readCString(message.body, 0)
  const sql = readCString(message.body, name.next)
  return { name: name.value, sql: sql.value, rest: message.body.subarray(sql.next) }
}

export function parseMessage(name: string, sql: string, rest: Buffer): Buffer {
  return frame('P', Buffer.concat([cstring(name), cstring(sql), rest]))
}

export function cancelRequest(pid: number, secret: number): Buffer {
  const buffer = Buffer.alloc(16)
  buffer.writeInt32BE(16, 0)
  buffer.writeInt32BE(CANCEL_REQUEST, 4)
  buffer.writeInt32BE(pid, 8)
  buffer.writeInt32BE(secret, 12)
  return buffer
}

/** Drops the `CONTEXT: PL/pgSQL function mz_emulator.…` field, which Materialize never sends. */
export function withoutEmulatorContext(message: Message): Message {
  const fields: Buffer[] = []
  let offset = 0
  let changed = false
  while (offset < message.body.length && message.body[offset] !== 0) {
    const end = message.body.indexOf(0, offset)
    const field = message.body.subarray(offset, end + 1)
    if (field[0] === 0x57 /* W */ && field.includes('mz_emulator.')) changed = true
    else fields.push(field)
    offset = end + 1
  }
  if (!changed) return message
  const raw = frame(message.type, Buffer.concat([...fields, Buffer.from([0])]))
  return { type: message.type, raw, body: raw.subarray(5) }
}

/** Replaces an ErrorResponse's message (field M) with `rewrite(sqlstate, message)`, if any. */
export function withMessageText(
  message: Message,
  rewrite: (sqlstate: string, text: string) => string | undefined
): Message {
  const fields: Buffer[] = []
  let sqlstate = ''
  let text: string | undefined
  for (let offset = 0; offset < message.body.length && message.body[offset] !== 0;) {
    const end = message.body.indexOf(0, offset)
    const field = message.body.subarray(offset, end + 1)
    const value = field.toString('utf8', 1, field.length - 1)
    if (field[0] === 0x43 /* C */) sqlstate = value
    if (field[0] === 0x4d /* M */) text = value
    fields.push(field)
    offset = end + 1
  }
  const replacement = text === undefined ? undefined : rewrite(sqlstate, text)
  if (replacement === undefined) return message
  const edited = fields.map((f) => (f[0] === 0x4d ? cstring(`M${replacement}`) : f))
  const raw = frame(message.type, Buffer.concat([...edited, Buffer.from([0])]))
  return { type: message.type, raw, body: raw.subarray(5) }
}

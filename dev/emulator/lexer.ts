// A small SQL tokenizer that knows just enough about PostgreSQL/Materialize lexical rules
// (quotes, E'' strings, dollar quotes, nested block comments) to split a Query message into
// statements and to let the rewriter match leading keywords without being fooled by a `;`
// inside a string or a `$$` body.

export type TokenKind =
  | 'space'
  | 'comment'
  | 'word'
  | 'quoted' // "identifier"
  | 'string' // '...', E'...', $tag$...$tag$
  | 'number'
  | 'param' // $1
  | 'punct'

export interface Token {
  kind: TokenKind
  text: string
  start: number
}

const WORD_START = /[A-Za-z_\u0080-\uffff]/
const WORD_PART = /[A-Za-z0-9_$\u0080-\uffff]/
const DOLLAR_TAG = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/

function endOfQuoted(sql: string, from: number, quote: string, backslashEscapes: boolean): number {
  let i = from + 1
  while (i < sql.length) {
    const ch = sql[i]
    if (backslashEscapes && ch === '\\') i += 2
    else if (ch === quote && sql[i + 1] === quote) i += 2
    else if (ch === quote) return i + 1
    else i++
  }
  return sql.length // unterminated: PostgreSQL reports the error
}

function endOfBlockComment(sql: string, from: number): number {
  let depth = 0
  let i = from
  while (i < sql.length) {
    if (sql.startsWith('/*', i)) {
      depth++
      i += 2
    } else if (sql.startsWith('*/', i)) {
      depth--
      i += 2
      if (depth === 0) return i
    } else i++
  }
  return sql.length
}

function endWhile(sql: string, from: number, pattern: RegExp): number {
  let i = from
  while (i < sql.length && pattern.test(sql[i]!)) i++
  return i
}

function scanToken(sql: string, i: number): { kind: TokenKind; end: number } {
  const ch = sql[i]!
  if (/\s/.test(ch)) return { kind: 'space', end: endWhile(sql, i, /\s/) }
  if (sql.startsWith('--', i)) {
    const newline = sql.indexOf('\n', i)
    return { kind: 'comment', end: newline < 0 ? sql.length : newline + 1 }
  }
  if (sql.startsWith('/*', i)) return { kind: 'comment', end: endOfBlockComment(sql, i) }
  if (ch === "'") return { kind: 'string', end: endOfQuoted(sql, i, "'", false) }
  if ((ch === 'E' || ch === 'e') && sql[i + 1] === "'") {
    return { kind: 'string', end: endOfQuoted(sql, i + 1, "'", true) }
  }
  if (ch === '"') return { kind: 'quoted', end: endOfQuoted(sql, i, '"', false) }
  if (ch === '$') {
    const tag = DOLLAR_TAG.exec(sql.slice(i, i + 64))
    if (tag) {
      const close = sql.indexOf(tag[0], i + tag[0].length)
      return { kind: 'string', end: close < 0 ? sql.length : close + tag[0].length }
    }
    if (/[0-9]/.test(sql[i + 1] ?? '')) return { kind: 'param', end: endWhile(sql, i + 1, /[0-9]/) }
  }
  if (WORD_START.test(ch)) return { kind: 'word', end: endWhile(sql, i, WORD_PART) }
  if (/[0-9]/.test(ch)) return { kind: 'number', end: endWhile(sql, i, /[0-9.eE]/) }
  return { kind: 'punct', end: i + 1 }
}

export function tokenize(sql: string): Token[] {
  const tokens: Token[] = []
  let i = 0
  while (i < sql.length) {
    const { kind, end } = scanToken(sql, i)
    tokens.push({ kind, text: sql.slice(i, end), start: i })
    i = end
  }
  return tokens
}

export function isSignificant(token: Token): boolean {
  return token.kind !== 'space' && token.kind !== 'comment'
}

/**
 * Splits a multi-statement string at top-level semicolons. Statements made only of
 * whitespace and comments are dropped (PostgreSQL sends no response for them).
 */
export function splitStatements(sql: string): string[] {
  const statements: string[] = []
  let current: Token[] = []
  const flush = (): void => {
    if (current.some(isSignificant)) statements.push(current.map((t) => t.text).join(''))
    current = []
  }
  for (const token of tokenize(sql)) {
    if (token.kind === 'punct' && token.text === ';') flush()
    else current.push(token)
  }
  flush()
  return statements
}

/** The identifier a token names: quoted identifiers keep case, bare words fold to lower case. */
export function identifierName(token: Token): string {
  if (token.kind === 'quoted') return token.text.slice(1, -1).replace(/""/g, '"')
  return token.text.toLowerCase()
}

/** The value of a '...' literal (E'' and dollar quotes included, escapes kept simple). */
export function stringValue(token: Token): string {
  const text = token.text
  if (text.startsWith('$')) {
    const tag = DOLLAR_TAG.exec(text)?.[0] ?? '$$'
    return text.slice(tag.length, text.length - tag.length)
  }
  if (/^[Ee]'/.test(text)) return text.slice(2, -1).replace(/\\(.)/g, '$1')
  return text.slice(1, -1).replace(/''/g, "'")
}

// A cursor over the significant tokens of one statement, for the rewriter's small
// recursive-descent rules. Parse failures raise Materialize-style "Expected …, found …".
import { identifierName, isSignificant, stringValue, tokenize, type Token } from './lexer.js'

/** An error the proxy reports to the client as a PostgreSQL ErrorResponse. */
export class MaterializeError extends Error {
  constructor(
    readonly sqlstate: string,
    message: string
  ) {
    super(message)
  }
}

export class Cursor {
  readonly tokens: Token[]
  pos = 0

  constructor(readonly sql: string) {
    this.tokens = tokenize(sql).filter(isSignificant)
  }

  peek(offset = 0): Token | undefined {
    return this.tokens[this.pos + offset]
  }

  done(): boolean {
    return this.pos >= this.tokens.length
  }

  /** True when the next tokens are exactly these keywords (case-insensitive). */
  atWords(...words: string[]): boolean {
    return words.every((word, i) => {
      const token = this.peek(i)
      return token?.kind === 'word' && token.text.toLowerCase() === word.toLowerCase()
    })
  }

  acceptWords(...words: string[]): boolean {
    if (!this.atWords(...words)) return false
    this.pos += words.length
    return true
  }

  expectWords(...words: string[]): void {
    if (!this.acceptWords(...words)) this.fail(words.join(' ').toUpperCase())
  }

  atPunct(text: string): boolean {
    const token = this.peek()
    return token?.kind === 'punct' && token.text === text
  }

  acceptPunct(text: string): boolean {
    if (!this.atPunct(text)) return false
    this.pos++
    return true
  }

  expectPunct(text: string): void {
    if (!this.acceptPunct(text)) this.fail(`'${text}'`)
  }

  identifier(): string {
    const token = this.peek()
    if (token?.kind !== 'word' && token?.kind !== 'quoted') this.fail('identifier')
    this.pos++
    return identifierName(token)
  }

  /** `a`, `a.b` or `a.b.c`; returns the parts and the original text. */
  qualifiedName(): { parts: string[]; text: string } {
    const first = this.peek()
    const parts = [this.identifier()]
    while (this.acceptPunct('.')) parts.push(this.identifier())
    const last = this.tokens[this.pos - 1]!
    return { parts, text: this.sql.slice(first!.start, last.start + last.text.length) }
  }

  identifierList(): string[] {
    const names = [this.identifier()]
    while (this.acceptPunct(',')) names.push(this.identifier())
    return names
  }

  string(): string {
    const token = this.peek()
    if (token?.kind !== 'string') this.fail('literal string')
    this.pos++
    return stringValue(token)
  }

  /** Consumes `( … )` and returns the original text between the parentheses. */
  parenthesized(): string {
    const open = this.peek()
    this.expectPunct('(')
    let depth = 1
    while (!this.done()) {
      const token = this.tokens[this.pos++]!
      if (token.kind !== 'punct') continue
      if (token.text === '(') depth++
      if (token.text === ')' && --depth === 0) return this.sql.slice(open!.start + 1, token.start)
    }
    return this.fail("')'")
  }

  /** The original text from the current token to the end of the statement. */
  rest(): string {
    const token = this.peek()
    return token ? this.sql.slice(token.start) : ''
  }

  expectEnd(): void {
    if (!this.done()) this.fail('end of statement')
  }

  fail(expected: string): never {
    const found = this.peek()
    const what = found ? found.text : 'end of input'
    throw new MaterializeError('42601', `Expected ${expected}, found ${what}`)
  }
}

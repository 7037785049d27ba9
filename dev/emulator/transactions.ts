// Materialize's rules for what a transaction may hold, per client session. Upstream
// (MaterializeInc/materialize): src/adapter/src/coord/command_handler.rs at 002efd7069 sorts
// the statements of a transaction block, TransactionStatus::add_ops in src/adapter/src/session.rs
// refuses mixing them, and src/adapter/src/error.rs at 0129eb73e6 has the messages and SQLSTATEs.
// A multi-statement simple Query is an implicit transaction block; BEGIN makes it explicit.
// Reads in a block also get one snapshot and one time domain (timedomain.ts).
import { MaterializeError } from './cursor.js'
import { isSignificant, tokenize } from './lexer.js'
import { relationNames, REPEATABLE_READ, timeDomainCall } from './timedomain.js'

/**
 * How a statement counts in a transaction: `ddl` is the renames and swaps Materialize runs as
 * one catalog transaction (deploy_promote's `ALTER SCHEMA/CLUSTER … SWAP`); `single` is any
 * other DDL or non-constant write, which may only run alone in a BEGIN … COMMIT block.
 */
type Kind = 'begin' | 'end' | 'safe' | 'constant-read' | 'read' | 'write' | 'ddl' | 'single'

/** What the transaction has done so far, as upstream's TransactionOps. */
type Ops = 'none' | 'constant-peeks' | 'peeks' | 'writes' | 'ddl' | 'single'

const SAFE = new Set(
  'close copy deallocate declare discard execute explain fetch prepare reset set show subscribe'.split(
    ' '
  )
)
const READ = new Set(['select', 'with', 'values', 'table'])

function words(sql: string): string[] {
  return tokenize(sql)
    .filter(isSignificant)
    .map((t) => (t.kind === 'word' ? t.text.toLowerCase() : t.text))
}

const follows = (list: string[], first: string, second: string): boolean =>
  list.some((w, i) => w === first && list[i + 1] === second)

function kindOf(sql: string): Kind {
  const w = words(sql)
  const first = w[0] ?? ''
  if (first === 'begin' || first === 'start') return 'begin'
  if (['commit', 'end', 'rollback', 'abort'].includes(first)) return 'end'
  if (SAFE.has(first)) return 'safe'
  if (READ.has(first)) return w.includes('from') ? 'read' : 'constant-read'
  if (
    first === 'insert' &&
    w.includes('values') &&
    !w.includes('select') &&
    !w.includes('returning')
  )
    return 'write'
  if (first === 'alter' && (follows(w, 'swap', 'with') || follows(w, 'rename', 'to'))) return 'ddl'
  return 'single'
}

const refuse = (sqlstate: string, message: string) => new MaterializeError(sqlstate, message)

/** What adding an operation to a transaction that did `ops` fails with. */
function conflict(ops: Ops): MaterializeError {
  if (ops === 'ddl')
    return refuse(
      '25000',
      'transactions which modify objects are restricted to just modifying objects'
    )
  if (ops === 'single')
    return refuse('25000', 'this transaction can only execute a single statement')
  if (ops === 'writes') return refuse('25000', 'transaction in write-only mode')
  return refuse('25006', 'transaction in read-only mode')
}

const NEXT: Record<'constant-read' | 'read' | 'write' | 'ddl' | 'single', Ops> = {
  'constant-read': 'constant-peeks',
  read: 'peeks',
  write: 'writes',
  ddl: 'ddl',
  single: 'single'
}

/**
 * The ops after one of `kind`, or undefined when Materialize refuses the mix: reads stay
 * reads, writes writes (constant reads may join both, and a constant read may turn into
 * writes), swaps and renames stay DDL, and other DDL runs alone.
 */
function add(ops: Ops, kind: keyof typeof NEXT): Ops | undefined {
  const next = NEXT[kind]
  if (ops === 'none') return next
  if (ops === 'single') return undefined
  if (ops === next) return ops
  if (ops === 'constant-peeks' && (next === 'peeks' || next === 'writes')) return next
  if ((ops === 'peeks' || ops === 'writes') && kind === 'constant-read') return ops
  return undefined
}

export interface Refusal {
  /** The statement of the message Materialize refuses; the ones before it run. */
  index: number
  error: MaterializeError
}

export interface Admission {
  /** Hidden statements to run right before each statement of the message, by index. */
  before: string[][]
  refusal?: Refusal
}

/** SET and RESET are the statements after which PostgreSQL still accepts SET TRANSACTION. */
const takesSnapshot = (sql: string): boolean => !['set', 'reset'].includes(words(sql)[0] ?? '')

export class TransactionGuard {
  private explicit = false
  private ops: Ops = 'none'
  /** Whether PostgreSQL's current transaction has taken its snapshot (a query ran in it). */
  private snapshot = false

  /** Checks a simple Query's statements against the session's transaction, in order. */
  admit(statements: string[]): Admission {
    const implicit = statements.length > 1
    const before: string[][] = statements.map(() => [])
    // Without an open block, this message starts a new PostgreSQL transaction.
    if (!this.explicit) this.snapshot = false
    for (const [index, sql] of statements.entries()) {
      const kind = kindOf(sql)
      if (kind === 'begin') this.explicit = true
      if (kind === 'end') [this.explicit, this.ops, this.snapshot] = [false, 'none', false]
      if (kind === 'begin' || kind === 'end') continue
      if (!this.explicit && !implicit) continue
      if (kind === 'safe') {
        this.snapshot ||= takesSnapshot(sql)
        continue
      }
      if (kind === 'single' && !this.explicit) {
        const error = refuse('25001', `${sql.trim()} cannot be run inside a transaction block`)
        return { before, refusal: { index, error } }
      }
      const next = add(this.ops, kind)
      if (next === undefined) return { before, refusal: { index, error: conflict(this.ops) } }
      this.ops = next
      before[index] = this.readHelpers(sql, kind)
      this.snapshot = true
    }
    return { before }
  }

  /**
   * Materialize serves every read of a block at the timestamp its first read chose: the first
   * query of the PostgreSQL transaction gets REPEATABLE READ when it reads (a constant read can
   * only be followed by reads or constant INSERTs, which that level leaves alone; writes and
   * DDL keep READ COMMITTED). Each read is checked against the block's time domain.
   */
  private readHelpers(sql: string, kind: Kind): string[] {
    if (kind !== 'read' && kind !== 'constant-read') return []
    const helpers = this.snapshot ? [] : [REPEATABLE_READ]
    const names = kind === 'read' ? relationNames(sql) : []
    return names.length ? [...helpers, timeDomainCall(names)] : helpers
  }

  /** ReadyForQuery's status: a transaction block stays open only on 'T' (or failed, 'E'). */
  settle(status: number): void {
    if (status === 0x49 /* I */) [this.explicit, this.ops] = [false, 'none']
  }
}

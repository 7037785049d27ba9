// Reads in a Materialize transaction block share one timestamp and one time domain
// (MaterializeInc/materialize doc/user/content/sql/begin.md at f7d4523ef5, "Read-only
// transactions"). The first read fixes the domain: every relation in the schemas it names.
// Later reads that name a relation outside it fail. The proxy finds the names in a read's FROM
// and JOIN clauses; PostgreSQL resolves them, search_path included, in mz_emulator.time_domain
// (TIME_DOMAIN_SQL below, installed with the catalog).
import { identifierName, isSignificant, tokenize, type Token } from './lexer.js'

/** What PostgreSQL runs before the first read of a block, so all its reads see one snapshot. */
export const REPEATABLE_READ = 'SET TRANSACTION ISOLATION LEVEL REPEATABLE READ'

/** Words that end a FROM list at their parenthesis level. */
const FROM_ENDS = new Set(
  'where group having order limit offset fetch window union intersect except for returning'.split(
    ' '
  )
)

const isWord = (t: Token | undefined, ...words: string[]): boolean =>
  t?.kind === 'word' && words.includes(t.text.toLowerCase())
const isPunct = (t: Token | undefined, text: string): boolean =>
  t?.kind === 'punct' && t.text === text
const isName = (t: Token | undefined): boolean => t?.kind === 'word' || t?.kind === 'quoted'

/** Names bound by WITH: `name [(columns)] AS [[NOT] MATERIALIZED] (`. */
function cteNames(tokens: Token[]): Set<string> {
  const names = new Set<string>()
  for (const [i, token] of tokens.entries()) {
    if (!isWord(token, 'as')) continue
    let next = i + 1
    while (isWord(tokens[next], 'not', 'materialized')) next++
    if (!isPunct(tokens[next], '(')) continue
    let name = i - 1
    if (isPunct(tokens[name], ')')) {
      while (name > 0 && !isPunct(tokens[name], '(')) name--
      name--
    }
    if (isName(tokens[name])) names.add(identifierName(tokens[name]!))
  }
  return names
}

interface TableRef {
  /** The name as written (`a.t`, `"A".t`, `db.s.t`), or undefined for a function call. */
  name?: string
  parts: number
  /** The index of the first token after the name. */
  end: number
}

/** A FROM item at `start`: `[LATERAL | ONLY] name`, unless it is a subquery or function. */
function tableRef(tokens: Token[], start: number): TableRef {
  let i = start
  while (isWord(tokens[i], 'lateral', 'only')) i++
  if (!isName(tokens[i])) return { parts: 0, end: i }
  const parts = [tokens[i]!.text]
  while (isPunct(tokens[i + 1], '.') && isName(tokens[i + 2])) {
    parts.push(tokens[i + 2]!.text)
    i += 2
  }
  const end = i + 1
  if (isPunct(tokens[end], '(')) return { parts: 0, end } // a table function
  return { name: parts.join('.'), parts: parts.length, end }
}

/**
 * The relations a read names in its FROM and JOIN clauses, at any depth, as written. A FROM
 * counts only at a level a SELECT opened (not `extract(epoch FROM x)`) and not after IS
 * [NOT] DISTINCT; names bound by WITH are left out. Names of no relation (a column, say) are
 * ignored by PostgreSQL's resolution later.
 */
export function relationNames(sql: string): string[] {
  const tokens = tokenize(sql).filter(isSignificant)
  const ctes = cteNames(tokens)
  const names = new Set<string>()
  const levels = [{ select: false, from: false }]
  const take = (start: number): number => {
    const ref = tableRef(tokens, start)
    const isCte = ref.parts === 1 && ctes.has(identifierName(tokens[ref.end - 1]!))
    if (ref.name && !isCte) names.add(ref.name)
    return ref.end - 1
  }
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!
    const level = levels[levels.length - 1]!
    if (isPunct(token, '(')) levels.push({ select: false, from: false })
    else if (isPunct(token, ')') && levels.length > 1) levels.pop()
    else if (isWord(token, 'select')) [level.select, level.from] = [true, false]
    else if (isWord(token, ...FROM_ENDS)) level.from = false
    else if (isWord(token, 'join') || (isPunct(token, ',') && level.from)) i = take(i + 1)
    else if (isWord(token, 'from') && level.select && !isWord(tokens[i - 1], 'distinct')) {
      level.from = true
      i = take(i + 1)
    }
  }
  return [...names]
}

const literal = (value: string): string => `'${value.replace(/'/g, "''")}'`

/** The hidden helper that opens the block's time domain, or checks a read against it. */
export function timeDomainCall(names: string[]): string {
  return `SELECT mz_emulator.time_domain(ARRAY[${names.map(literal).join(', ')}]::text[])`
}

const TIME_DOMAIN_MESSAGE =
  'Transactions can only reference objects in the same timedomain. See https://materialize.com/docs/sql/begin/#same-timedomain-error'

/**
 * The SQL side, after upstream's timedomain_for (src/adapter/src/coord/timeline.rs at
 * 0051ec99bc), the check in sequence_peek_timestamp (src/adapter/src/coord/sequencer/inner/
 * peek.rs at 00705bcf68) and RelationOutsideTimeDomain (src/adapter/src/error.rs at
 * 0129eb73e6: SQLSTATE 25000, its message and DETAIL). The domain is kept as relation oids in
 * a transaction-local setting, so COMMIT and ROLLBACK end it.
 */
export const TIME_DOMAIN_SQL = `
-- Materialize's system schemas, as emulated (mz_emulator holds the emulated catalog's state).
CREATE FUNCTION mz_emulator.system_schemas() RETURNS oid[]
LANGUAGE sql STABLE AS $$
  SELECT array_agg(oid) FROM pg_namespace
  WHERE nspname IN ('mz_catalog', 'mz_internal', 'pg_catalog', 'information_schema', 'mz_emulator')
$$;

-- The schemas of the relations a first read names, all system schemas if one is among them,
-- and pg_catalog always; the domain is every relation in them now (later ones are outside).
CREATE FUNCTION mz_emulator.time_domain_of(used oid[]) RETURNS oid[]
LANGUAGE sql STABLE AS $$
  WITH named AS (SELECT DISTINCT relnamespace AS nsp FROM pg_class WHERE oid = ANY (used)),
  schemas AS (
    SELECT nsp FROM named
    UNION SELECT unnest(mz_emulator.system_schemas())
      WHERE EXISTS (SELECT FROM named WHERE nsp = ANY (mz_emulator.system_schemas()))
    UNION SELECT 'pg_catalog'::regnamespace::oid
  )
  SELECT array_agg(c.oid) FROM pg_class c JOIN schemas s ON c.relnamespace = s.nsp
  WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
$$;

-- Names from the catalog caches, which see relations the transaction's snapshot does not.
CREATE FUNCTION mz_emulator.quoted_names(relations oid[]) RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT string_agg(format('"%s"', name), E'\\n' ORDER BY name COLLATE "C")
  FROM (SELECT array_to_string(current_database()::text || a.object_names, '.') AS name
        FROM unnest(relations) r, pg_identify_object_as_address('pg_class'::regclass, r, 0) a) n
$$;

-- Upstream's DETAIL lists every collection in the domain; this lists its user relations (or,
-- with none, all of it), which is what a reader needs.
CREATE FUNCTION mz_emulator.time_domain_detail(outside oid[], domain oid[]) RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT E'The following relations in the query are outside the transaction''s time domain:\\n'
    || mz_emulator.quoted_names(outside) || E'\\nOnly the following relations are available:\\n'
    || coalesce(mz_emulator.quoted_names(ARRAY(
         SELECT oid FROM pg_class
         WHERE oid = ANY (domain) AND relnamespace <> ALL (mz_emulator.system_schemas()))),
       mz_emulator.quoted_names(domain))
$$;

-- A name as the read will resolve it: under its lock, whose taking makes PostgreSQL see the
-- relations other sessions created or renamed since this transaction last took one
-- (to_regclass alone takes none). NULL for a name the read cannot read (a column, a CTE): its
-- own error, if any, is PostgreSQL's. The names come from the proxy's lexer: identifiers.
CREATE FUNCTION mz_emulator.resolve_relation(name text) RETURNS oid
LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('SELECT FROM %s WHERE false', name);
  RETURN to_regclass(name)::oid;
EXCEPTION WHEN OTHERS THEN
  RETURN NULL;
END $$;

-- Called before each read of a transaction block with the names it reads: the first read
-- that names a relation opens the domain, later ones must stay in it. A read naming no
-- relation has no timestamp in Materialize and fits any domain.
CREATE FUNCTION mz_emulator.time_domain(relations text[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  used oid[] := ARRAY(SELECT DISTINCT o FROM unnest(relations) r,
                      mz_emulator.resolve_relation(r) o WHERE o IS NOT NULL);
  domain oid[] := nullif(current_setting('mz_emulator.time_domain', true), '')::oid[];
  outside oid[];
BEGIN
  IF cardinality(used) = 0 THEN
    RETURN;
  ELSIF domain IS NULL THEN
    PERFORM set_config('mz_emulator.time_domain', mz_emulator.time_domain_of(used)::text, true);
    RETURN;
  END IF;
  outside := ARRAY(SELECT u FROM unnest(used) u WHERE u <> ALL (domain));
  IF cardinality(outside) > 0 THEN
    RAISE EXCEPTION USING ERRCODE = '25000', MESSAGE = '${TIME_DOMAIN_MESSAGE}',
      DETAIL = mz_emulator.time_domain_detail(outside, domain);
  END IF;
END $$;
`

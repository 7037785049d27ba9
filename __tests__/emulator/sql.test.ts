// The statement splitter and rewriter on their own (no servers).
import { describe, expect, it } from '@jest/globals'
import { splitStatements } from '../../dev/emulator/lexer.js'
import { rewriteQuery, rewriteStatement } from '../../dev/emulator/rewriter.js'
import { rewriteStartupOptions } from '../../dev/emulator/startup.js'

describe('splitStatements', () => {
  it('splits only at top-level semicolons', () => {
    const sql = `select 'a;b'; select $$c;d$$; select $tag$ $$;$$ $tag$; select "x;y" from t /* ; */; -- ;\n`
    expect(splitStatements(sql).map((s) => s.trim())).toEqual([
      "select 'a;b'",
      'select $$c;d$$',
      'select $tag$ $$;$$ $tag$',
      'select "x;y" from t /* ; */'
    ])
  })

  it('handles E-strings, nested comments and comment-only tails', () => {
    const sql = "select E'it\\'s;'; /* a /* b; */ c; */ select 1; /* tail; */"
    expect(splitStatements(sql)).toHaveLength(2)
  })
})

describe('rewriteStatement', () => {
  const sqlOf = (statement: string): string[] => rewriteStatement(statement).map((s) => s.sql)

  it('skips the dbt query comment before matching keywords', () => {
    const [statement] = rewriteStatement('/* {"app": "dbt"} */\nset cluster = analytics')
    expect(statement?.sql).toBe(`SET mz_emulator.cluster TO 'analytics'`)
  })

  it('turns cluster DDL into catalog calls answered with Materialize tags', () => {
    const created = rewriteStatement(
      `CREATE CLUSTER "c_dbt_deploy" ( SIZE = '25cc' , REPLICATION FACTOR = 2 )`
    )
    expect(created).toEqual([
      {
        sql: `SELECT mz_emulator.create_cluster('c_dbt_deploy', true, '25cc', 2, NULL, NULL)`,
        hidden: true,
        tag: 'CREATE CLUSTER'
      }
    ])
    expect(sqlOf('ALTER CLUSTER "a" SWAP WITH "b"')).toEqual([
      `SELECT mz_emulator.swap_clusters('a', 'b')`
    ])
    expect(sqlOf(`CREATE CLUSTER u REPLICAS (r1 (SIZE '25cc', AVAILABILITY ZONE 'z1'))`)).toEqual([
      `SELECT mz_emulator.create_cluster('u', false, NULL, NULL, NULL, NULL)`,
      `SELECT mz_emulator.add_replica('u', 'r1', '25cc', 'z1')`
    ])
  })

  it('strips IN CLUSTER and WITH options from materialized views and binds the cluster', () => {
    const [create, bind] = rewriteStatement(
      `create materialized view "db"."s"."mv" in cluster c with (retain history for '1hr') as ( select 1 as x )`
    )
    expect(create).toMatchObject({
      sql: 'CREATE MATERIALIZED VIEW "db"."s"."mv" as ( select 1 as x )'
    })
    expect(bind).toMatchObject({ sql: `SELECT mz_emulator.bind_cluster('"db"."s"."mv"', 'c')` })
  })

  it('emulates indexes in the catalog', () => {
    expect(sqlOf('create default index in cluster c on "db"."s"."v"')).toEqual([
      `SELECT mz_emulator.create_index(NULL, '"db"."s"."v"', 'c', true, NULL, false)`
    ])
    expect(sqlOf('create index "i" on s.v (a, b)')).toEqual([
      `SELECT mz_emulator.create_index('i', 's.v', NULL, false, 'a, b', false)`
    ])
  })

  it('fixes current_user() and mz_aclexplode(x).* but leaves strings alone', () => {
    expect(sqlOf(`SELECT current_user(), 'current_user()'`)).toEqual([
      `SELECT current_user, 'current_user()'`
    ])
    expect(sqlOf('SELECT mz_internal.mz_aclexplode(s.privileges).* FROM s')).toEqual([
      'SELECT (mz_internal.mz_aclexplode(s.privileges)).* FROM s'
    ])
  })

  it('rejects Materialize-only statements it does not model', () => {
    for (const sql of [
      "CREATE SOURCE s FROM KAFKA CONNECTION k (TOPIC 't')",
      "CREATE SECRET s AS 'x'",
      'ALTER SINK k RENAME TO j',
      'SUBSCRIBE TO t',
      'SHOW CLUSTERS',
      'ALTER CLUSTER c OWNER TO r',
      'CREATE CLUSTER REPLICA c.r SIZE = 1'
    ]) {
      expect(() => rewriteStatement(sql)).toThrow(/not supported by the Materialize emulator/)
    }
  })

  it('rejects a whole message when one statement is rejected', () => {
    const rewritten = rewriteQuery('create table t (a int); create secret s as $$x$$')
    expect(rewritten.text).toMatch(/^SELECT mz_emulator\.raise_error\('0A000'/)
  })

  it('sends plain PostgreSQL untouched', () => {
    const text = `/* c */ select 1; select 'x;y';`
    expect(rewriteQuery(text)).toMatchObject({ text, changed: false })
  })
})

describe('rewriteStartupOptions', () => {
  it('drops Materialize session variables and keeps cluster and search_path', () => {
    const options =
      '--auto_route_catalog_queries=on --welcome_message=off --current_object_missing_warnings=off --cluster=c\\ 1 --search_path=a'
    expect(rewriteStartupOptions(options)).toBe(
      '-c mz_emulator.cluster=c\\ 1 -c search_path=a,mz_catalog'
    )
  })
})

// The statement splitter and rewriter on their own (no servers).
import { describe, expect, it } from '@jest/globals'
import { splitStatements } from '../../dev/emulator/lexer.js'
import { rewriteQuery, rewriteStatement } from '../../dev/emulator/rewriter.js'
import { rewriteStartupOptions } from '../../dev/emulator/startup.js'
import { materializePrivilegeMessage } from '../../dev/emulator/privileges.js'

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
      'ALTER CLUSTER c RENAME TO d',
      'CREATE CLUSTER REPLICA c.r SIZE = 1'
    ]) {
      expect(() => rewriteStatement(sql)).toThrow(/not supported by the Materialize emulator/)
    }
  })

  it('emulates system privileges, cluster ownership, and a database USAGE as CONNECT', () => {
    expect(sqlOf('GRANT CREATECLUSTER ON SYSTEM TO "deployer"')).toEqual([
      `SELECT mz_emulator.grant_system(ARRAY['CREATECLUSTER']::text[], ARRAY['deployer']::text[], true)`
    ])
    expect(sqlOf('revoke usage, create on database materialize from deployer, public')).toEqual([
      'REVOKE CONNECT, CREATE ON DATABASE "materialize" FROM "deployer", PUBLIC'
    ])
    expect(sqlOf('ALTER CLUSTER "c" OWNER TO "r"')).toEqual([
      `SELECT mz_emulator.alter_cluster_owner('c', 'r')`
    ])
    expect(sqlOf('ALTER CLUSTER c SET (REPLICATION FACTOR = 2)')).toEqual([
      `SELECT mz_emulator.require_cluster_owners(ARRAY['c']::text[])`,
      `SELECT mz_emulator.set_replicas('c', 2)`
    ])
    // Grants on schemas, role grants and default privileges FOR ROLE are PostgreSQL's own.
    for (const plain of [
      'GRANT USAGE ON SCHEMA "s" TO "r"',
      'GRANT "reader" TO "deployer"',
      'ALTER DEFAULT PRIVILEGES FOR ROLE "d" IN SCHEMA s GRANT SELECT ON tables TO "r"'
    ])
      expect(sqlOf(plain)).toEqual([plain])
    expect(
      sqlOf('ALTER DEFAULT PRIVILEGES FOR ALL ROLES IN SCHEMA s GRANT SELECT ON tables TO r')
    ).toEqual([
      `SELECT mz_emulator.require_superuser('ALTER DEFAULT PRIVILEGES FOR ALL ROLES')`,
      `SELECT mz_emulator.raise_error('0A000', 'ALTER DEFAULT PRIVILEGES FOR ALL ROLES is not supported by the Materialize emulator')`
    ])
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

describe('materializePrivilegeMessage', () => {
  it("words PostgreSQL's 42501 errors as Materialize does, schemas qualified by the database", () => {
    const cases: Array<[string, string | undefined]> = [
      [
        'permission denied for database materialize',
        'permission denied for DATABASE "materialize"'
      ],
      ['permission denied for schema prod', 'permission denied for SCHEMA "materialize.prod"'],
      ['must be owner of schema prod', 'must be owner of SCHEMA materialize.prod'],
      ['must be owner of materialized view mv', 'must be owner of MATERIALIZED VIEW mv'],
      ['permission denied to create role', undefined]
    ]
    for (const [postgres, materialize] of cases)
      expect(materializePrivilegeMessage(postgres, 'materialize')).toBe(materialize)
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

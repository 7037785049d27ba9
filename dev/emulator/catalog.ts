// The catalog bootstrap, run once per emulated database. Three schemas:
// - mz_emulator: side tables (clusters, replicas, item ids, scripted hydration and faults),
//   the functions the rewriter calls, and the control functions tests call;
// - mz_catalog / mz_internal: views with the names and columns dbt-materialize 1.9.10 and the
//   Materialize docs query, built over pg_catalog plus the side tables.
// Ids follow Materialize: user items/clusters/replicas `u<n>` from their own sequences,
// system schemas `s<oid>`, per-cluster introspection indexes `si<n>`, temp schema `0`.
import { TIME_DOMAIN_SQL } from './timedomain.js'
import { MZ_VERSION } from './version.js'

const SIDE_TABLES = `
CREATE SCHEMA mz_emulator;
CREATE SCHEMA mz_catalog;
CREATE SCHEMA mz_internal;

CREATE SEQUENCE mz_emulator.item_ids;
CREATE SEQUENCE mz_emulator.cluster_ids;
CREATE SEQUENCE mz_emulator.replica_ids;
CREATE SEQUENCE mz_emulator.introspection_ids;
-- Not transactional, so a rolled-back swap still uses up one scripted failure.
CREATE SEQUENCE mz_emulator.swap_attempts;

CREATE TABLE mz_emulator.settings (
  singleton bool PRIMARY KEY DEFAULT true CHECK (singleton),
  default_hydration_delay float8 NOT NULL DEFAULT 0,
  default_never_hydrates bool NOT NULL DEFAULT false,
  default_lag float8 NOT NULL DEFAULT 0,
  swap_fail_until bigint NOT NULL DEFAULT 0,
  -- Introspection as it really arrives (see the INTROSPECTION block).
  clock_offset interval NOT NULL DEFAULT '0',
  default_row_delay float8 NOT NULL DEFAULT 0,
  default_status_delay float8 NOT NULL DEFAULT 0,
  lag_mode text NOT NULL DEFAULT 'live' CHECK (lag_mode IN ('live', 'binned')),
  refresh_replicas text NOT NULL DEFAULT 'during-refresh'
    CHECK (refresh_replicas IN ('during-refresh', 'always'))
);
INSERT INTO mz_emulator.settings DEFAULT VALUES;

CREATE TABLE mz_emulator.clusters (
  id text PRIMARY KEY DEFAULT 'u' || nextval('mz_emulator.cluster_ids'),
  name text NOT NULL,
  managed bool NOT NULL,
  size text,
  replication_factor int,
  owner_oid oid NOT NULL DEFAULT current_user::text::regrole::oid,
  privileges aclitem[],
  schedule text NOT NULL DEFAULT 'manual',
  hydration_time_estimate interval,
  comment text,
  -- An ON REFRESH cluster has replicas only while refreshing.
  refreshing bool NOT NULL DEFAULT false,
  auto_scaling_strategy jsonb,
  -- Deferrable so one UPDATE can exchange two names.
  CONSTRAINT clusters_name_key UNIQUE (name) DEFERRABLE INITIALLY IMMEDIATE
);

CREATE TABLE mz_emulator.replicas (
  id text PRIMARY KEY DEFAULT 'u' || nextval('mz_emulator.replica_ids'),
  name text NOT NULL,
  cluster_id text NOT NULL REFERENCES mz_emulator.clusters ON DELETE CASCADE,
  size text,
  availability_zone text,
  UNIQUE (cluster_id, name)
);

CREATE TABLE mz_emulator.replica_status_history (
  replica_id text NOT NULL,
  process_id bigint NOT NULL DEFAULT 0,
  status text NOT NULL,
  reason text,
  occurred_at timestamptz NOT NULL DEFAULT now()
);

-- Every catalog item: PostgreSQL relations (oid set), emulated indexes (on_id set),
-- introspection indexes (kind 'introspection-index').
CREATE TABLE mz_emulator.items (
  id text PRIMARY KEY,
  oid oid UNIQUE,
  kind text NOT NULL,
  name text,
  on_id text REFERENCES mz_emulator.items ON DELETE CASCADE,
  cluster_id text REFERENCES mz_emulator.clusters ON DELETE CASCADE,
  is_default_index bool NOT NULL DEFAULT false,
  index_columns text,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  hydration_delay float8 NOT NULL DEFAULT 0,
  never_hydrates bool NOT NULL DEFAULT false,
  lag float8 NOT NULL DEFAULT 0,
  -- Seconds without any hydration row (the catalog lags), then with a NULL-replica row.
  row_delay float8 NOT NULL DEFAULT 0,
  status_delay float8 NOT NULL DEFAULT 0,
  -- A materialized view's REFRESH options (none: ON COMMIT), and the last refresh an ON
  -- REFRESH cluster completed for it.
  refresh_every interval,
  refresh_aligned_to timestamptz,
  refresh_at_creation bool NOT NULL DEFAULT false,
  refreshed_at timestamptz
);

-- Wallclock lag samples in 'binned' lag mode, recorded as the emulated clock crosses minutes.
CREATE TABLE mz_emulator.lag_samples (
  object_id text NOT NULL,
  lag interval,
  occurred_at timestamptz NOT NULL
);

CREATE TABLE mz_emulator.pending_swaps (txid bigint PRIMARY KEY);
`

const HELPERS = `
-- The emulated clock: the wall clock plus what tests advanced it by.
CREATE FUNCTION mz_emulator.now() RETURNS timestamptz
LANGUAGE sql STABLE AS $$ SELECT now() + clock_offset FROM mz_emulator.settings $$;

-- Emulated indexes have no PostgreSQL relation; upstream gives every item an oid.
CREATE FUNCTION mz_emulator.synthetic_oid(id text) RETURNS oid
LANGUAGE sql IMMUTABLE AS $$
  SELECT ((CASE WHEN id LIKE 'si%' THEN 2100000000 ELSE 2000000000 END) + substring(id FROM '[0-9]+')::bigint)::oid
$$;

CREATE FUNCTION mz_emulator.raise_error(code text, message text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION USING ERRCODE = code, MESSAGE = message;
END $$;

CREATE FUNCTION mz_emulator.schema_id(nsp oid) RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT CASE
    WHEN n.nspname LIKE 'pg_temp%' THEN '0'
    WHEN n.nspname IN ('mz_catalog', 'mz_internal', 'pg_catalog', 'information_schema', 'pg_toast')
      THEN 's' || n.oid
    ELSE 'u' || n.oid
  END
  FROM pg_namespace n WHERE n.oid = nsp
$$;

-- aclexplode rejects the zero-dimensional empty array; NULL explodes to no rows.
CREATE FUNCTION mz_emulator.nonempty_acl(acl aclitem[]) RETURNS aclitem[]
LANGUAGE sql IMMUTABLE AS $$ SELECT CASE WHEN cardinality(acl) > 0 THEN acl END $$;

CREATE FUNCTION mz_emulator.role_id(role oid) RETURNS text
LANGUAGE sql IMMUTABLE AS $$ SELECT CASE WHEN role = 0 THEN 'p' ELSE 'u' || role END $$;

-- Resolves a cluster name (NULL = the session's cluster) or raises Materialize's error.
CREATE FUNCTION mz_emulator.cluster_id(cluster_name text) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
  wanted text := coalesce(cluster_name, current_setting('mz_emulator.cluster', true), 'quickstart');
  result text;
BEGIN
  SELECT id INTO result FROM mz_emulator.clusters WHERE name = wanted;
  IF result IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '42704', MESSAGE = format('unknown cluster ''%s''', wanted);
  END IF;
  RETURN result;
END $$;

-- Relations created through plain PostgreSQL DDL get a Materialize item id.
CREATE FUNCTION mz_emulator.on_ddl_command_end() RETURNS event_trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO mz_emulator.items (id, oid, kind, hydration_delay, never_hydrates, lag)
  SELECT 'u' || nextval('mz_emulator.item_ids'), c.objid, 'relation',
         s.default_hydration_delay, s.default_never_hydrates, s.default_lag
  FROM pg_event_trigger_ddl_commands() c, mz_emulator.settings s
  WHERE c.classid = 'pg_class'::regclass
    AND c.object_type IN ('table', 'view', 'materialized view')
    AND c.command_tag IN ('CREATE TABLE', 'CREATE VIEW', 'CREATE MATERIALIZED VIEW',
                          'CREATE TABLE AS', 'SELECT INTO')
  -- Temporary relations vanish at disconnect without a drop event, so an oid can recur.
  ON CONFLICT (oid) DO UPDATE SET id = excluded.id, created_at = clock_timestamp(), cluster_id = NULL;
END $$;

CREATE FUNCTION mz_emulator.on_sql_drop() RETURNS event_trigger
LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM mz_emulator.items i
  USING pg_event_trigger_dropped_objects() d
  WHERE d.classid = 'pg_class'::regclass AND i.oid = d.objid;
END $$;
`

// ---------------------------------------------------------------------------------------
// Roles and privileges (RBAC). Functions run as the caller (SECURITY INVOKER), so
// `current_user` is the session's role, as in Materialize's checks (src/sql/src/rbac.rs). A
// superuser passes every check. Error texts and SQLSTATE 42501 follow upstream's
// UnauthorizedError: "must be owner of SCHEMA db.s, …" and `permission denied for CLUSTER "c"`.
const ROLE_HELPERS = `
-- Materialize's system privileges (GRANT CREATECLUSTER ON SYSTEM TO r); PostgreSQL has none.
CREATE TABLE mz_emulator.system_privileges (
  grantee oid NOT NULL,
  privilege text NOT NULL,
  grantor oid NOT NULL,
  PRIMARY KEY (grantee, privilege)
);

CREATE FUNCTION mz_emulator.is_superuser() RETURNS bool
LANGUAGE sql STABLE AS $$ SELECT coalesce((SELECT rolsuper FROM pg_roles WHERE rolname = current_user), false) $$;

-- Whether \`role\` has the privileges of \`holder\` (itself, an inheriting member, or PUBLIC = 0).
CREATE FUNCTION mz_emulator.has_role(role oid, holder oid) RETURNS bool
LANGUAGE sql STABLE AS $$ SELECT holder = 0 OR pg_has_role(role, holder, 'USAGE') $$;

CREATE FUNCTION mz_emulator.current_role_oid() RETURNS oid
LANGUAGE sql STABLE AS $$ SELECT oid FROM pg_roles WHERE rolname = current_user $$;

-- Raises Materialize's ownership error naming every object (in order) the caller does not own.
CREATE FUNCTION mz_emulator.require_owners(owners oid[], descriptions text[]) RETURNS void
LANGUAGE plpgsql STABLE AS $$
DECLARE
  unheld text := (SELECT string_agg(d, ', ' ORDER BY n)
                  FROM unnest(owners, descriptions) WITH ORDINALITY AS u(o, d, n)
                  WHERE NOT mz_emulator.has_role(mz_emulator.current_role_oid(), o));
BEGIN
  IF unheld IS NOT NULL AND NOT mz_emulator.is_superuser() THEN
    RAISE EXCEPTION USING ERRCODE = '42501', MESSAGE = 'must be owner of ' || unheld;
  END IF;
END $$;

CREATE FUNCTION mz_emulator.require_superuser(action text) RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
  IF NOT mz_emulator.is_superuser() THEN
    RAISE EXCEPTION USING ERRCODE = '42501', MESSAGE = 'permission denied to ' || action,
      DETAIL = 'You must be a superuser to ' || action;
  END IF;
END $$;

CREATE FUNCTION mz_emulator.acl_grants(acl aclitem[], role oid, privilege text) RETURNS bool
LANGUAGE sql STABLE AS $$
  SELECT EXISTS (SELECT FROM aclexplode(mz_emulator.nonempty_acl(acl)) e
                 WHERE e.privilege_type = privilege AND mz_emulator.has_role(role, e.grantee))
$$;

CREATE FUNCTION mz_emulator.require_privilege(acl aclitem[], privilege text, description text) RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
  IF NOT mz_emulator.is_superuser()
     AND NOT mz_emulator.acl_grants(acl, mz_emulator.current_role_oid(), privilege) THEN
    RAISE EXCEPTION USING ERRCODE = '42501', MESSAGE = 'permission denied for ' || description;
  END IF;
END $$;

CREATE FUNCTION mz_emulator.require_cluster_owners(cluster_names text[]) RETURNS void
LANGUAGE sql STABLE AS $$
  SELECT mz_emulator.require_owners(array_agg(c.owner_oid ORDER BY u.n), array_agg('CLUSTER ' || c.name ORDER BY u.n))
  FROM unnest(cluster_names) WITH ORDINALITY AS u(wanted, n) JOIN mz_emulator.clusters c ON c.name = u.wanted
$$;

CREATE FUNCTION mz_emulator.require_cluster_privilege(cid text, privilege text) RETURNS void
LANGUAGE sql STABLE AS $$
  SELECT mz_emulator.require_privilege(c.privileges, privilege, format('CLUSTER "%s"', c.name))
  FROM mz_emulator.clusters c WHERE c.id = cid
$$;

CREATE FUNCTION mz_emulator.require_schema_owners(schema_names text[]) RETURNS void
LANGUAGE sql STABLE AS $$
  SELECT mz_emulator.require_owners(array_agg(n.nspowner ORDER BY u.i),
                                    array_agg(format('SCHEMA %s.%s', current_database(), n.nspname) ORDER BY u.i))
  FROM unnest(schema_names) WITH ORDINALITY AS u(wanted, i) JOIN pg_namespace n ON n.nspname = u.wanted
$$;

-- A Materialize database's USAGE is PostgreSQL's CONNECT.
CREATE FUNCTION mz_emulator.require_database_privilege(privilege text) RETURNS void
LANGUAGE sql STABLE AS $$
  SELECT mz_emulator.require_privilege(coalesce(d.datacl, acldefault('d', d.datdba)),
                                       CASE privilege WHEN 'USAGE' THEN 'CONNECT' ELSE privilege END,
                                       format('DATABASE "%s"', d.datname))
  FROM pg_database d WHERE d.datname = current_database()
$$;

CREATE FUNCTION mz_emulator.role_has_system_privilege(role oid, privilege text) RETURNS bool
LANGUAGE sql STABLE AS $$
  SELECT coalesce((SELECT rolsuper FROM pg_roles WHERE oid = role), false)
      OR EXISTS (SELECT FROM mz_emulator.system_privileges p
                 WHERE p.privilege = upper(privilege) AND mz_emulator.has_role(role, p.grantee))
$$;

CREATE FUNCTION mz_emulator.require_system_privilege(privilege text) RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
  IF NOT mz_emulator.role_has_system_privilege(mz_emulator.current_role_oid(), privilege) THEN
    RAISE EXCEPTION USING ERRCODE = '42501', MESSAGE = 'permission denied for SYSTEM';
  END IF;
END $$;

-- "MATERIALIZED VIEW db.schema.name", as upstream names an item in its errors.
CREATE FUNCTION mz_emulator.relation_description(rel oid) RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT CASE c.relkind WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'v' THEN 'VIEW' ELSE 'TABLE' END
         || format(' %s.%s.%s', current_database(), n.nspname, c.relname)
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = rel
$$;

-- DROP CLUSTER … CASCADE needs ownership of the cluster only, not of what it drops (upstream
-- "Do not need ownership of descendant objects"), so the cascade runs as the emulator.
CREATE FUNCTION mz_emulator.drop_dependent_item(item regclass, item_kind text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
BEGIN
  EXECUTE format('DROP %s %s CASCADE', item_kind, item);
END $$;

-- mz_aclitem text form: grantee=privileges/grantor with role ids (grantee empty for PUBLIC),
-- privilege letters in upstream's order (arwdUC; a database's CONNECT is its USAGE).
CREATE FUNCTION mz_emulator.privilege_letter(privilege text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE privilege WHEN 'INSERT' THEN 'a' WHEN 'SELECT' THEN 'r' WHEN 'UPDATE' THEN 'w'
                        WHEN 'DELETE' THEN 'd' WHEN 'USAGE' THEN 'U' WHEN 'CONNECT' THEN 'U'
                        WHEN 'CREATE' THEN 'C' END
$$;

CREATE FUNCTION mz_emulator.mz_acl(acl aclitem[]) RETURNS text[]
LANGUAGE sql STABLE AS $$
  SELECT coalesce(array_agg(item ORDER BY grantee, grantor), '{}') FROM (
    SELECT grantee, grantor,
           CASE WHEN grantee = 0 THEN '' ELSE mz_emulator.role_id(grantee) END || '=' ||
           string_agg(letter, '' ORDER BY position(letter IN 'arwdUC')) || '/' ||
           mz_emulator.role_id(grantor) AS item
    FROM (SELECT DISTINCT e.grantee, e.grantor, mz_emulator.privilege_letter(e.privilege_type) AS letter
          FROM aclexplode(mz_emulator.nonempty_acl(acl)) e) privileges
    WHERE letter IS NOT NULL
    GROUP BY grantee, grantor
  ) items
$$;
`

const CLUSTER_FUNCTIONS = `
CREATE FUNCTION mz_emulator.add_introspection_index(cid text) RETURNS void
LANGUAGE sql AS $$
  INSERT INTO mz_emulator.items (id, kind, name, cluster_id)
  VALUES ('si' || nextval('mz_emulator.introspection_ids'), 'introspection-index',
          'mz_arrangement_sizes_' || cid || '_primary_idx', cid)
$$;

CREATE FUNCTION mz_emulator.add_replica(cluster_name text, replica_name text, size text, zone text)
RETURNS void LANGUAGE sql AS $$
  INSERT INTO mz_emulator.replicas (name, cluster_id, size, availability_zone)
  VALUES (replica_name, mz_emulator.cluster_id(cluster_name), size, zone)
$$;

-- Materialize turns an ON REFRESH cluster's replicas on only for a refresh.
CREATE FUNCTION mz_emulator.has_replicas(c mz_emulator.clusters) RETURNS bool
LANGUAGE sql STABLE AS $$
  SELECT c.schedule <> 'on-refresh' OR c.refreshing OR s.refresh_replicas = 'always'
  FROM mz_emulator.settings s
$$;

CREATE FUNCTION mz_emulator.set_replicas(cluster_name text, factor int) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  cid text := mz_emulator.cluster_id(cluster_name);
BEGIN
  DELETE FROM mz_emulator.replicas WHERE cluster_id = cid;
  INSERT INTO mz_emulator.replicas (name, cluster_id, size)
  SELECT 'r' || n, cid, c.size FROM mz_emulator.clusters c, generate_series(1, factor) n
  WHERE c.id = cid AND mz_emulator.has_replicas(c);
  UPDATE mz_emulator.clusters SET replication_factor = factor WHERE id = cid AND managed;
END $$;

CREATE FUNCTION mz_emulator.create_cluster(
  cluster_name text, is_managed bool, cluster_size text, factor int, schedule_type text, estimate text,
  strategy jsonb DEFAULT NULL
) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  owner oid := (SELECT oid FROM pg_roles WHERE rolname = current_user);
  cid text;
BEGIN
  PERFORM mz_emulator.require_system_privilege('CREATECLUSTER');
  IF EXISTS (SELECT FROM mz_emulator.clusters WHERE name = cluster_name) THEN
    RAISE EXCEPTION USING ERRCODE = '42710', MESSAGE = format('cluster ''%s'' already exists', cluster_name);
  END IF;
  INSERT INTO mz_emulator.clusters (name, managed, size, replication_factor, owner_oid, privileges,
                                    schedule, hydration_time_estimate, auto_scaling_strategy)
  VALUES (cluster_name, is_managed, cluster_size, CASE WHEN is_managed THEN coalesce(factor, 1) END,
          owner, ARRAY[makeaclitem(owner, owner, 'USAGE', false), makeaclitem(owner, owner, 'CREATE', false)],
          coalesce(schedule_type, 'manual'), estimate::interval, strategy)
  RETURNING id INTO cid;
  PERFORM mz_emulator.add_introspection_index(cid);
  IF is_managed THEN
    PERFORM mz_emulator.set_replicas(cluster_name, coalesce(factor, 1));
  END IF;
END $$;

CREATE FUNCTION mz_emulator.drop_cluster(cluster_name text, p_if_exists bool, p_cascade bool)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  cid text := (SELECT id FROM mz_emulator.clusters WHERE name = cluster_name);
  dependent text;
  item regclass;
  item_kind text;
BEGIN
  IF cid IS NULL THEN
    IF p_if_exists THEN
      RAISE NOTICE 'cluster "%" does not exist, skipping', cluster_name;
      RETURN;
    END IF;
    PERFORM mz_emulator.cluster_id(cluster_name);
  END IF;
  PERFORM mz_emulator.require_cluster_owners(ARRAY[cluster_name]);
  SELECT coalesce(c.relname::text, i.name) INTO dependent
  FROM mz_emulator.items i LEFT JOIN pg_class c ON c.oid = i.oid
  WHERE i.cluster_id = cid AND i.kind <> 'introspection-index' AND (i.oid IS NULL OR c.oid IS NOT NULL)
  LIMIT 1;
  IF dependent IS NOT NULL AND NOT p_cascade THEN
    RAISE EXCEPTION USING ERRCODE = '2BP01',
      MESSAGE = format('cannot drop cluster "%s": still depended upon by catalog item ''%s''', cluster_name, dependent);
  END IF;
  -- Everything on the cluster goes, with whatever depends on it in any schema (as in
  -- Materialize): materialized views, sources and sinks one at a time, since one drop can
  -- cascade to another; indexes of any schema go with the cluster row.
  LOOP
    SELECT c.oid::regclass, CASE c.relkind WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END
    INTO item, item_kind
    FROM mz_emulator.items i JOIN pg_class c ON c.oid = i.oid
    WHERE i.cluster_id = cid LIMIT 1;
    EXIT WHEN item IS NULL;
    PERFORM mz_emulator.drop_dependent_item(item, item_kind);
  END LOOP;
  DELETE FROM mz_emulator.clusters WHERE id = cid;
END $$;

CREATE FUNCTION mz_emulator.record_swap() RETURNS void
LANGUAGE sql AS $$
  INSERT INTO mz_emulator.pending_swaps VALUES (txid_current()) ON CONFLICT DO NOTHING
$$;

-- Materialize aborts a DDL transaction at COMMIT when the catalog changed underneath it
-- (SQLSTATE 40001); a deferred trigger fails the commit the same way when scripted.
CREATE FUNCTION mz_emulator.check_swap_fault() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF nextval('mz_emulator.swap_attempts') <= (SELECT swap_fail_until FROM mz_emulator.settings) THEN
    RAISE EXCEPTION USING ERRCODE = '40001',
      MESSAGE = 'object state changed while transaction was in progress';
  END IF;
  DELETE FROM mz_emulator.pending_swaps WHERE txid = NEW.txid;
  RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER swap_fault AFTER INSERT ON mz_emulator.pending_swaps
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION mz_emulator.check_swap_fault();

CREATE FUNCTION mz_emulator.swap_clusters(a text, b text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM mz_emulator.cluster_id(a), mz_emulator.cluster_id(b);
  PERFORM mz_emulator.require_cluster_owners(ARRAY[a, b]);
  UPDATE mz_emulator.clusters SET name = CASE WHEN name = a THEN b ELSE a END WHERE name IN (a, b);
  PERFORM mz_emulator.record_swap();
END $$;

CREATE FUNCTION mz_emulator.swap_schemas(a text, b text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  tmp text := 'mz_swap_' || substr(md5(random()::text), 1, 10);
  missing text := (SELECT s FROM unnest(ARRAY[a, b]) s
                   WHERE NOT EXISTS (SELECT FROM pg_namespace WHERE nspname = s) LIMIT 1);
BEGIN
  IF missing IS NOT NULL THEN
    RAISE EXCEPTION USING ERRCODE = '3F000', MESSAGE = format('unknown schema ''%s''', missing);
  END IF;
  PERFORM mz_emulator.require_schema_owners(ARRAY[a, b]);
  PERFORM mz_emulator.require_database_privilege('CREATE');
  EXECUTE format('ALTER SCHEMA %I RENAME TO %I', a, tmp);
  EXECUTE format('ALTER SCHEMA %I RENAME TO %I', b, a);
  EXECUTE format('ALTER SCHEMA %I RENAME TO %I', tmp, b);
  PERFORM mz_emulator.record_swap();
END $$;

CREATE FUNCTION mz_emulator.comment_on_cluster(cluster_name text, body text) RETURNS void
LANGUAGE sql AS $$
  UPDATE mz_emulator.clusters SET comment = body WHERE id = mz_emulator.cluster_id(cluster_name)
$$;

CREATE FUNCTION mz_emulator.role_oid(role_name text) RETURNS oid
LANGUAGE plpgsql STABLE AS $$
DECLARE
  result oid := (SELECT oid FROM pg_roles WHERE rolname = role_name);
BEGIN
  IF upper(role_name) = 'PUBLIC' THEN RETURN 0; END IF;
  IF result IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '42704', MESSAGE = format('unknown role ''%s''', role_name);
  END IF;
  RETURN result;
END $$;

CREATE FUNCTION mz_emulator.grant_on_cluster(cluster_name text, p_privileges text[], p_roles text[], is_grant bool)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  cid text := mz_emulator.cluster_id(cluster_name);
  wanted text[] := (SELECT array_agg(DISTINCT p) FROM unnest(p_privileges) x,
                    unnest(CASE WHEN x = 'ALL' THEN ARRAY['USAGE', 'CREATE'] ELSE ARRAY[x] END) p);
  grantees oid[] := (SELECT array_agg(mz_emulator.role_oid(r)) FROM unnest(p_roles) r);
BEGIN
  PERFORM mz_emulator.require_cluster_owners(ARRAY[cluster_name]);
  UPDATE mz_emulator.clusters c SET privileges = (
    SELECT coalesce(array_agg(makeaclitem(e.grantee, e.grantor, e.privilege_type, false)), '{}')
    FROM (
      SELECT grantee, grantor, privilege_type FROM aclexplode(mz_emulator.nonempty_acl(c.privileges))
      WHERE is_grant OR NOT (grantee = ANY (grantees) AND privilege_type = ANY (wanted))
      UNION
      SELECT g, c.owner_oid, p FROM unnest(grantees) g, unnest(wanted) p WHERE is_grant
    ) e
  ) WHERE c.id = cid;
END $$;
`

const ITEM_FUNCTIONS = `
CREATE FUNCTION mz_emulator.item_of(relation text) RETURNS mz_emulator.items
LANGUAGE plpgsql STABLE AS $$
DECLARE
  result mz_emulator.items;
BEGIN
  SELECT * INTO result FROM mz_emulator.items WHERE oid = relation::regclass;
  IF result.id IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '42704', MESSAGE = format('unknown catalog item ''%s''', relation);
  END IF;
  RETURN result;
END $$;

CREATE FUNCTION mz_emulator.bind_cluster(relation text, cluster_name text) RETURNS void
LANGUAGE sql AS $$
  SELECT mz_emulator.require_cluster_privilege(mz_emulator.cluster_id(cluster_name), 'CREATE');
  UPDATE mz_emulator.items SET cluster_id = mz_emulator.cluster_id(cluster_name)
  WHERE id = (mz_emulator.item_of(relation)).id
$$;

CREATE FUNCTION mz_emulator.create_index(
  index_name text, relation text, cluster_name text, is_default bool, columns text, if_not_exists bool
) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  target mz_emulator.items := mz_emulator.item_of(relation);
  rel pg_class := (SELECT c FROM pg_class c WHERE c.oid = target.oid);
  final_name text := coalesce(index_name, rel.relname || CASE
    WHEN columns IS NULL THEN '_primary_idx'
    ELSE '_' || regexp_replace(lower(columns), '[^a-z0-9_]+', '_', 'g') || '_idx' END);
  s mz_emulator.settings := (SELECT s FROM mz_emulator.settings s);
BEGIN
  IF EXISTS (SELECT FROM mz_emulator.items i JOIN mz_emulator.items o ON o.id = i.on_id
             JOIN pg_class c ON c.oid = o.oid
             WHERE i.kind = 'index' AND i.name = final_name AND c.relnamespace = rel.relnamespace) THEN
    IF if_not_exists THEN RETURN; END IF;
    RAISE EXCEPTION USING ERRCODE = '42710', MESSAGE = format('index ''%s'' already exists', final_name);
  END IF;
  PERFORM mz_emulator.require_owners(ARRAY[rel.relowner], ARRAY[mz_emulator.relation_description(rel.oid)]);
  PERFORM mz_emulator.require_cluster_privilege(mz_emulator.cluster_id(cluster_name), 'CREATE');
  INSERT INTO mz_emulator.items (id, kind, name, on_id, cluster_id, is_default_index, index_columns,
                                 hydration_delay, never_hydrates, lag)
  VALUES ('u' || nextval('mz_emulator.item_ids'), 'index', final_name, target.id,
          mz_emulator.cluster_id(cluster_name), is_default, columns,
          s.default_hydration_delay, s.default_never_hydrates, s.default_lag);
END $$;

CREATE FUNCTION mz_emulator.drop_index(name_parts text[], if_exists bool) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  index_name text := name_parts[array_length(name_parts, 1)];
  schema_name text := name_parts[array_length(name_parts, 1) - 1];
  dropped text;
BEGIN
  PERFORM mz_emulator.require_owners(array_agg(c.relowner),
                                     array_agg(format('INDEX %s.%s.%s', current_database(), n.nspname, i.name)))
  FROM mz_emulator.items i JOIN mz_emulator.items o ON o.id = i.on_id
  JOIN pg_class c ON c.oid = o.oid JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE i.kind = 'index' AND i.name = index_name AND (schema_name IS NULL OR n.nspname = schema_name);
  DELETE FROM mz_emulator.items i
  USING mz_emulator.items o, pg_class c
  WHERE i.kind = 'index' AND o.id = i.on_id AND c.oid = o.oid AND i.name = index_name
    AND (schema_name IS NULL OR c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = schema_name))
  RETURNING i.id INTO dropped;
  IF dropped IS NULL AND NOT if_exists THEN
    RAISE EXCEPTION USING ERRCODE = '42704', MESSAGE = format('unknown catalog item ''%s''', index_name);
  END IF;
END $$;

-- Whether and how far behind an item is, from its creation time and scripted delay.
CREATE FUNCTION mz_emulator.hydrated_at(i mz_emulator.items, at timestamptz) RETURNS bool
LANGUAGE sql STABLE AS $$
  SELECT NOT i.never_hydrates AND at >= i.created_at + i.hydration_delay * interval '1 second'
$$;

CREATE FUNCTION mz_emulator.is_hydrated(i mz_emulator.items) RETURNS bool
LANGUAGE sql STABLE AS $$ SELECT mz_emulator.hydrated_at(i, mz_emulator.now()) $$;

-- The last scheduled refresh of a REFRESH materialized view at or before 'at' (none before
-- its creation), or NULL. On an ON REFRESH cluster only a refresh the cluster ran counts.
CREATE FUNCTION mz_emulator.last_refresh_at(i mz_emulator.items, at timestamptz) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
  SELECT CASE
    WHEN NOT mz_emulator.hydrated_at(i, at) THEN NULL
    WHEN (SELECT schedule FROM mz_emulator.clusters WHERE id = i.cluster_id) = 'on-refresh'
      THEN i.refreshed_at
    ELSE greatest(
      CASE WHEN i.refresh_at_creation THEN i.created_at END,
      (SELECT r FROM (SELECT i.refresh_aligned_to + i.refresh_every * floor(
                 extract(epoch FROM at - i.refresh_aligned_to) / extract(epoch FROM i.refresh_every)) AS r) x
       WHERE i.refresh_every IS NOT NULL AND r >= i.created_at AND r <= at))
  END
$$;

CREATE FUNCTION mz_emulator.next_refresh_at(i mz_emulator.items, at timestamptz) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
  SELECT i.refresh_aligned_to + i.refresh_every * (floor(
    extract(epoch FROM at - i.refresh_aligned_to) / extract(epoch FROM i.refresh_every)) + 1)
  WHERE i.refresh_every IS NOT NULL
$$;

-- Until hydrated an object lags by its age (its frontier is stuck at creation), then by its
-- scripted lag. A REFRESH materialized view also lags by the time since its last refresh:
-- the reading where its lag never gets under a second between refreshes.
CREATE FUNCTION mz_emulator.lag_at(i mz_emulator.items, at timestamptz) RETURNS interval
LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN NOT mz_emulator.hydrated_at(i, at) THEN date_trunc('second', at - i.created_at)
              WHEN i.refresh_every IS NOT NULL OR i.refresh_at_creation
                THEN date_trunc('second', at - coalesce(mz_emulator.last_refresh_at(i, at), i.created_at))
                     + i.lag * interval '1 second'
              ELSE i.lag * interval '1 second' END
$$;

CREATE FUNCTION mz_emulator.set_refresh(relation text, every text, aligned_to text, at_creation bool)
RETURNS void LANGUAGE sql AS $$
  UPDATE mz_emulator.items SET refresh_every = every::interval,
         refresh_aligned_to = coalesce(aligned_to::timestamptz, created_at),
         refresh_at_creation = at_creation
  WHERE id = (mz_emulator.item_of(relation)).id
$$;
`

const CATALOG_VIEWS = `
-- Items that still exist (temporary relations disappear without a drop event).
CREATE VIEW mz_emulator.live_items AS
SELECT i.*, coalesce(c.relnamespace, oc.relnamespace) AS nsp, coalesce(c.relowner, oc.relowner) AS owner,
       coalesce(c.relname::text, i.name) AS item_name, c.relkind
FROM mz_emulator.items i
LEFT JOIN pg_class c ON c.oid = i.oid
LEFT JOIN mz_emulator.items o ON o.id = i.on_id
LEFT JOIN pg_class oc ON oc.oid = o.oid
WHERE (i.oid IS NULL OR c.oid IS NOT NULL);

CREATE FUNCTION mz_catalog.mz_now() RETURNS timestamptz LANGUAGE sql STABLE AS $$ SELECT mz_emulator.now() $$;
CREATE FUNCTION mz_catalog.mz_version() RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT '${MZ_VERSION}' $$;
CREATE FUNCTION mz_catalog.mz_is_superuser() RETURNS bool LANGUAGE sql STABLE AS
  $$ SELECT rolsuper FROM pg_roles WHERE rolname = current_user $$;
CREATE FUNCTION mz_catalog.has_system_privilege(privilege text) RETURNS bool LANGUAGE sql STABLE AS
  $$ SELECT mz_emulator.role_has_system_privilege(mz_emulator.current_role_oid(), privilege) $$;
CREATE FUNCTION mz_catalog.has_system_privilege(role_name text, privilege text) RETURNS bool
LANGUAGE sql STABLE AS $$ SELECT mz_emulator.role_has_system_privilege(mz_emulator.role_oid(role_name), privilege) $$;
CREATE FUNCTION mz_catalog.has_cluster_privilege(role_name text, cluster_name text, privilege text) RETURNS bool
LANGUAGE sql STABLE AS $$
  SELECT coalesce((SELECT rolsuper FROM pg_roles WHERE oid = mz_emulator.role_oid(role_name)), false)
      OR mz_emulator.acl_grants(c.privileges, mz_emulator.role_oid(role_name), upper(privilege))
  FROM mz_emulator.clusters c WHERE c.id = mz_emulator.cluster_id(cluster_name)
$$;
CREATE FUNCTION mz_catalog.has_cluster_privilege(cluster_name text, privilege text) RETURNS bool
LANGUAGE sql STABLE AS $$ SELECT mz_catalog.has_cluster_privilege(current_user::text, cluster_name, privilege) $$;
CREATE FUNCTION mz_internal.mz_aclexplode(acl aclitem[])
RETURNS TABLE (grantor text, grantee text, privilege_type text, is_grantable bool)
LANGUAGE sql STABLE AS $$
  SELECT mz_emulator.role_id(e.grantor), mz_emulator.role_id(e.grantee), e.privilege_type, e.is_grantable
  FROM aclexplode(mz_emulator.nonempty_acl(acl)) e
$$;
-- Over the mz_aclitem text form of mz_clusters, mz_schemas and mz_databases.privileges.
CREATE FUNCTION mz_internal.mz_aclexplode(acl text[])
RETURNS TABLE (grantor text, grantee text, privilege_type text, is_grantable bool)
LANGUAGE sql IMMUTABLE AS $$
  SELECT m[3], CASE WHEN m[1] = '' THEN 'p' ELSE m[1] END,
         CASE letter WHEN 'a' THEN 'INSERT' WHEN 'r' THEN 'SELECT' WHEN 'w' THEN 'UPDATE'
                     WHEN 'd' THEN 'DELETE' WHEN 'U' THEN 'USAGE' WHEN 'C' THEN 'CREATE' END,
         false
  FROM unnest(acl) item, regexp_match(item, '^([^=]*)=([^/]*)/(.*)$') m,
       regexp_split_to_table(m[2], '') letter
$$;

CREATE VIEW mz_catalog.mz_databases AS
SELECT 'u1'::text AS id, d.oid, d.datname::text AS name, mz_emulator.role_id(d.datdba) AS owner_id,
       mz_emulator.mz_acl(coalesce(d.datacl, acldefault('d', d.datdba))) AS privileges
FROM pg_database d WHERE d.datname = current_database();

CREATE VIEW mz_catalog.mz_schemas AS
SELECT mz_emulator.schema_id(n.oid) AS id, n.oid,
       CASE WHEN mz_emulator.schema_id(n.oid) LIKE 'u%' THEN 'u1' END AS database_id,
       n.nspname::text AS name, mz_emulator.role_id(n.nspowner) AS owner_id,
       mz_emulator.mz_acl(coalesce(n.nspacl, acldefault('n', n.nspowner))) AS privileges
FROM pg_namespace n
WHERE n.nspname NOT LIKE 'pg_temp%' AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname <> 'mz_emulator';

-- Upstream (src/catalog/src/builtin/mz_catalog.rs at 59294b360a): PostgreSQL's own pg_* roles
-- are not Materialize roles.
CREATE VIEW mz_catalog.mz_roles AS
SELECT mz_emulator.role_id(r.oid) AS id, r.oid, r.rolname::text AS name, r.rolinherit AS inherit,
       r.rolcanlogin, r.rolsuper
FROM pg_roles r WHERE r.rolname NOT LIKE 'pg\\_%';

CREATE VIEW mz_catalog.mz_clusters AS
SELECT c.id, c.name, mz_emulator.role_id(c.owner_oid) AS owner_id, mz_emulator.mz_acl(c.privileges) AS privileges,
       c.managed, c.size,
       c.replication_factor, false AS disk, NULL::text[] AS availability_zones,
       true AS introspection_debugging, interval '1 second' AS introspection_interval
FROM mz_emulator.clusters c;

CREATE VIEW mz_catalog.mz_cluster_replicas AS
SELECT r.id, r.name, r.cluster_id, r.size, r.availability_zone,
       mz_emulator.role_id(c.owner_oid) AS owner_id, false AS disk
FROM mz_emulator.replicas r JOIN mz_emulator.clusters c ON c.id = r.cluster_id;

CREATE VIEW mz_catalog.mz_objects AS
SELECT i.id, coalesce(i.oid, mz_emulator.synthetic_oid(i.id)) AS oid,
       CASE WHEN i.kind = 'introspection-index' THEN mz_emulator.schema_id('mz_internal'::regnamespace)
            ELSE mz_emulator.schema_id(i.nsp) END AS schema_id,
       i.item_name AS name,
       CASE WHEN i.kind IN ('source', 'subsource') THEN 'source'
            WHEN i.kind IN ('sink', 'connection') THEN i.kind
            ELSE CASE i.relkind WHEN 'r' THEN 'table' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized-view'
                                ELSE 'index' END END AS type,
       CASE WHEN i.kind = 'introspection-index' THEN 's1' ELSE mz_emulator.role_id(i.owner) END AS owner_id,
       i.cluster_id,
       c.relacl AS privileges
FROM mz_emulator.live_items i LEFT JOIN pg_class c ON c.oid = i.oid
UNION ALL
-- The emulated catalog relations themselves, as Materialize lists its builtins (dbt-materialize
-- 1.9.11 looks mz_internal.mz_cluster_auto_scaling_strategies up here before reading it).
SELECT 's' || c.oid, c.oid, mz_emulator.schema_id(c.relnamespace), c.relname::text, 'view', 's1', NULL,
       c.relacl
FROM pg_class c
WHERE c.relnamespace IN ('mz_catalog'::regnamespace, 'mz_internal'::regnamespace) AND c.relkind = 'v';

CREATE VIEW mz_catalog.mz_relations AS
SELECT id, oid, schema_id, name, type, owner_id, cluster_id, privileges
FROM mz_catalog.mz_objects WHERE type IN ('table', 'view', 'materialized-view', 'source');

CREATE VIEW mz_catalog.mz_views AS
SELECT o.id, o.oid, o.schema_id, o.name, pg_get_viewdef(o.oid) AS definition, o.owner_id, o.privileges
FROM mz_catalog.mz_objects o WHERE o.type = 'view';

CREATE VIEW mz_catalog.mz_materialized_views AS
SELECT o.id, o.oid, o.schema_id, o.name, o.cluster_id, pg_get_viewdef(o.oid) AS definition,
       o.owner_id, o.privileges,
       format('CREATE MATERIALIZED VIEW %s AS %s', o.oid::regclass, pg_get_viewdef(o.oid)) AS create_sql,
       format('CREATE MATERIALIZED VIEW %s AS %s', o.oid::regclass, pg_get_viewdef(o.oid)) AS redacted_create_sql
FROM mz_catalog.mz_objects o WHERE o.type = 'materialized-view';

-- Upstream's introspection indexes are on log sources the emulator lacks: they are listed on
-- mz_catalog.mz_clusters instead, so every index has a relation.
CREATE VIEW mz_catalog.mz_indexes AS
SELECT i.id, mz_emulator.synthetic_oid(i.id) AS oid, i.item_name AS name,
       coalesce(i.on_id, 's' || r.oid) AS on_id, i.cluster_id,
       CASE WHEN i.kind = 'introspection-index' THEN 's1' ELSE mz_emulator.role_id(i.owner) END AS owner_id,
       x.create_sql, x.create_sql AS redacted_create_sql
FROM mz_emulator.live_items i
JOIN pg_class r ON r.oid = coalesce((SELECT o.oid FROM mz_emulator.items o WHERE o.id = i.on_id),
                                    'mz_catalog.mz_clusters'::regclass),
LATERAL (SELECT format('CREATE INDEX %I ON %s (%s)', i.item_name, r.oid::regclass,
                       coalesce(i.index_columns, '')) AS create_sql) x
WHERE i.kind IN ('index', 'introspection-index');

CREATE VIEW mz_catalog.mz_index_columns AS
SELECT i.id AS index_id, n AS index_position, NULL::bigint AS on_position, trim(col) AS on_expression,
       true AS nullable
FROM mz_emulator.live_items i, unnest(string_to_array(i.index_columns, ',')) WITH ORDINALITY AS u(col, n)
WHERE i.kind = 'index';

-- SUBSCRIBE is not emulated: upstream's columns (mz_internal.rs), never a row.
CREATE VIEW mz_internal.mz_subscriptions AS
SELECT NULL::text AS id, NULL::uuid AS session_id, NULL::text AS cluster_id,
       NULL::timestamptz AS created_at, NULL::text[] AS referenced_object_ids WHERE false;

CREATE VIEW mz_catalog.mz_columns AS
SELECT i.id, a.attname::text AS name, a.attnum::bigint AS position, NOT a.attnotnull AS nullable,
       format_type(a.atttypid, NULL) AS type, pg_get_expr(d.adbin, d.adrelid) AS "default",
       a.atttypid AS type_oid, a.atttypmod AS type_mod
FROM mz_emulator.live_items i
JOIN pg_attribute a ON a.attrelid = i.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum;

CREATE VIEW mz_internal.mz_comments AS
SELECT i.id, (SELECT o.type FROM mz_catalog.mz_objects o WHERE o.id = i.id) AS object_type,
       nullif(d.objsubid, 0) AS object_sub_id, d.description AS comment
FROM mz_emulator.live_items i JOIN pg_description d ON d.classoid = 'pg_class'::regclass AND d.objoid = i.oid
UNION ALL
SELECT s.id, 'schema', NULL, d.description
FROM pg_description d JOIN mz_catalog.mz_schemas s ON s.oid = d.objoid
WHERE d.classoid = 'pg_namespace'::regclass AND s.id LIKE 'u%'
UNION ALL
SELECT c.id, 'cluster', NULL, c.comment FROM mz_emulator.clusters c WHERE c.comment IS NOT NULL;

CREATE VIEW mz_internal.mz_cluster_schedules AS
SELECT c.id AS cluster_id, c.schedule AS type, c.hydration_time_estimate AS refresh_hydration_time_estimate
FROM mz_emulator.clusters c;

CREATE VIEW mz_internal.mz_internal_cluster_replicas AS SELECT NULL::text AS id WHERE false;

CREATE VIEW mz_internal.mz_cluster_replica_status_history AS
SELECT replica_id, process_id, status, reason, occurred_at FROM mz_emulator.replica_status_history;

CREATE VIEW mz_internal.mz_cluster_replica_statuses AS
SELECT r.id AS replica_id, 0::bigint AS process_id,
       CASE WHEN h.reason IS NULL THEN 'online' ELSE 'offline' END AS status, h.reason,
       coalesce(h.occurred_at, now()) AS updated_at
FROM mz_emulator.replicas r
LEFT JOIN LATERAL (SELECT * FROM mz_emulator.replica_status_history x WHERE x.replica_id = r.id
                   ORDER BY occurred_at DESC LIMIT 1) h ON true;

`

// ---------------------------------------------------------------------------------------
// Connections, sources, tables from sources and sinks. Each is a PostgreSQL table (a
// connection or sink has no columns) registered as a catalog item of its kind, so names,
// schema swaps and drops behave as for other items. What one reads is a pg_depend row
// (sink -> relation and connections, subsource or table -> source), so PostgreSQL's own
// DROP … CASCADE / RESTRICT takes or protects dependents across schemas, as Materialize does.
const STORAGE_ITEMS = `
CREATE TABLE mz_emulator.storage_objects (
  id text PRIMARY KEY REFERENCES mz_emulator.items ON DELETE CASCADE,
  -- mz_sources.type / mz_sinks.type / mz_connections.type; NULL for a table from a source.
  type text,
  connection_id text,
  source_id text,
  -- The load generator's output this relation holds (e.g. 'counter', 'bids').
  output text,
  envelope_type text,
  key_format text,
  value_format text,
  key_columns text[],
  topic text,
  brokers text[],
  -- The statement as created; for a sink, the text after its connection's name.
  definition text NOT NULL
);

-- What each load generator emits: the relation's columns and a few fixed rows.
CREATE TABLE mz_emulator.load_generator_outputs (
  generator text, output text, columns text NOT NULL, rows text NOT NULL,
  PRIMARY KEY (generator, output)
);
INSERT INTO mz_emulator.load_generator_outputs VALUES
  ('counter', 'counter', 'counter bigint', '(1), (2), (3)'),
  ('auction', 'organizations', 'id bigint, name text', $$(1, 'acme'), (2, 'globex')$$),
  ('auction', 'users', 'id bigint, org_id bigint, name text', $$(1, 1, 'ada'), (2, 2, 'bob')$$),
  ('auction', 'accounts', 'id bigint, org_id bigint, balance bigint', '(1, 1, 100), (2, 2, 200)'),
  ('auction', 'auctions', 'id bigint, seller bigint, item text, end_time timestamptz',
   $$(1, 1, 'lamp', '2026-01-01 00:00:00+00')$$),
  ('auction', 'bids', 'id bigint, buyer bigint, auction_id bigint, amount integer, bid_time timestamptz',
   $$(1, 2, 1, 40, '2026-01-01 00:00:00+00')$$);

-- pg_depend is a system catalog: these two run as the bootstrap (superuser) role.
CREATE FUNCTION mz_emulator.add_dependency(obj oid, ref oid) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog AS $$
  INSERT INTO pg_depend (classid, objid, objsubid, refclassid, refobjid, refobjsubid, deptype)
  VALUES ('pg_class'::regclass, obj, 0, 'pg_class'::regclass, ref, 0, 'n')
$$;
CREATE FUNCTION mz_emulator.move_dependency(obj oid, old_ref oid, new_ref oid) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog AS $$
  UPDATE pg_depend SET refobjid = new_ref
  WHERE classid = 'pg_class'::regclass AND objid = obj AND refclassid = 'pg_class'::regclass
    AND refobjid = old_ref AND deptype = 'n'
$$;

CREATE FUNCTION mz_emulator.full_name(rel oid) RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT current_database() || '.' || n.nspname || '.' || c.relname
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = rel
$$;
CREATE FUNCTION mz_emulator.quoted_name(rel oid) RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT quote_ident(current_database()) || '.' || quote_ident(n.nspname) || '.' || quote_ident(c.relname)
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = rel
$$;

-- The catalog item a name denotes, of an expected type (NULL: any); raises Materialize's errors.
CREATE FUNCTION mz_emulator.resolve(item_name text, expected text) RETURNS mz_catalog.mz_objects
LANGUAGE plpgsql STABLE AS $$
DECLARE
  result mz_catalog.mz_objects;
BEGIN
  SELECT * INTO result FROM mz_catalog.mz_objects WHERE oid = to_regclass(item_name);
  IF result.id IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '42704', MESSAGE = format('unknown catalog item ''%s''', item_name);
  END IF;
  IF expected IS NOT NULL AND result.type <> expected THEN
    RAISE EXCEPTION USING ERRCODE = '42809',
      MESSAGE = format('"%s" is a %s not a %s', mz_emulator.full_name(result.oid), result.type, expected);
  END IF;
  RETURN result;
END $$;

-- False when the name is free; with IF NOT EXISTS a taken name skips the statement.
CREATE FUNCTION mz_emulator.name_taken(item_name text, if_not_exists bool) RETURNS bool
LANGUAGE plpgsql AS $$
DECLARE
  existing regclass := to_regclass(item_name);
BEGIN
  IF existing IS NULL THEN RETURN false; END IF;
  IF if_not_exists THEN
    RAISE NOTICE 'catalog item ''%'' already exists, skipping', mz_emulator.full_name(existing);
    RETURN true;
  END IF;
  RAISE EXCEPTION USING ERRCODE = '42710',
    MESSAGE = format('catalog item ''%s'' already exists', mz_emulator.full_name(existing));
END $$;

-- Creates the backing table of an item, gives it its kind and cluster; returns its id.
CREATE FUNCTION mz_emulator.create_storage_item(
  item_name text, item_kind text, cid text, columns text, rows text
) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  result text;
BEGIN
  EXECUTE format('CREATE TABLE %s (%s)', item_name, coalesce(columns, ''));
  IF rows IS NOT NULL THEN EXECUTE format('INSERT INTO %s VALUES %s', item_name, rows); END IF;
  UPDATE mz_emulator.items SET kind = item_kind, cluster_id = cid
  WHERE oid = to_regclass(item_name) RETURNING id INTO result;
  RETURN result;
END $$;

CREATE FUNCTION mz_emulator.create_connection(
  item_name text, connection_type text, broker_list text[], if_not_exists bool, statement text
) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF mz_emulator.name_taken(item_name, if_not_exists) THEN RETURN; END IF;
  INSERT INTO mz_emulator.storage_objects (id, type, brokers, definition)
  VALUES (mz_emulator.create_storage_item(item_name, 'connection', NULL, NULL, NULL),
          connection_type, broker_list, statement);
END $$;

CREATE FUNCTION mz_emulator.create_load_generator(
  item_name text, cluster_name text, generator_name text, all_tables bool, if_not_exists bool,
  statement text
) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  cid text := mz_emulator.cluster_id(cluster_name);
  own mz_emulator.load_generator_outputs := (SELECT o FROM mz_emulator.load_generator_outputs o
                                             WHERE generator = generator_name AND output = generator_name);
  source_id text;
  nsp text;
  sub mz_emulator.load_generator_outputs;
  sub_name text;
BEGIN
  IF mz_emulator.name_taken(item_name, if_not_exists) THEN RETURN; END IF;
  source_id := mz_emulator.create_storage_item(item_name, 'source', cid, own.columns, own.rows);
  INSERT INTO mz_emulator.storage_objects (id, type, output, definition)
  VALUES (source_id, 'load-generator', generator_name, statement);
  IF NOT all_tables THEN RETURN; END IF;
  -- FOR ALL TABLES: one subsource per output, in the source's schema, on its cluster.
  SELECT quote_ident(n.nspname) INTO nsp
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass(item_name);
  FOR sub IN SELECT * FROM mz_emulator.load_generator_outputs
             WHERE generator = generator_name AND output <> generator_name ORDER BY output LOOP
    sub_name := nsp || '.' || quote_ident(sub.output);
    PERFORM mz_emulator.name_taken(sub_name, false);
    INSERT INTO mz_emulator.storage_objects (id, type, source_id, output, definition)
    VALUES (mz_emulator.create_storage_item(sub_name, 'subsource', cid, sub.columns, sub.rows),
            'subsource', source_id, sub.output,
            format('CREATE SUBSOURCE %s OF SOURCE %s', sub_name, item_name));
    PERFORM mz_emulator.add_dependency(to_regclass(sub_name), to_regclass(item_name));
  END LOOP;
END $$;

-- CREATE TABLE … FROM SOURCE: a table holding one output of a load generator.
CREATE FUNCTION mz_emulator.create_table_from_source(
  item_name text, source_name text, reference text, statement text
) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  src mz_catalog.mz_objects := mz_emulator.resolve(source_name, 'source');
  generator_name text := (SELECT output FROM mz_emulator.storage_objects
                          WHERE id = src.id AND type = 'load-generator');
  wanted mz_emulator.load_generator_outputs;
BEGIN
  SELECT * INTO wanted FROM mz_emulator.load_generator_outputs
  WHERE generator = generator_name AND output = coalesce(reference, generator_name);
  IF wanted.output IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '42704', MESSAGE = format(
      'reference %s not found for source %s', coalesce(reference, '(none)'), mz_emulator.full_name(src.oid));
  END IF;
  PERFORM mz_emulator.name_taken(item_name, false);
  INSERT INTO mz_emulator.storage_objects (id, source_id, output, definition)
  VALUES (mz_emulator.create_storage_item(item_name, 'relation', NULL, wanted.columns, wanted.rows),
          src.id, wanted.output, statement);
  PERFORM mz_emulator.add_dependency(to_regclass(item_name), src.oid);
END $$;

-- What a sink may read (Materialize sinks sources, tables and materialized views), checked
-- at CREATE SINK and again at ALTER SINK … SET FROM, with the sink's KEY columns.
CREATE FUNCTION mz_emulator.sinkable(relation text, key_columns text[]) RETURNS mz_catalog.mz_objects
LANGUAGE plpgsql STABLE AS $$
DECLARE
  result mz_catalog.mz_objects := mz_emulator.resolve(relation, NULL);
  missing text;
BEGIN
  IF result.type NOT IN ('table', 'source', 'materialized-view') THEN
    RAISE EXCEPTION USING ERRCODE = '42809', MESSAGE = format(
      '%s is a %s, which cannot be exported as a sink', mz_emulator.full_name(result.oid), result.type);
  END IF;
  SELECT k INTO missing FROM unnest(key_columns) k
  WHERE NOT EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = result.oid AND a.attname = k
                    AND a.attnum > 0 AND NOT a.attisdropped) LIMIT 1;
  IF missing IS NOT NULL THEN
    RAISE EXCEPTION USING ERRCODE = '42703', MESSAGE = format('column "%s" does not exist', missing);
  END IF;
  RETURN result;
END $$;

CREATE FUNCTION mz_emulator.connection_of(connection_name text, wanted_type text) RETURNS mz_catalog.mz_objects
LANGUAGE plpgsql STABLE AS $$
DECLARE
  result mz_catalog.mz_objects := mz_emulator.resolve(connection_name, 'connection');
BEGIN
  IF (SELECT type FROM mz_emulator.storage_objects WHERE id = result.id) <> wanted_type THEN
    RAISE EXCEPTION USING ERRCODE = '42809', MESSAGE = format(
      '%s is not a %s connection', mz_emulator.full_name(result.oid), wanted_type);
  END IF;
  RETURN result;
END $$;

CREATE FUNCTION mz_emulator.create_sink(
  item_name text, cluster_name text, relation text, kafka text, registry text, topic_name text,
  key_cols text[], key_fmt text, value_fmt text, envelope text, if_not_exists bool, tail text
) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  cid text := mz_emulator.cluster_id(cluster_name);
  input mz_catalog.mz_objects := mz_emulator.sinkable(relation, key_cols);
  conn mz_catalog.mz_objects := mz_emulator.connection_of(kafka, 'kafka');
  csr mz_catalog.mz_objects;
  sink oid;
BEGIN
  IF registry IS NOT NULL THEN csr := mz_emulator.connection_of(registry, 'confluent-schema-registry'); END IF;
  IF mz_emulator.name_taken(item_name, if_not_exists) THEN RETURN; END IF;
  INSERT INTO mz_emulator.storage_objects (id, type, connection_id, envelope_type, key_format,
                                           value_format, key_columns, topic, definition)
  VALUES (mz_emulator.create_storage_item(item_name, 'sink', cid, NULL, NULL), 'kafka', conn.id,
          envelope, key_fmt, value_fmt, key_cols, topic_name, tail);
  sink := to_regclass(item_name);
  PERFORM mz_emulator.add_dependency(sink, input.oid);
  PERFORM mz_emulator.add_dependency(sink, conn.oid);
  IF csr.oid IS NOT NULL THEN PERFORM mz_emulator.add_dependency(sink, csr.oid); END IF;
END $$;

-- The relation a sink reads: its one dependency that is not a connection.
CREATE FUNCTION mz_emulator.sink_input(sink oid) RETURNS oid
LANGUAGE sql STABLE AS $$
  SELECT d.refobjid FROM pg_depend d JOIN mz_emulator.items i ON i.oid = d.refobjid
  WHERE d.classid = 'pg_class'::regclass AND d.objid = sink AND d.refclassid = 'pg_class'::regclass
    AND d.deptype = 'n' AND i.kind <> 'connection'
$$;

CREATE FUNCTION mz_emulator.alter_sink_from(sink_name text, relation text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  sink mz_catalog.mz_objects := mz_emulator.resolve(sink_name, 'sink');
  input mz_catalog.mz_objects := mz_emulator.sinkable(
    relation, (SELECT key_columns FROM mz_emulator.storage_objects WHERE id = sink.id));
BEGIN
  PERFORM mz_emulator.move_dependency(sink.oid, mz_emulator.sink_input(sink.oid), input.oid);
END $$;

-- DROP SINK/SOURCE/CONNECTION: Materialize's checks, then PostgreSQL's DROP … CASCADE.
CREATE FUNCTION mz_emulator.drop_item(expected text, item_name text, if_exists bool, cascade bool)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  item mz_catalog.mz_objects;
  dependent text;
BEGIN
  IF to_regclass(item_name) IS NULL AND if_exists THEN
    RAISE NOTICE '% "%" does not exist, skipping', expected, item_name;
    RETURN;
  END IF;
  item := mz_emulator.resolve(item_name, expected);
  SELECT mz_emulator.full_name(o.oid) INTO dependent
  FROM mz_internal.mz_object_dependencies d JOIN mz_catalog.mz_objects o ON o.id = d.object_id
  WHERE d.referenced_object_id = item.id LIMIT 1;
  IF dependent IS NOT NULL AND NOT cascade THEN
    RAISE EXCEPTION USING ERRCODE = '2BP01', MESSAGE = format(
      'cannot drop %s: still depended upon by catalog item ''%s''', mz_emulator.full_name(item.oid), dependent);
  END IF;
  EXECUTE format('DROP TABLE %s CASCADE', item.oid::regclass);
END $$;

CREATE FUNCTION mz_emulator.create_sql(item mz_emulator.items) RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT CASE item.kind
    WHEN 'sink' THEN format('CREATE SINK %s IN CLUSTER %s FROM %s INTO KAFKA CONNECTION %s %s',
                            mz_emulator.quoted_name(item.oid), quote_ident(c.name),
                            mz_emulator.quoted_name(mz_emulator.sink_input(item.oid)),
                            mz_emulator.quoted_name(conn.oid), s.definition)
    ELSE s.definition END
  FROM mz_emulator.storage_objects s
  LEFT JOIN mz_emulator.clusters c ON c.id = item.cluster_id
  LEFT JOIN mz_emulator.items conn ON conn.id = s.connection_id
  WHERE s.id = item.id
$$;
`

// Upstream's columns in upstream's order (MaterializeInc/materialize at 59294b360a:
// src/catalog/src/builtin/mz_catalog.rs for mz_tables, mz_connections, mz_sinks,
// mz_kafka_connections and mz_kafka_sinks; for mz_sources, make_mz_sources in builtin/builtin.rs,
// which that mz_catalog.rs refers to).
const STORAGE_VIEWS = `
CREATE VIEW mz_catalog.mz_tables AS
SELECT o.id, o.oid, o.schema_id, o.name, o.owner_id, o.privileges,
       mz_emulator.create_sql(i) AS create_sql, mz_emulator.create_sql(i) AS redacted_create_sql,
       s.source_id
FROM mz_catalog.mz_objects o
JOIN mz_emulator.items i ON i.id = o.id
LEFT JOIN mz_emulator.storage_objects s ON s.id = o.id
WHERE o.type = 'table';

CREATE VIEW mz_catalog.mz_connections AS
SELECT o.id, o.oid, o.schema_id, o.name, s.type, o.owner_id, o.privileges,
       s.definition AS create_sql, s.definition AS redacted_create_sql
FROM mz_catalog.mz_objects o JOIN mz_emulator.storage_objects s ON s.id = o.id
WHERE o.type = 'connection';

CREATE VIEW mz_catalog.mz_kafka_connections AS
SELECT s.id, s.brokers, '_materialize-progress-emulator-' || s.id AS sink_progress_topic
FROM mz_catalog.mz_connections c JOIN mz_emulator.storage_objects s ON s.id = c.id
WHERE c.type = 'kafka';

CREATE VIEW mz_catalog.mz_sources AS
SELECT o.id, o.oid, o.schema_id, o.name, s.type, s.connection_id, NULL::text AS size,
       s.envelope_type, s.key_format, s.value_format, o.cluster_id, o.owner_id, o.privileges,
       mz_emulator.create_sql(i) AS create_sql, mz_emulator.create_sql(i) AS redacted_create_sql
FROM mz_catalog.mz_objects o
JOIN mz_emulator.items i ON i.id = o.id
JOIN mz_emulator.storage_objects s ON s.id = o.id
WHERE o.type = 'source';

-- No from_id: upstream has none; what a sink reads is in mz_object_dependencies.
CREATE VIEW mz_catalog.mz_sinks AS
SELECT o.id, o.oid, o.schema_id, o.name, s.type, s.connection_id, NULL::text AS size,
       s.envelope_type, s.value_format AS format, s.key_format, s.value_format, o.cluster_id,
       o.owner_id, mz_emulator.create_sql(i) AS create_sql,
       mz_emulator.create_sql(i) AS redacted_create_sql
FROM mz_catalog.mz_objects o
JOIN mz_emulator.items i ON i.id = o.id
JOIN mz_emulator.storage_objects s ON s.id = o.id
WHERE o.type = 'sink';

CREATE VIEW mz_catalog.mz_kafka_sinks AS
SELECT s.id, s.topic FROM mz_catalog.mz_sinks k JOIN mz_emulator.storage_objects s ON s.id = k.id;

-- Upstream (MaterializeInc/materialize src/catalog/src/builtin/mz_object_dependencies.rs at
-- 1069612d0a, and mz_internal.rs before it): (object_id, referenced_object_id), ids as in
-- mz_objects, each item's direct references as its create_sql names them. Views and
-- materialized views reference what their query reads (PostgreSQL's pg_rewrite/pg_depend,
-- across schemas); an index references its relation; a sink its relation and connections; a
-- subsource or a table from a source its source (the emulator's pg_depend rows).
CREATE VIEW mz_internal.mz_object_dependencies AS
SELECT DISTINCT o.id AS object_id, r.id AS referenced_object_id
FROM pg_depend d
JOIN pg_rewrite w ON w.oid = d.objid
JOIN mz_emulator.live_items o ON o.oid = w.ev_class
JOIN mz_emulator.live_items r ON r.oid = d.refobjid
WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass
  AND d.refobjid <> w.ev_class
UNION ALL
SELECT i.id, i.on_id FROM mz_emulator.live_items i WHERE i.kind = 'index'
UNION ALL
SELECT o.id, r.id
FROM pg_depend d
JOIN mz_emulator.live_items o ON o.oid = d.objid
JOIN mz_emulator.live_items r ON r.oid = d.refobjid
WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass AND d.deptype = 'n';
`

// GRANT/REVOKE … ON SYSTEM, ALTER CLUSTER … OWNER TO, and the role relations (upstream
// mz_catalog.rs and mz_internal.rs at 59294b360a). Default privileges are PostgreSQL's own
// (pg_default_acl): ALTER DEFAULT PRIVILEGES … IN SCHEMA … passes through.
const ROLE_CATALOG = `
CREATE FUNCTION mz_emulator.grant_system(p_privileges text[], p_roles text[], is_grant bool) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  wanted text[] := (SELECT array_agg(DISTINCT p) FROM unnest(p_privileges) x,
                    unnest(CASE WHEN x = 'ALL' THEN ARRAY['CREATEROLE', 'CREATEDB', 'CREATECLUSTER']
                                ELSE ARRAY[x] END) p);
  grantees oid[] := (SELECT array_agg(mz_emulator.role_oid(r)) FROM unnest(p_roles) r);
  unknown text := (SELECT p FROM unnest(wanted) p
                   WHERE p NOT IN ('CREATEROLE', 'CREATEDB', 'CREATECLUSTER', 'CREATENETWORKPOLICY') LIMIT 1);
BEGIN
  PERFORM mz_emulator.require_superuser('GRANT/REVOKE SYSTEM PRIVILEGES');
  IF unknown IS NOT NULL THEN
    RAISE EXCEPTION USING ERRCODE = '42601', MESSAGE = format('unrecognized privilege type: %s', unknown);
  END IF;
  IF is_grant THEN
    INSERT INTO mz_emulator.system_privileges (grantee, privilege, grantor)
    SELECT g, p, mz_emulator.current_role_oid() FROM unnest(grantees) g, unnest(wanted) p
    ON CONFLICT DO NOTHING;
  ELSE
    DELETE FROM mz_emulator.system_privileges WHERE grantee = ANY (grantees) AND privilege = ANY (wanted);
  END IF;
END $$;

-- Upstream: ownership of the cluster and membership in the new owner; the old owner's
-- privileges pass to the new one.
CREATE FUNCTION mz_emulator.alter_cluster_owner(cluster_name text, new_owner text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  cid text := mz_emulator.cluster_id(cluster_name);
  old_oid oid := (SELECT owner_oid FROM mz_emulator.clusters WHERE id = cid);
  new_oid oid := mz_emulator.role_oid(new_owner);
BEGIN
  PERFORM mz_emulator.require_cluster_owners(ARRAY[cluster_name]);
  IF NOT mz_emulator.is_superuser() AND NOT mz_emulator.has_role(mz_emulator.current_role_oid(), new_oid) THEN
    RAISE EXCEPTION USING ERRCODE = '42501', MESSAGE = format('must be a member of "%s"', new_owner);
  END IF;
  UPDATE mz_emulator.clusters c SET owner_oid = new_oid, privileges = (
    SELECT coalesce(array_agg(makeaclitem(grantee, grantor, privilege_type, false)), '{}') FROM (
      SELECT DISTINCT CASE WHEN e.grantee = old_oid THEN new_oid ELSE e.grantee END AS grantee,
                      CASE WHEN e.grantor = old_oid THEN new_oid ELSE e.grantor END AS grantor, e.privilege_type
      FROM aclexplode(mz_emulator.nonempty_acl(c.privileges)) e
    ) moved
  ) WHERE c.id = cid;
END $$;

CREATE VIEW mz_catalog.mz_role_members AS
SELECT mz_emulator.role_id(m.roleid) AS role_id, mz_emulator.role_id(m.member) AS member,
       mz_emulator.role_id(m.grantor) AS grantor
FROM pg_auth_members m JOIN mz_catalog.mz_roles r ON r.oid = m.roleid;

-- One row per (creator, schema, object type, grantee). A database-wide entry (no IN SCHEMA)
-- keeps the creator's own implicit grant in PostgreSQL; Materialize does not list it.
CREATE VIEW mz_emulator.default_privileges AS
SELECT d.defaclrole AS role_oid, nullif(d.defaclnamespace, 0) AS nsp,
       CASE d.defaclobjtype WHEN 'r' THEN 'table' WHEN 'T' THEN 'type' WHEN 'n' THEN 'schema' END AS object_type,
       e.grantee, e.privilege_type
FROM pg_default_acl d, aclexplode(d.defaclacl) e
WHERE d.defaclobjtype IN ('r', 'T', 'n') AND mz_emulator.privilege_letter(e.privilege_type) IS NOT NULL
  AND (d.defaclnamespace <> 0 OR e.grantee <> d.defaclrole);

CREATE VIEW mz_catalog.mz_default_privileges AS
SELECT mz_emulator.role_id(p.role_oid) AS role_id, CASE WHEN p.nsp IS NOT NULL THEN 'u1' END AS database_id,
       mz_emulator.schema_id(p.nsp) AS schema_id, p.object_type, mz_emulator.role_id(p.grantee) AS grantee,
       string_agg(mz_emulator.privilege_letter(p.privilege_type), ''
                  ORDER BY position(mz_emulator.privilege_letter(p.privilege_type) IN 'arwdUC')) AS privileges
FROM mz_emulator.default_privileges p
GROUP BY p.role_oid, p.nsp, p.object_type, p.grantee;

CREATE VIEW mz_internal.mz_show_default_privileges AS
SELECT r.rolname::text AS object_owner, CASE WHEN p.nsp IS NOT NULL THEN current_database()::text END AS database,
       n.nspname::text AS schema, p.object_type,
       CASE WHEN p.grantee = 0 THEN 'PUBLIC' ELSE g.rolname::text END AS grantee, p.privilege_type
FROM mz_emulator.default_privileges p
JOIN pg_roles r ON r.oid = p.role_oid
LEFT JOIN pg_namespace n ON n.oid = p.nsp
LEFT JOIN pg_roles g ON g.oid = p.grantee;

CREATE VIEW mz_internal.mz_show_database_privileges AS
SELECT grantor.name AS grantor, CASE WHEN p.grantee = 'p' THEN 'PUBLIC' ELSE grantee.name END AS grantee,
       d.name, p.privilege_type
FROM mz_catalog.mz_databases d, mz_internal.mz_aclexplode(d.privileges) p
LEFT JOIN mz_catalog.mz_roles grantor ON grantor.id = p.grantor
LEFT JOIN mz_catalog.mz_roles grantee ON grantee.id = p.grantee;

CREATE VIEW mz_internal.mz_show_my_database_privileges AS
SELECT * FROM mz_internal.mz_show_database_privileges
WHERE grantee = 'PUBLIC' OR pg_has_role(current_user, grantee, 'USAGE');
`

// Every role may read the catalog and call the emulator's functions (which check privileges
// themselves); the side tables are written by those functions and the DDL event triggers.
const PUBLIC_ACCESS = `
GRANT USAGE ON SCHEMA mz_emulator, mz_catalog, mz_internal TO PUBLIC;
GRANT SELECT ON ALL TABLES IN SCHEMA mz_catalog, mz_internal TO PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA mz_emulator TO PUBLIC;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA mz_emulator TO PUBLIC;
`

const CONTROL_FUNCTIONS = `
-- Which items a control call targets: an id, a name, or schema.name.
CREATE FUNCTION mz_emulator.items_matching(target text) RETURNS SETOF text
LANGUAGE sql STABLE AS $$
  SELECT i.id FROM mz_emulator.live_items i LEFT JOIN pg_namespace n ON n.oid = i.nsp
  WHERE target IN (i.id, i.item_name, n.nspname || '.' || i.item_name)
$$;

CREATE FUNCTION mz_emulator.script_object(target text, delay_seconds float8, lag_seconds float8, never bool)
RETURNS int LANGUAGE plpgsql AS $$
DECLARE
  changed int;
BEGIN
  UPDATE mz_emulator.items SET hydration_delay = coalesce(delay_seconds, hydration_delay),
                               lag = coalesce(lag_seconds, lag),
                               never_hydrates = coalesce(never, never_hydrates)
  WHERE id IN (SELECT mz_emulator.items_matching(target));
  GET DIAGNOSTICS changed = ROW_COUNT;
  IF changed = 0 THEN
    RAISE EXCEPTION USING ERRCODE = '42704', MESSAGE = format('unknown catalog item ''%s''', target);
  END IF;
  RETURN changed;
END $$;

CREATE FUNCTION mz_emulator.set_defaults(delay_seconds float8, lag_seconds float8, never bool)
RETURNS void LANGUAGE sql AS $$
  UPDATE mz_emulator.settings SET default_hydration_delay = coalesce(delay_seconds, default_hydration_delay),
                                  default_lag = coalesce(lag_seconds, default_lag),
                                  default_never_hydrates = coalesce(never, default_never_hydrates)
$$;

CREATE FUNCTION mz_emulator.fail_replicas(cluster_name text, events int) RETURNS void
LANGUAGE sql AS $$
  INSERT INTO mz_emulator.replica_status_history (replica_id, status, reason, occurred_at)
  SELECT r.id, 'offline', 'oom-killed', now() - n * interval '1 minute'
  FROM mz_emulator.replicas r, generate_series(1, events) n
  WHERE r.cluster_id = mz_emulator.cluster_id(cluster_name)
$$;

CREATE FUNCTION mz_emulator.heal_replicas(cluster_name text) RETURNS void
LANGUAGE sql AS $$
  DELETE FROM mz_emulator.replica_status_history
  WHERE replica_id IN (SELECT id FROM mz_emulator.replicas
                       WHERE cluster_id = mz_emulator.cluster_id(cluster_name))
$$;

CREATE FUNCTION mz_emulator.fail_next_swaps(times int) RETURNS void
LANGUAGE sql AS $$
  UPDATE mz_emulator.settings SET swap_fail_until = nextval('mz_emulator.swap_attempts') + times
$$;
`

// ---------------------------------------------------------------------------------------
// INTROSPECTION: hydration, wallclock lag and ON REFRESH replicas as they really arrive, each
// switchable per test. Upstream: MaterializeInc/materialize src/catalog/src/builtin/
// mz_internal.rs at 941765c68b (mz_hydration_statuses, mz_compute_hydration_statuses,
// mz_wallclock_global_lag[_recent_history], mz_materialization_lag).
/** Items `d` that are compute objects: on a cluster, and still existing. */
const IS_DATAFLOW = 'd.cluster_id IS NOT NULL AND d.id IN (SELECT id FROM mz_emulator.live_items)'

const INTROSPECTION = `
-- Items get the arrival defaults and the emulated clock's creation time.
CREATE FUNCTION mz_emulator.on_item_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  s mz_emulator.settings := (SELECT s FROM mz_emulator.settings s);
BEGIN
  NEW.created_at := NEW.created_at + s.clock_offset;
  IF NEW.kind <> 'introspection-index' THEN
    NEW.row_delay := s.default_row_delay;
    NEW.status_delay := s.default_status_delay;
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER item_defaults BEFORE INSERT ON mz_emulator.items
  FOR EACH ROW EXECUTE FUNCTION mz_emulator.on_item_insert();

-- Per replica, once the replica reported the dataflow (status_delay after creation).
CREATE VIEW mz_internal.mz_compute_hydration_statuses AS
SELECT d.id AS object_id, r.id AS replica_id, mz_emulator.is_hydrated(d::mz_emulator.items) AS hydrated,
       CASE WHEN mz_emulator.is_hydrated(d::mz_emulator.items)
            THEN d.hydration_delay * interval '1 second' END AS hydration_time
FROM mz_emulator.items d
JOIN mz_emulator.replicas r ON r.cluster_id = d.cluster_id
WHERE ${IS_DATAFLOW} AND mz_emulator.now() >= d.created_at + d.status_delay * interval '1 second';

-- Upstream joins the catalog (a builtin materialized view that reflects DDL late: no row
-- before row_delay) with the compute statuses: an object no replica reported yet, or on a
-- cluster without replicas, has one row with a NULL replica_id (hydrated coalesced to false).
CREATE VIEW mz_internal.mz_hydration_statuses AS
SELECT d.id AS object_id, h.replica_id, coalesce(h.hydrated, false) AS hydrated
FROM mz_emulator.items d
LEFT JOIN mz_internal.mz_compute_hydration_statuses h ON h.object_id = d.id
WHERE ${IS_DATAFLOW} AND mz_emulator.now() >= d.created_at + d.row_delay * interval '1 second';

-- 'live' lag mode: one current sample per object. 'binned' (upstream): per-minute minimums of
-- the samples recorded when the emulated clock crossed a minute, so a new object has no lag
-- row until its first minute closes.
CREATE VIEW mz_internal.mz_wallclock_global_lag_recent_history AS
SELECT d.id AS object_id, mz_emulator.lag_at(d::mz_emulator.items, n.at) AS lag,
       date_trunc('minute', n.at) AS occurred_at
FROM mz_emulator.items d, mz_emulator.settings s, (SELECT mz_emulator.now() AS at) n
WHERE ${IS_DATAFLOW} AND s.lag_mode = 'live'
UNION ALL
SELECT x.object_id, min(x.lag), date_trunc('minute', x.occurred_at)
FROM mz_emulator.lag_samples x, mz_emulator.settings s
WHERE s.lag_mode = 'binned' AND x.occurred_at + interval '1 day' > mz_emulator.now()
GROUP BY x.object_id, date_trunc('minute', x.occurred_at);

CREATE VIEW mz_internal.mz_wallclock_global_lag AS
SELECT DISTINCT ON (object_id) object_id, lag
FROM mz_internal.mz_wallclock_global_lag_recent_history
WHERE occurred_at + interval '5 minutes' > mz_emulator.now()
ORDER BY object_id, occurred_at DESC;

-- Tables are never behind, so an object lags its direct and its root inputs by its own lag.
-- Upstream lists only materializations with inputs.
CREATE VIEW mz_internal.mz_materialization_lag AS
WITH RECURSIVE deps AS (
  SELECT object_id, referenced_object_id FROM mz_internal.mz_object_dependencies
), reach (object_id, input_id) AS (
  SELECT object_id, referenced_object_id FROM deps
  UNION
  SELECT r.object_id, d.referenced_object_id FROM reach r JOIN deps d ON d.object_id = r.input_id
), lags AS (
  SELECT d.id, mz_emulator.lag_at(d::mz_emulator.items, mz_emulator.now()) AS lag,
         (SELECT min(referenced_object_id) FROM deps WHERE object_id = d.id) AS local_input,
         (SELECT min(input_id) FROM reach WHERE object_id = d.id
            AND input_id NOT IN (SELECT object_id FROM deps)) AS root_input
  FROM mz_emulator.items d WHERE ${IS_DATAFLOW} AND d.kind <> 'introspection-index'
)
SELECT id AS object_id, lag AS local_lag, lag AS global_lag,
       local_input AS slowest_local_input_id, root_input AS slowest_global_input_id
FROM lags WHERE local_input IS NOT NULL AND root_input IS NOT NULL;

-- REFRESH materialized views (docs: doc/user/content/reference/system-catalog/mz_internal.md):
-- a row per strategy, 'on-commit' for a view without REFRESH options; and, for the others, the
-- last completed and the next scheduled refresh, as mz_timestamp (epoch milliseconds).
CREATE VIEW mz_internal.mz_materialized_view_refresh_strategies AS
SELECT mv.id AS materialized_view_id, x.type, x.interval, x.aligned_to, x.at
FROM mz_catalog.mz_materialized_views mv
JOIN mz_emulator.items i ON i.id = mv.id
CROSS JOIN LATERAL (
  SELECT 'every'::text AS type, i.refresh_every AS interval, i.refresh_aligned_to AS aligned_to,
         NULL::timestamptz AS at WHERE i.refresh_every IS NOT NULL
  UNION ALL SELECT 'at', NULL, NULL, i.created_at WHERE i.refresh_at_creation
  UNION ALL SELECT 'on-commit', NULL, NULL, NULL
    WHERE i.refresh_every IS NULL AND NOT i.refresh_at_creation) x;

CREATE VIEW mz_internal.mz_materialized_view_refreshes AS
SELECT mv.id AS materialized_view_id,
       (extract(epoch FROM mz_emulator.last_refresh_at(i, mz_emulator.now())) * 1000)::numeric(20)
         AS last_completed_refresh,
       (extract(epoch FROM mz_emulator.next_refresh_at(i, mz_emulator.now())) * 1000)::numeric(20)
         AS next_refresh
FROM mz_catalog.mz_materialized_views mv
JOIN mz_emulator.items i ON i.id = mv.id
WHERE i.refresh_every IS NOT NULL OR i.refresh_at_creation;

-- AUTO SCALING STRATEGY (dbt-materialize 1.9.11 copies production's to green). The jsonb
-- follows upstream's serde shape: a linger duration is {secs, nanos}.
CREATE FUNCTION mz_emulator.auto_scaling_strategy(hydration_size text, linger text) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
  SELECT jsonb_build_object('on_hydration', jsonb_build_object(
    'hydration_size', hydration_size,
    'linger_duration', jsonb_build_object(
      'secs', floor(extract(epoch FROM coalesce(linger, '0s')::interval))::bigint,
      'nanos', (extract(microseconds FROM coalesce(linger, '0s')::interval)::bigint % 1000000) * 1000)))
$$;

CREATE FUNCTION mz_emulator.set_auto_scaling(cluster_name text, strategy jsonb) RETURNS void
LANGUAGE sql AS $$
  UPDATE mz_emulator.clusters SET auto_scaling_strategy = strategy
  WHERE id = mz_emulator.cluster_id(cluster_name)
$$;

-- Clusters with an AUTO SCALING STRATEGY; no burst is ever in flight.
CREATE VIEW mz_internal.mz_cluster_auto_scaling_strategies AS
SELECT c.id AS cluster_id, c.auto_scaling_strategy AS strategy,
       jsonb_build_object('burst', NULL) AS state
FROM mz_emulator.clusters c WHERE c.auto_scaling_strategy IS NOT NULL;

-- Control. Arrival scripts: seconds from creation without any hydration row (row_delay) and
-- before any replica reports the object (status_delay, a NULL-replica row meanwhile).
CREATE FUNCTION mz_emulator.set_arrival_defaults(row_delay_seconds float8, status_delay_seconds float8)
RETURNS void LANGUAGE sql AS $$
  UPDATE mz_emulator.settings SET default_row_delay = coalesce(row_delay_seconds, default_row_delay),
                                  default_status_delay = coalesce(status_delay_seconds, default_status_delay)
$$;

CREATE FUNCTION mz_emulator.script_arrival(target text, row_delay_seconds float8, status_delay_seconds float8)
RETURNS int LANGUAGE plpgsql AS $$
DECLARE
  changed int;
BEGIN
  UPDATE mz_emulator.items SET row_delay = coalesce(row_delay_seconds, row_delay),
                               status_delay = coalesce(status_delay_seconds, status_delay)
  WHERE id IN (SELECT mz_emulator.items_matching(target));
  GET DIAGNOSTICS changed = ROW_COUNT;
  IF changed = 0 THEN
    RAISE EXCEPTION USING ERRCODE = '42704', MESSAGE = format('unknown catalog item ''%s''', target);
  END IF;
  RETURN changed;
END $$;

CREATE FUNCTION mz_emulator.set_lag_mode(mode text) RETURNS void
LANGUAGE sql AS $$ UPDATE mz_emulator.settings SET lag_mode = mode $$;

-- Moves the emulated clock on, recording a lag sample of every dataflow at each minute it
-- crosses (just before the minute ends, so it lands in the bin that closes).
CREATE FUNCTION mz_emulator.advance_clock(seconds float8) RETURNS timestamptz
LANGUAGE plpgsql AS $$
DECLARE
  start timestamptz := mz_emulator.now();
  boundary timestamptz;
BEGIN
  IF seconds IS NULL OR seconds < 0 THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = format('cannot move the clock by %s seconds', seconds);
  END IF;
  FOR boundary IN SELECT generate_series(date_trunc('minute', start) + interval '1 minute',
                                         start + seconds * interval '1 second', interval '1 minute') LOOP
    INSERT INTO mz_emulator.lag_samples (object_id, lag, occurred_at)
    SELECT d.id, mz_emulator.lag_at(d::mz_emulator.items, boundary), boundary - interval '1 millisecond'
    FROM mz_emulator.items d WHERE ${IS_DATAFLOW};
  END LOOP;
  UPDATE mz_emulator.settings SET clock_offset = clock_offset + seconds * interval '1 second';
  RETURN start + seconds * interval '1 second';
END $$;

CREATE FUNCTION mz_emulator.close_lag_bin() RETURNS timestamptz
LANGUAGE sql AS $$
  SELECT mz_emulator.advance_clock(extract(epoch FROM
    date_trunc('minute', mz_emulator.now()) + interval '1 minute' - mz_emulator.now())::float8)
$$;

CREATE FUNCTION mz_emulator.set_refreshing(cluster_name text, refreshing bool) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  c mz_emulator.clusters := (SELECT c FROM mz_emulator.clusters c WHERE id = mz_emulator.cluster_id(cluster_name));
BEGIN
  IF c.schedule <> 'on-refresh' THEN
    RAISE EXCEPTION USING ERRCODE = '55000', MESSAGE = format('cluster ''%s'' has no SCHEDULE = ON REFRESH', cluster_name);
  END IF;
  UPDATE mz_emulator.clusters SET refreshing = set_refreshing.refreshing WHERE id = c.id;
  -- A refresh that ends has completed for every view on the cluster that hydrated.
  IF NOT refreshing THEN
    UPDATE mz_emulator.items i SET refreshed_at = mz_emulator.now()
    WHERE i.cluster_id = c.id AND mz_emulator.is_hydrated(i);
  END IF;
  PERFORM mz_emulator.set_replicas(cluster_name, coalesce(c.replication_factor, 1));
END $$;

-- ALTER CLUSTER … SET (SCHEDULE = …): an ON REFRESH cluster keeps replicas only while refreshing.
CREATE FUNCTION mz_emulator.set_schedule(cluster_name text, schedule_type text, estimate text)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  c mz_emulator.clusters;
BEGIN
  UPDATE mz_emulator.clusters SET schedule = schedule_type, hydration_time_estimate = estimate::interval
  WHERE id = mz_emulator.cluster_id(cluster_name) RETURNING * INTO c;
  PERFORM mz_emulator.set_replicas(cluster_name, coalesce(c.replication_factor, 1));
END $$;

CREATE FUNCTION mz_emulator.set_refresh_replicas(mode text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  c mz_emulator.clusters;
BEGIN
  UPDATE mz_emulator.settings SET refresh_replicas = mode;
  FOR c IN SELECT * FROM mz_emulator.clusters WHERE schedule = 'on-refresh' LOOP
    PERFORM mz_emulator.set_replicas(c.name, coalesce(c.replication_factor, 1));
  END LOOP;
END $$;
`

const SYSTEM_CLUSTERS = `
INSERT INTO mz_emulator.clusters (id, name, managed, size, replication_factor)
VALUES ('s2', 'mz_catalog_server', true, '25cc', 1);
SELECT mz_emulator.add_introspection_index('s2');
INSERT INTO mz_emulator.replicas (id, name, cluster_id, size) VALUES ('s1', 'r1', 's2', '25cc');
SELECT mz_emulator.create_cluster('quickstart', true, '25cc', 1, NULL, NULL);

CREATE EVENT TRIGGER mz_emulator_ddl_command_end ON ddl_command_end
  EXECUTE FUNCTION mz_emulator.on_ddl_command_end();
CREATE EVENT TRIGGER mz_emulator_sql_drop ON sql_drop EXECUTE FUNCTION mz_emulator.on_sql_drop();
`

/** Database-level settings; run with the database name substituted in. */
export function databaseSettingsSql(database: string): string {
  const db = `"${database.replace(/"/g, '""')}"`
  return [
    // Materialize resolves mz_catalog names without qualification.
    `ALTER DATABASE ${db} SET search_path = public, mz_catalog`,
    `ALTER DATABASE ${db} SET mz_emulator.cluster = 'quickstart'`
  ].join(';\n')
}

export const BOOTSTRAP_SQL = [
  SIDE_TABLES,
  HELPERS,
  TIME_DOMAIN_SQL,
  ROLE_HELPERS,
  CLUSTER_FUNCTIONS,
  ITEM_FUNCTIONS,
  CATALOG_VIEWS,
  STORAGE_ITEMS,
  STORAGE_VIEWS,
  ROLE_CATALOG,
  CONTROL_FUNCTIONS,
  INTROSPECTION,
  SYSTEM_CLUSTERS,
  PUBLIC_ACCESS
].join('\n')

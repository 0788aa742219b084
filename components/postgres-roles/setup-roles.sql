-- Least privilege for one tenant's PostgreSQL, run by psql as the server's bootstrap superuser:
--   psql -v ON_ERROR_STOP=1 --no-psqlrc --dbname postgres -f setup-roles.sql
-- In the cluster the PostgreSQL pod's init container runs it (setup-roles.sh) on every start,
-- with the server listening on its socket only; the backup suite runs this same file against a
-- real PostgreSQL 15 (test/backup/role-setup.test.ts).
--
-- Why a separate application role: existing tenants were initialised with POSTGRES_USER=odoo,
-- so `odoo` is the bootstrap superuser of their volumes: REASSIGN OWNED cannot move what it owns
-- ("required by the database system", seen on 15), PostgreSQL 16+ refuses to take SUPERUSER from
-- it, and on 15, where that is still allowed, the catalogs would stay its own. So `odoo` stays
-- the superuser on every volume (fresh ones too, so one name fits all), its password moves to
-- its own Secret, and Odoo, backups and restores connect as the application role, which owns the
-- tenant's database and every object in it and is nothing more: no SUPERUSER, CREATEROLE,
-- REPLICATION or BYPASSRLS, member of no role (so none of pg_read_server_files,
-- pg_write_server_files, pg_execute_server_program); CREATEDB only, for the restores' scratch
-- databases. Idempotent: every step states the end result, so a second run changes nothing.
--
-- Settings, from the environment (values are psql variables, quoted by psql: :'x' as a literal,
-- :"x" as an identifier; statements over objects are written with format('%I')):
--   ODOO_SAAS_APP_ROLE      the application role (created if missing)
--   ODOO_SAAS_APP_PASSWORD  its password
--   ODOO_SAAS_DATABASE      the tenant's database (given to the role with all it holds, if it exists)
--   POSTGRES_PASSWORD       optional: the superuser's own password, set when given
\set ON_ERROR_STOP on
\getenv app_role ODOO_SAAS_APP_ROLE
\getenv app_password ODOO_SAAS_APP_PASSWORD
\getenv tenant_db ODOO_SAAS_DATABASE
\getenv superuser_password POSTGRES_PASSWORD

SELECT :{?app_role} AND :{?app_password} AND :{?tenant_db} AS settings_given \gset
\if :settings_given
SELECT :'app_role' <> '' AND :'app_password' <> '' AND :'tenant_db' <> '' AS settings_given \gset
\endif
\if :settings_given
\else
DO $$ BEGIN RAISE EXCEPTION 'setup-roles.sql: ODOO_SAAS_APP_ROLE, ODOO_SAAS_APP_PASSWORD and ODOO_SAAS_DATABASE must be set and not empty'; END $$;
\endif

SELECT rolsuper AS running_as_superuser, rolname = :'app_role' AS app_is_current,
       :'app_role' ~ '^pg_' OR :'app_role' = '' AS app_name_reserved,
       length(:'app_password') < 16 AS app_password_short
FROM pg_roles WHERE rolname = current_user \gset
\if :running_as_superuser
\else
DO $$ BEGIN RAISE EXCEPTION 'setup-roles.sql must run as a superuser'; END $$;
\endif
\if :app_is_current
DO $$ BEGIN RAISE EXCEPTION 'setup-roles.sql: the application role must not be the superuser that runs it'; END $$;
\endif
\if :app_name_reserved
DO $$ BEGIN RAISE EXCEPTION 'setup-roles.sql: the application role name is reserved'; END $$;
\endif
\if :app_password_short
DO $$ BEGIN RAISE EXCEPTION 'setup-roles.sql: the application password is shorter than 16 characters'; END $$;
\endif

-- 1. The application role, exactly: whatever it was before (even a superuser), it ends as this.
SELECT NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'app_role') AS app_missing \gset
\if :app_missing
CREATE ROLE :"app_role" LOGIN;
\endif
ALTER ROLE :"app_role" WITH LOGIN NOSUPERUSER NOCREATEROLE CREATEDB NOREPLICATION NOBYPASSRLS INHERIT
  CONNECTION LIMIT -1 PASSWORD :'app_password';
-- Member of no role at all, so it has none of the predefined server-file or program roles.
SELECT format('REVOKE %I FROM %I GRANTED BY %I CASCADE', r.rolname, :'app_role', g.rolname)
FROM pg_auth_members m
JOIN pg_roles r ON r.oid = m.roleid
JOIN pg_roles g ON g.oid = m.grantor
WHERE m.member = (SELECT oid FROM pg_roles WHERE rolname = :'app_role') \gexec
-- Settings stored on the role could change what a session may do (e.g. session_preload_libraries).
ALTER ROLE :"app_role" RESET ALL;

-- 2. Databases: the tenant's, and any other non-system one (kept copies of earlier restores), belong
-- to the application role, so restores can rename and drop them.
SELECT format('ALTER DATABASE %I OWNER TO %I', datname, :'app_role')
FROM pg_database
WHERE datname NOT IN ('postgres', 'template0', 'template1')
  AND datdba <> (SELECT oid FROM pg_roles WHERE rolname = :'app_role') \gexec

SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'tenant_db') AS tenant_db_exists \gset
\if :tenant_db_exists
\connect -reuse-previous=on :tenant_db
SELECT oid AS app_oid FROM pg_roles WHERE rolname = :'app_role' \gset

-- 3. Every object in the tenant's database that is not the role's yet (all of them on a volume
-- where Odoo connected as the superuser). pg_database_owner (PostgreSQL 15's owner of `public`)
-- already stands for the database's owner; objects of extensions stay with their extension.
-- Schemas first, then tables before sequences: a sequence owned by a column follows its table.
SELECT format('ALTER SCHEMA %I OWNER TO %I', n.nspname, :'app_role')
FROM pg_namespace n
WHERE n.nspowner NOT IN (:app_oid, 'pg_database_owner'::regrole)
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_namespace'::regclass AND d.objid = n.oid AND d.deptype = 'e')
ORDER BY n.nspname \gexec

SELECT format('ALTER %s %I.%I OWNER TO %I',
              CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'f' THEN 'FOREIGN TABLE'
                             WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END,
              n.nspname, c.relname, :'app_role')
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
  AND c.relowner NOT IN (:app_oid, 'pg_database_owner'::regrole)
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
  -- serial and identity sequences move with their table (ALTER SEQUENCE on them is refused)
  AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                                        AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')))
ORDER BY c.relkind = 'S', n.nspname, c.relname \gexec

SELECT format('ALTER %s %s OWNER TO %I',
              CASE p.prokind WHEN 'p' THEN 'PROCEDURE' WHEN 'a' THEN 'AGGREGATE' ELSE 'FUNCTION' END,
              p.oid::regprocedure, :'app_role')
FROM pg_proc p
JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE p.proowner NOT IN (:app_oid, 'pg_database_owner'::regrole)
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
ORDER BY p.oid \gexec

-- Enums, domains, ranges, stand-alone composite and base types; array, multirange and table row
-- types move with the type or table they belong to.
SELECT format('ALTER %s %s OWNER TO %I', CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END, t.oid::regtype, :'app_role')
FROM pg_type t
JOIN pg_namespace n ON n.oid = t.typnamespace
WHERE t.typowner NOT IN (:app_oid, 'pg_database_owner'::regrole)
  AND t.typtype IN ('b', 'c', 'd', 'e', 'r')
  AND (t.typtype <> 'c' OR EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = t.typrelid AND c.relkind = 'c'))
  AND NOT EXISTS (SELECT 1 FROM pg_type e WHERE e.typarray = t.oid)
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e')
ORDER BY t.oid \gexec

SELECT format('ALTER LARGE OBJECT %s OWNER TO %I', l.oid, :'app_role')
FROM pg_largeobject_metadata l
WHERE l.lomowner <> :app_oid
ORDER BY l.oid \gexec

-- Text search configurations and dictionaries, collations, conversions, operators and statistics
-- objects: Odoo makes none, but a superuser-era one would otherwise stay out of the role's reach.
SELECT format('ALTER TEXT SEARCH CONFIGURATION %s OWNER TO %I', c.oid::regconfig, :'app_role')
FROM pg_ts_config c JOIN pg_namespace n ON n.oid = c.cfgnamespace
WHERE c.cfgowner NOT IN (:app_oid, 'pg_database_owner'::regrole) AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_ts_config'::regclass AND d.objid = c.oid AND d.deptype = 'e') \gexec
SELECT format('ALTER TEXT SEARCH DICTIONARY %s OWNER TO %I', c.oid::regdictionary, :'app_role')
FROM pg_ts_dict c JOIN pg_namespace n ON n.oid = c.dictnamespace
WHERE c.dictowner NOT IN (:app_oid, 'pg_database_owner'::regrole) AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_ts_dict'::regclass AND d.objid = c.oid AND d.deptype = 'e') \gexec
SELECT format('ALTER COLLATION %I.%I OWNER TO %I', n.nspname, c.collname, :'app_role')
FROM pg_collation c JOIN pg_namespace n ON n.oid = c.collnamespace
WHERE c.collowner NOT IN (:app_oid, 'pg_database_owner'::regrole) AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_collation'::regclass AND d.objid = c.oid AND d.deptype = 'e') \gexec
SELECT format('ALTER STATISTICS %I.%I OWNER TO %I', n.nspname, s.stxname, :'app_role')
FROM pg_statistic_ext s JOIN pg_namespace n ON n.oid = s.stxnamespace
WHERE s.stxowner NOT IN (:app_oid, 'pg_database_owner'::regrole) \gexec
SELECT format('ALTER OPERATOR %s OWNER TO %I', o.oid::regoperator, :'app_role')
FROM pg_operator o JOIN pg_namespace n ON n.oid = o.oprnamespace
WHERE o.oprowner NOT IN (:app_oid, 'pg_database_owner'::regrole) AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_operator'::regclass AND d.objid = o.oid AND d.deptype = 'e') \gexec
\endif

-- 4. Last (a \connect above may still need the old one): the superuser's own password, from its
-- own Secret, when given. Before the split the application Secret held the superuser's password;
-- from here on that password opens the application role only.
\if :{?superuser_password}
ALTER ROLE CURRENT_USER PASSWORD :'superuser_password';
\endif

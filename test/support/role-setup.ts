// A tenant's PostgreSQL as the cluster makes it, on a local server: the bootstrap superuser named
// as the pod's POSTGRES_USER, and the role set-up the pod's init container runs
// (components/postgres-roles/setup-roles.sql, the same file, through psql).
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { Client } from "pg";
import { tenantNames } from "../../components/naming";
import { roleSetupFile } from "../../components/specs/postgres-roles";
import type { PostgresServer } from "../../local/local-postgres";

export interface RoleSetupSettings {
  appRole: string;
  appPassword: string;
  database: string;
  /** The superuser's own password (the pod's POSTGRES_PASSWORD); unset leaves it as it is. */
  superuserPassword?: string;
}

export interface Login {
  user: string;
  password: string;
}

/** Runs setup-roles.sql with psql as `as` (default: the server's superuser and its current password). */
export function runRoleSetup(pg: PostgresServer, settings: RoleSetupSettings, as?: Login): { status: number | null; stdout: string; stderr: string } {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    PGHOST: pg.env.PGHOST,
    PGPORT: pg.env.PGPORT,
    PGUSER: as?.user ?? pg.env.PGUSER,
    PGPASSWORD: as?.password ?? pg.env.PGPASSWORD,
    ODOO_SAAS_APP_ROLE: settings.appRole,
    ODOO_SAAS_APP_PASSWORD: settings.appPassword,
    ODOO_SAAS_DATABASE: settings.database,
    ...(settings.superuserPassword !== undefined ? { POSTGRES_PASSWORD: settings.superuserPassword } : {}),
  };
  const args = ["-v", "ON_ERROR_STOP=1", "--no-psqlrc", "--dbname", "postgres", "-f", roleSetupFile("setup-roles.sql")];
  const r = spawnSync(path.join(pg.binDir, "psql"), args, { env, encoding: "utf8" });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The tenant's settings as the pod gives them (names from components/naming.ts). */
export function tenantRoleSettings(id: string, appPassword: string, superuserPassword?: string): RoleSetupSettings {
  const names = tenantNames(id);
  return { appRole: names.dbUser, appPassword, database: names.database, ...(superuserPassword !== undefined ? { superuserPassword } : {}) };
}

/** Connects as `login`; resolves to the client or rejects with PostgreSQL's error (its `code`). */
export async function connectAs(pg: PostgresServer, database: string, login: Login): Promise<Client> {
  const client = new Client({ host: pg.env.PGHOST, port: Number(pg.env.PGPORT), user: login.user, password: login.password, database });
  await client.connect();
  return client;
}

/** Runs `sql` as `login`; returns PostgreSQL's SQLSTATE and message, or "ok". */
export async function outcomeAs(pg: PostgresServer, database: string, login: Login, sql: string): Promise<{ code: string; message: string }> {
  const client = await connectAs(pg, database, login);
  try {
    await client.query(sql);
    return { code: "ok", message: "" };
  } catch (err) {
    const e = err as { code?: string; message: string };
    return { code: e.code ?? "unknown", message: e.message };
  } finally {
    await client.end();
  }
}

/**
 * Objects of `database` outside the system schemas (and not of an extension) whose owner is not
 * `role` (nor pg_database_owner, which stands for the database's owner), as "kind name owner".
 */
export const NOT_OWNED_SQL = `
WITH app AS (SELECT coalesce((SELECT oid FROM pg_roles WHERE rolname = :'role'), 0::oid) AS oid),
user_ns AS (SELECT oid, nspname FROM pg_namespace WHERE nspname NOT IN ('pg_catalog', 'information_schema') AND nspname !~ '^pg_(toast|temp_|toast_temp_)'),
ext AS (SELECT classid, objid FROM pg_depend WHERE deptype = 'e')
SELECT 'database ' || datname || ' ' || pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database() AND datdba <> (SELECT oid FROM app)
UNION ALL SELECT 'schema ' || n.nspname || ' ' || pg_get_userbyid(n.nspowner) FROM pg_namespace n JOIN user_ns USING (oid)
  WHERE n.nspowner NOT IN ((SELECT oid FROM app), 'pg_database_owner'::regrole)
UNION ALL SELECT 'relation ' || c.oid::regclass || ' ' || pg_get_userbyid(c.relowner) FROM pg_class c JOIN user_ns ON user_ns.oid = c.relnamespace
  WHERE c.relowner <> (SELECT oid FROM app) AND NOT EXISTS (SELECT 1 FROM ext WHERE classid = 'pg_class'::regclass AND objid = c.oid)
UNION ALL SELECT 'routine ' || p.oid::regprocedure || ' ' || pg_get_userbyid(p.proowner) FROM pg_proc p JOIN user_ns ON user_ns.oid = p.pronamespace
  WHERE p.proowner <> (SELECT oid FROM app) AND NOT EXISTS (SELECT 1 FROM ext WHERE classid = 'pg_proc'::regclass AND objid = p.oid)
UNION ALL SELECT 'type ' || t.oid::regtype || ' ' || pg_get_userbyid(t.typowner) FROM pg_type t JOIN user_ns ON user_ns.oid = t.typnamespace
  WHERE t.typowner <> (SELECT oid FROM app) AND NOT EXISTS (SELECT 1 FROM ext WHERE classid = 'pg_type'::regclass AND objid = t.oid)
    -- the array type of an extension's type belongs to the extension too
    AND NOT EXISTS (SELECT 1 FROM pg_type e JOIN ext ON ext.classid = 'pg_type'::regclass AND ext.objid = e.oid WHERE e.typarray = t.oid)
UNION ALL SELECT 'large object ' || oid || ' ' || pg_get_userbyid(lomowner) FROM pg_largeobject_metadata WHERE lomowner <> (SELECT oid FROM app)
ORDER BY 1;
`;

export function notOwnedBy(pg: PostgresServer, database: string, role: string): string[] {
  return pg.sql(database, NOT_OWNED_SQL, { role }).split("\n").filter(Boolean);
}

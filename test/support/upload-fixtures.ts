// Fixtures of the upload tests above the backup suite (API, browser): a real PostgreSQL with a
// source database, its Odoo database-manager zip, and new instances as the platform's first start
// leaves them, restored into by PgUploadRestorer.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import type { PgConnection } from "../../backup/config";
import { PgUploadRestorer } from "../../automation/upload-restorer";
import type { PostgresServer } from "../../local/local-postgres";
import { createFilestore, createFixtureDatabase, filestoreDigest, fingerprint } from "../backup/helpers";
import { copyTree, odooManifest, writeOdooZip, writeZip } from "./upload-zips";

export const UPLOAD_ROLE = { user: "tenant_role", password: "tenant-role-pw" };

// An Odoo database as components/odoo-init leaves it: base installed, the administrator set, the
// marker written; nobody signed in since.
export const FRESH_ODOO_SQL = `
CREATE TABLE ir_config_parameter (id serial PRIMARY KEY, key varchar NOT NULL UNIQUE, value text NOT NULL, write_date timestamp);
CREATE TABLE res_partner (id serial PRIMARY KEY, name varchar, write_date timestamp);
CREATE TABLE res_users (id serial PRIMARY KEY, login varchar NOT NULL, partner_id int, write_date timestamp);
CREATE TABLE res_users_log (id serial PRIMARY KEY, create_uid int, create_date timestamp, write_date timestamp);
CREATE TABLE res_users_apikeys (id serial PRIMARY KEY, user_id int, name varchar);
INSERT INTO ir_config_parameter (key, value, write_date) VALUES
  ('database.uuid', 'c0ffee', (now() AT TIME ZONE 'utc') - interval '2 hours'),
  ('odoo_saas.admin_initialised', '1', (now() AT TIME ZONE 'utc') - interval '1 hour');
INSERT INTO res_partner (name, write_date) VALUES ('My Company', (now() AT TIME ZONE 'utc') - interval '2 hours'), ('admin@example.com', (now() AT TIME ZONE 'utc') - interval '1 hour');
INSERT INTO res_users (login, partner_id, write_date) VALUES ('__system__', 1, (now() AT TIME ZONE 'utc') - interval '2 hours'), ('admin@example.com', 2, (now() AT TIME ZONE 'utc') - interval '1 hour');
`;

/** Everything of a fresh instance a refused upload must leave as it was. */
export const FRESH_FINGERPRINT_SQL = `
SELECT string_agg(key || '=' || value, ',' ORDER BY id) FROM ir_config_parameter;
SELECT string_agg(name || '@' || write_date, ',' ORDER BY id) FROM res_partner;
SELECT string_agg(login, ',' ORDER BY id) FROM res_users;
SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'public';
`;

export interface UploadWorld {
  /** Odoo database-manager zip of the source (17.0). */
  odooZip: string;
  /** The same with `\!` in dump.sql, and one of Odoo 16.0. */
  shellZip: string;
  oldVersionZip: string;
  sourceFingerprint: string;
  sourceFiles: Record<string, string>;
  filestoreOf(tenant: string): string;
  /** A new instance for `tenant`: the fresh Odoo database and one asset file. */
  freshInstance(tenant: string): void;
  restorer: PgUploadRestorer;
}

/** `major`: the Odoo series the good zip says it was made by (instances must run the same). */
export async function uploadWorld(pg: PostgresServer, work: string, major: "17.0" | "18.0" = "17.0"): Promise<UploadWorld> {
  pg.sql("postgres", `CREATE ROLE :"user" LOGIN CREATEDB PASSWORD :'password';`, UPLOAD_ROLE);
  createFixtureDatabase(pg, "upload_source", UPLOAD_ROLE);
  const sourceDir = path.join(work, "source-files");
  createFilestore(sourceDir);
  const dumpDir = path.join(work, "odoo-dump");
  copyTree(sourceDir, path.join(dumpDir, "filestore"));
  fs.writeFileSync(path.join(dumpDir, "manifest.json"), odooManifest(major, "upload_source"));
  const dump = spawnSync(path.join(pg.binDir, "pg_dump"), ["--no-owner", "--file", path.join(dumpDir, "dump.sql")], {
    env: { ...pg.env, PGUSER: UPLOAD_ROLE.user, PGPASSWORD: UPLOAD_ROLE.password, PGDATABASE: "upload_source" }, encoding: "utf8",
  });
  if (dump.status !== 0) throw new Error(`pg_dump failed: ${dump.stderr}`);
  const odooZip = writeOdooZip(dumpDir, path.join(work, "my-odoo-backup.zip"));
  const plain = "SET client_encoding = 'UTF8';\nSET standard_conforming_strings = on;\nCREATE TABLE public.planted (a text);\n";
  const shellZip = await writeZip(path.join(work, "shell.zip"), [
    { name: "dump.sql", data: `${plain}\\! touch ${path.join(work, "shell-ran")}\n` },
    { name: "manifest.json", data: odooManifest(major, "evil") },
  ]);
  const oldManifest = JSON.stringify({ ...(JSON.parse(odooManifest("17.0", "old")) as object), version: "16.0-20231010", major_version: "16.0" });
  const oldVersionZip = await writeZip(path.join(work, "odoo16.zip"), [{ name: "dump.sql", data: plain }, { name: "manifest.json", data: oldManifest }]);
  const filestoreRoot = path.join(work, "filestore");
  const filestoreOf = (tenant: string) => path.join(filestoreRoot, tenant);
  const conn = (database: string): PgConnection => ({
    host: pg.env.PGHOST, port: Number(pg.env.PGPORT), user: UPLOAD_ROLE.user, password: UPLOAD_ROLE.password,
    database, maintenanceDatabase: "postgres", binDir: pg.binDir, passThrough: {},
  });
  return {
    odooZip, shellZip, oldVersionZip,
    sourceFingerprint: fingerprint(pg, "upload_source"),
    sourceFiles: filestoreDigest(sourceDir),
    filestoreOf,
    freshInstance(tenant) {
      pg.sql("postgres", `CREATE DATABASE :"name" TEMPLATE template0 OWNER :"owner";`, { name: tenant, owner: UPLOAD_ROLE.user });
      pg.sql(tenant, FRESH_ODOO_SQL, {}, UPLOAD_ROLE);
      fs.mkdirSync(path.join(filestoreOf(tenant), "9a"), { recursive: true });
      fs.writeFileSync(path.join(filestoreOf(tenant), "9a", "9a0b1c"), "web assets of a fresh Odoo");
    },
    restorer: new PgUploadRestorer((tenant) => ({ pg: conn(tenant), filestoreDir: filestoreOf(tenant) })),
  };
}

// Fixtures shared by the backup tests: a database with the kinds of data Odoo keeps, a filestore
// folder, fingerprints to compare them before and after, and a runner for the compiled CLI.
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PostgresServer } from "../../local/local-postgres";

export const CLI = path.resolve(__dirname, "../../backup/cli.js");

export function tempDir(label: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `odoo-saas-${label}-`));
}

// Odoo-like content: numeric, unicode text, bytea, jsonb, timestamps, sequences advanced past 1,
// an index, a module table, and large objects.
export const FIXTURE_SQL = `
CREATE TABLE ir_module_module (id serial PRIMARY KEY, name varchar NOT NULL, latest_version varchar, state varchar);
INSERT INTO ir_module_module (name, latest_version, state) VALUES ('base', '17.0.1.3', 'installed'), ('sale', '17.0.1.2', 'installed'), ('crm', NULL, 'uninstalled');
CREATE TABLE res_partner (
  id serial PRIMARY KEY,
  name text NOT NULL,
  balance numeric(16,4),
  meta jsonb,
  avatar bytea,
  created timestamptz NOT NULL DEFAULT '2024-01-02 03:04:05.678+00',
  birthday date
);
CREATE TABLE account_move (
  id bigserial PRIMARY KEY,
  partner_id integer REFERENCES res_partner(id),
  amount numeric,
  note text,
  posted_at timestamp
);
CREATE INDEX account_move_partner_idx ON account_move (partner_id, posted_at);
CREATE SEQUENCE ir_sequence_007 INCREMENT 7 START 100;
INSERT INTO res_partner (name, balance, meta, avatar, birthday)
  SELECT 'Ünïcødé partner ' || g || ' 日本語 🚀 ''single'' "double" \\ back',
         g * 12.3456,
         jsonb_build_object('n', g, 'tags', jsonb_build_array('α', 'ß', g % 3 = 0), 'nested', jsonb_build_object('k', null)),
         decode(md5(g::text), 'hex') || '\\x00ff00'::bytea,
         date '1970-01-01' + g
  FROM generate_series(1, 1500) AS g;
INSERT INTO account_move (partner_id, amount, note, posted_at)
  SELECT 1 + (g % 1500), (g * 3.14159)::numeric(20,5), repeat('line ' || g || E'\\t', g % 5), timestamp '2023-06-01 12:00:00' + g * interval '37 minutes'
  FROM generate_series(1, 4000) AS g;
SELECT nextval('ir_sequence_007') FROM generate_series(1, 5);
SELECT pg_catalog.lo_from_bytea(0, convert_to(repeat('large object ' || g || ' ', 2000), 'UTF8')) FROM generate_series(1, 3) AS g;
SELECT pg_catalog.lo_from_bytea(0, decode(repeat('00ff7f80', 40000), 'hex'));
`;

/** Everything a restore must bring back, as one comparable text. */
export const FINGERPRINT_SQL = `
SELECT 'res_partner ' || count(*) || ' ' || md5(coalesce(string_agg(t::text, E'\\n' ORDER BY id), '')) FROM res_partner t;
SELECT 'account_move ' || count(*) || ' ' || md5(coalesce(string_agg(t::text, E'\\n' ORDER BY id), '')) FROM account_move t;
SELECT 'ir_module_module ' || md5(coalesce(string_agg(t::text, E'\\n' ORDER BY id), '')) FROM ir_module_module t;
SELECT 'seq ir_sequence_007 ' || last_value || ' ' || is_called FROM ir_sequence_007;
SELECT 'seq res_partner_id_seq ' || last_value || ' ' || is_called FROM res_partner_id_seq;
SELECT 'seq account_move_id_seq ' || last_value || ' ' || is_called FROM account_move_id_seq;
SELECT 'large objects ' || string_agg(oid::text || '=' || md5(pg_catalog.lo_get(oid)), ',' ORDER BY oid) FROM pg_catalog.pg_largeobject_metadata;
SELECT 'indexes ' || string_agg(indexname || ':' || indexdef, ',' ORDER BY indexname) FROM pg_indexes WHERE schemaname = 'public';
`;

// An Odoo database as the platform's first start leaves it (components/odoo-init): base
// installed, administrator set, the marker written; nobody signed in since.
export const FRESH_ODOO_SQL = `
CREATE TABLE ir_config_parameter (id serial PRIMARY KEY, key varchar NOT NULL UNIQUE, value text NOT NULL, write_date timestamp);
CREATE TABLE res_partner (id serial PRIMARY KEY, name varchar, write_date timestamp);
CREATE TABLE res_users (id serial PRIMARY KEY, login varchar NOT NULL, partner_id int, write_date timestamp);
CREATE TABLE res_users_log (id serial PRIMARY KEY, create_uid int, create_date timestamp, write_date timestamp);
CREATE TABLE res_users_apikeys (id serial PRIMARY KEY, user_id int, name varchar);
INSERT INTO ir_config_parameter (key, value, write_date) VALUES
  ('database.uuid', 'c0ffee', (now() AT TIME ZONE 'utc') - interval '2 hours'),
  ('odoo_saas.admin_initialised', '1', (now() AT TIME ZONE 'utc') - interval '1 hour');
INSERT INTO res_partner (name, write_date) VALUES ('My Company', (now() AT TIME ZONE 'utc') - interval '2 hours'), ('admin@acme.test', (now() AT TIME ZONE 'utc') - interval '1 hour');
INSERT INTO res_users (login, partner_id, write_date) VALUES ('__system__', 1, (now() AT TIME ZONE 'utc') - interval '2 hours'), ('admin@acme.test', 2, (now() AT TIME ZONE 'utc') - interval '1 hour');
`;
export const FRESH_FINGERPRINT_SQL = `
SELECT string_agg(key || '=' || value, ',' ORDER BY id) FROM ir_config_parameter;
SELECT string_agg(name || '@' || write_date, ',' ORDER BY id) FROM res_partner;
SELECT string_agg(login, ',' ORDER BY id) FROM res_users;
SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'public';
`;

export function createFixtureDatabase(pg: PostgresServer, name: string, owner?: { user: string; password: string }): void {
  pg.sql("postgres", `CREATE DATABASE :"name" TEMPLATE template0${owner ? ` OWNER :"owner"` : ""};`, { name, ...(owner ? { owner: owner.user } : {}) });
  pg.sql(name, FIXTURE_SQL, {}, owner);
}

export function fingerprint(pg: PostgresServer, database: string): string {
  return pg.sql(database, FINGERPRINT_SQL);
}

export function databaseNames(pg: PostgresServer): string[] {
  return pg.sql("postgres", "SELECT datname FROM pg_database ORDER BY 1;").split("\n").filter(Boolean);
}

/** Nested Odoo-style filestore (`ab/abcdef...`): binary files of mixed sizes and one empty file. */
export function createFilestore(dir: string): void {
  const files: [string, Buffer][] = [
    ["00/00a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f809", randomBytes(150_000)],
    ["00/00ffee", Buffer.alloc(0)],
    ["3f/3f9e8d7c6b5a49382716a5b4c3d2e1f0a9b8c7d6", Buffer.from("plain text attachment, ünïcødé ✓\n".repeat(500))],
    ["a7/a7deadbeef", randomBytes(1_300_000)],
    ["a7/nested/deeper/file.bin", randomBytes(4096)],
    ["checklist/a7/a7deadbeef", Buffer.from("")],
  ];
  for (const [relative, content] of files) {
    fs.mkdirSync(path.dirname(path.join(dir, relative)), { recursive: true });
    fs.writeFileSync(path.join(dir, relative), content);
  }
}

/** relative path -> sha256 of every regular file below `dir`. */
export function filestoreDigest(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string, prefix: string) => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(path.join(d, entry.name), rel);
      else out[rel] = createHash("sha256").update(fs.readFileSync(path.join(d, entry.name))).digest("hex");
    }
  };
  if (fs.existsSync(dir)) walk(dir, "");
  return out;
}

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], env: Record<string, string>): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? "", ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

/** The error a promise rejects with; fails the test when it resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error("expected a rejection, but the promise resolved");
}

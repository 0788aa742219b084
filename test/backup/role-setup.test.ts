// The role set-up of a tenant's PostgreSQL (components/postgres-roles/setup-roles.sql, the file the
// pod's init container runs) against a real PostgreSQL 15: a volume initialised the OLD way
// (bootstrap superuser `odoo`, Odoo's objects made by it) is moved over in place, with its data
// unchanged; a fresh volume ends the same; a second run changes nothing.
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as path from "node:path";
import { tenantNames } from "../../components/naming";
import { startPostgres, type PostgresServer } from "../../local/local-postgres";
import { connectAs, notOwnedBy, outcomeAs, runRoleSetup, tenantRoleSettings, type Login } from "../support/role-setup";
import { databaseNames, FINGERPRINT_SQL, FIXTURE_SQL, fingerprint } from "./helpers";

const names = tenantNames("acme");
const DB = names.database;

// What else Odoo (or a module) may have made while it connected as the superuser.
const ODOO_ERA_SQL = `
CREATE VIEW partner_names AS SELECT id, name FROM res_partner;
CREATE MATERIALIZED VIEW partner_count AS SELECT count(*) AS n FROM res_partner;
CREATE FUNCTION partner_label(integer) RETURNS text LANGUAGE sql AS 'SELECT name FROM res_partner WHERE id = $1';
CREATE TYPE move_state AS ENUM ('draft', 'posted');
CREATE DOMAIN positive_amount AS numeric CHECK (VALUE >= 0);
CREATE TABLE ident (id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY, state move_state);
CREATE SCHEMA reporting;
CREATE TABLE reporting.snapshot (id serial PRIMARY KEY, taken timestamptz DEFAULT now());
CREATE EXTENSION pg_trgm;
`;
const ROLE_FACTS_SQL = `
SELECT rolname, rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls, rolcanlogin,
  (SELECT count(*) FROM pg_auth_members WHERE member = r.oid) AS memberships,
  pg_has_role(r.oid, 'pg_read_server_files', 'USAGE') OR pg_has_role(r.oid, 'pg_write_server_files', 'USAGE')
    OR pg_has_role(r.oid, 'pg_execute_server_program', 'USAGE') AS server_file_roles
FROM pg_roles r WHERE rolname = :'role';
`;
// One line per role: name, then the attributes as t/f, the number of memberships, t/f for the three roles.
const APP_FACTS = `${names.dbUser}|f|f|t|f|f|t|0|f`;

describe("role set-up of a tenant's PostgreSQL (setup-roles.sql, real PostgreSQL 15)", function () {
  this.timeout(180_000);

  describe("an existing tenant, initialised the old way (POSTGRES_USER=odoo, Odoo connected as it)", () => {
    let pg: PostgresServer;
    let oldPassword: string;
    let original: string;
    const superuserPassword = `su-${randomBytes(16).toString("hex")}`;
    const app = (): Login => ({ user: names.dbUser, password: oldPassword });

    before(async () => {
      pg = await startPostgres({ superuser: names.dbSuperuser });
      // Before the split, the `db` Secret's password was the superuser's; it stays the app's now.
      oldPassword = pg.env.PGPASSWORD;
      pg.sql("postgres", 'CREATE DATABASE :"db";', { db: DB }); // the image's POSTGRES_DB
      pg.sql(DB, FIXTURE_SQL + ODOO_ERA_SQL);
      // A database kept by an earlier restore (RESTORE_KEEP_PREVIOUS), also the superuser's.
      pg.sql("postgres", 'CREATE DATABASE :"db";', { db: `${DB}_pre_restore_20261101T000000Z` });
      original = fingerprint(pg, DB);
      expect(notOwnedBy(pg, DB, names.dbUser).length).to.be.greaterThan(20);
    });
    after(async () => pg?.stop());

    it("moves the database and every object in it to the application role, data unchanged", async () => {
      const r = runRoleSetup(pg, tenantRoleSettings("acme", oldPassword, superuserPassword));
      expect(r.status, r.stderr).to.equal(0);
      pg.env.PGPASSWORD = superuserPassword;
      expect(notOwnedBy(pg, DB, names.dbUser)).to.deep.equal([]);
      expect(pg.sql("postgres", "SELECT datname || ' ' || pg_get_userbyid(datdba) FROM pg_database WHERE datname LIKE 'acme%' ORDER BY 1;").trim().split("\n"))
        .to.deep.equal([`${DB} ${names.dbUser}`, `${DB}_pre_restore_20261101T000000Z ${names.dbUser}`]);
      // Read back as the application role itself: every row, sequence, large object and index.
      expect(fingerprintAs(pg, app())).to.equal(original);
    });

    it("leaves the application role no superuser, no CREATEROLE, and no server-file or program role", () => {
      expect(pg.sql("postgres", ROLE_FACTS_SQL, { role: names.dbUser }).trim()).to.equal(APP_FACTS);
      expect(pg.sql("postgres", "SELECT rolsuper FROM pg_roles WHERE rolname = 'odoo';").trim()).to.equal("t");
    });

    it("gives the superuser its own password: the old one now opens the application role only", async () => {
      const refused = await connectAs(pg, "postgres", { user: names.dbSuperuser, password: oldPassword }).then(
        async (c) => { await c.end(); return "connected"; },
        (err: { code?: string }) => err.code,
      );
      expect(refused).to.equal("28P01"); // invalid_password
      expect((await outcomeAs(pg, "postgres", { user: names.dbSuperuser, password: superuserPassword }, "SELECT 1")).code).to.equal("ok");
      expect((await outcomeAs(pg, DB, app(), "SELECT count(*) FROM res_partner")).code).to.equal("ok");
    });

    it("lets the application role do Odoo's, the backups' and the restores' work", async () => {
      for (const sql of [
        "ALTER TABLE res_partner ADD COLUMN vat text; ALTER TABLE res_partner DROP COLUMN vat;",
        "CREATE TABLE sale_order (id serial PRIMARY KEY); INSERT INTO sale_order DEFAULT VALUES; DROP TABLE sale_order;",
        "REFRESH MATERIALIZED VIEW partner_count; SELECT setval('ir_sequence_007', 500); SELECT setval('ir_sequence_007', 128);",
        "SELECT lo_unlink(lo_from_bytea(0, 'x'::bytea)); CREATE EXTENSION IF NOT EXISTS unaccent; DROP EXTENSION unaccent;",
      ]) {
        expect(await outcomeAs(pg, DB, app(), sql), sql).to.deep.equal({ code: "ok", message: "" });
      }
      expect(fingerprintAs(pg, app())).to.equal(original);
      // The backup's dump, as the backup Job runs it (large objects included).
      const dump = spawnSync(path.join(pg.binDir, "pg_dump"), ["--format=plain", "--no-owner", "--no-privileges", "-b"], {
        env: { PATH: process.env.PATH ?? "", PGHOST: pg.env.PGHOST, PGPORT: pg.env.PGPORT, PGUSER: names.dbUser, PGPASSWORD: oldPassword, PGDATABASE: DB },
        encoding: "utf8", maxBuffer: 256 * 1024 * 1024,
      });
      expect(dump.status, dump.stderr).to.equal(0);
      expect(dump.stdout).to.contain("COPY public.res_partner").and.to.contain("lo_open");
      // A restore's scratch database, renamed and dropped (CREATEDB and ownership).
      for (const sql of ["CREATE DATABASE acme_upload_1 TEMPLATE template0", "ALTER DATABASE acme_upload_1 RENAME TO acme_upload_2", "DROP DATABASE acme_upload_2", `DROP DATABASE "${DB}_pre_restore_20261101T000000Z"`]) {
        expect(await outcomeAs(pg, "postgres", app(), sql), sql).to.deep.equal({ code: "ok", message: "" });
      }
    });

    it("changes nothing when run again (every start of the pod runs it)", () => {
      const databases = databaseNames(pg);
      const r = runRoleSetup(pg, tenantRoleSettings("acme", oldPassword, superuserPassword));
      expect(r.status, r.stderr).to.equal(0);
      // Only the statements that state the roles; no object, database or large object moved.
      expect(r.stdout.split("\n").filter((l) => /^(CREATE|ALTER (?!ROLE)|REVOKE)/.test(l))).to.deep.equal([]);
      expect(notOwnedBy(pg, DB, names.dbUser)).to.deep.equal([]);
      expect(pg.sql("postgres", ROLE_FACTS_SQL, { role: names.dbUser }).trim()).to.equal(APP_FACTS);
      expect(databaseNames(pg)).to.deep.equal(databases);
      expect(fingerprintAs(pg, app())).to.equal(original);
    });

    it("takes back what a role was given outside the set-up (memberships, attributes, settings)", () => {
      pg.sql("postgres", `GRANT pg_execute_server_program, pg_read_server_files TO :"role"; ALTER ROLE :"role" CREATEROLE; ALTER ROLE :"role" SET work_mem = '1GB';`, { role: names.dbUser });
      expect(pg.sql("postgres", ROLE_FACTS_SQL, { role: names.dbUser }).trim()).to.not.equal(APP_FACTS);
      const r = runRoleSetup(pg, tenantRoleSettings("acme", oldPassword, superuserPassword));
      expect(r.status, r.stderr).to.equal(0);
      expect(pg.sql("postgres", ROLE_FACTS_SQL, { role: names.dbUser }).trim()).to.equal(APP_FACTS);
      expect(pg.sql("postgres", "SELECT count(*) FROM pg_db_role_setting WHERE setrole = :'role'::regrole;", { role: names.dbUser }).trim()).to.equal("0");
    });
  });

  describe("a fresh volume", () => {
    let pg: PostgresServer;
    const appPassword = randomBytes(16).toString("hex");
    before(async () => {
      pg = await startPostgres({ superuser: names.dbSuperuser });
      pg.sql("postgres", 'CREATE DATABASE :"db";', { db: DB });
    });
    after(async () => pg?.stop());

    it("ends with the same roles, and what Odoo then creates is the application role's", async () => {
      const r = runRoleSetup(pg, tenantRoleSettings("acme", appPassword));
      expect(r.status, r.stderr).to.equal(0);
      expect(pg.sql("postgres", ROLE_FACTS_SQL, { role: names.dbUser }).trim()).to.equal(APP_FACTS);
      pg.sql(DB, FIXTURE_SQL, {}, { user: names.dbUser, password: appPassword });
      expect(notOwnedBy(pg, DB, names.dbUser)).to.deep.equal([]);
    });

    it("refuses, changing nothing, without its settings or when not run by a superuser", () => {
      const missing = runRoleSetup(pg, { ...tenantRoleSettings("acme", appPassword), database: "" });
      expect(missing.status).to.not.equal(0);
      expect(missing.stderr).to.contain("ODOO_SAAS_DATABASE must be set");
      const asApp = runRoleSetup(pg, tenantRoleSettings("acme", appPassword), { user: names.dbUser, password: appPassword });
      expect(asApp.status).to.not.equal(0);
      expect(asApp.stderr).to.contain("must run as a superuser");
      const weak = runRoleSetup(pg, tenantRoleSettings("acme", "short"));
      expect(weak.status).to.not.equal(0);
      expect(weak.stderr).to.contain("shorter than 16 characters");
      // The role still opens with its password, unchanged by the refused runs.
      expect(pg.sql(DB, "SELECT current_user;", {}, { user: names.dbUser, password: appPassword }).trim()).to.equal(names.dbUser);
    });
  });
});

/** The helpers' fingerprint, read as the application role instead of the superuser. */
function fingerprintAs(pg: PostgresServer, login: Login): string {
  return pg.sql(DB, FINGERPRINT_SQL, {}, login);
}

// Statements that run programs or read files on the database server, in an uploaded dump, against
// a real PostgreSQL 15 set up as a tenant's is (bootstrap superuser `odoo`, the role set-up of
// components/postgres-roles, Odoo's data owned by the application role). The SQL checks of
// backup/import let each of them through; the role is what stops them:
// - through the upload restore path (restoreUpload, as the application role): refused as
//   load_failed with PostgreSQL's "permission denied", the instance exactly as before;
// - straight from the application role, without the checks: SQLSTATE 42501 for each;
// - and a marker file their program would touch never appears. The same statement run by the
//   superuser does touch it, so the marker can tell.
import { expect } from "chai";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { UploadLimits, UploadRefusedError } from "../../backup/import/check-upload";
import { restoreUpload } from "../../backup/import/restore-upload";
import type { PgConnection } from "../../backup/config";
import { tenantNames } from "../../components/naming";
import { startPostgres, type PostgresServer } from "../../local/local-postgres";
import { outcomeAs, runRoleSetup, tenantRoleSettings, type Login } from "../support/role-setup";
import { HEADER, HOSTILE, type Hostile } from "../support/hostile-dumps";
import { odooManifest, writeZip } from "../support/upload-zips";
import { databaseNames, filestoreDigest, FRESH_FINGERPRINT_SQL, FRESH_ODOO_SQL, rejectionOf, tempDir } from "./helpers";

const names = tenantNames("acme");
const LIMITS: UploadLimits = { maxDumpBytes: 64 * 1024 * 1024, maxFilestoreBytes: 64 * 1024 * 1024, maxEntries: 1000, maxCompressionRatio: 200, odooMajor: "17.0" };
describe("hostile SQL in an uploaded dump, against a tenant's roles (real PostgreSQL 15)", function () {
  this.timeout(180_000);
  let pg: PostgresServer;
  let work: string;
  let markers: string;
  let filestoreRoot: string;
  const appPassword = randomBytes(16).toString("hex");
  const app: Login = { user: names.dbUser, password: appPassword };
  let n = 0;

  const conn = (database: string): PgConnection => ({
    host: pg.env.PGHOST, port: Number(pg.env.PGPORT), user: app.user, password: app.password,
    database, maintenanceDatabase: "postgres", binDir: pg.binDir, passThrough: {},
  });
  const markerFor = (name: string) => path.join(markers, name);
  const withMarker = (sql: string, marker: string) => sql.replace(/MARKER/g, marker);

  /** A new instance as the platform leaves it: database owned by the application role, Odoo's first start done. */
  function freshInstance(): string {
    const db = `inst${++n}`;
    pg.sql("postgres", 'CREATE DATABASE :"db" TEMPLATE template0 OWNER :"owner";', { db, owner: app.user });
    pg.sql(db, FRESH_ODOO_SQL, {}, app);
    fs.mkdirSync(path.join(filestoreRoot, db, "9a"), { recursive: true });
    fs.writeFileSync(path.join(filestoreRoot, db, "9a", "9a0b1c"), "web assets of a fresh Odoo");
    return db;
  }
  const snapshot = (db: string) => ({
    data: pg.sql(db, FRESH_FINGERPRINT_SQL),
    databases: databaseNames(pg),
    files: filestoreDigest(path.join(filestoreRoot, db)),
    roles: pg.sql("postgres", "SELECT string_agg(rolname || ':' || rolsuper, ',' ORDER BY rolname) FROM pg_roles WHERE rolname !~ '^pg_';"),
    memberships: pg.sql("postgres", "SELECT count(*) FROM pg_auth_members WHERE member = :'role'::regrole;", { role: app.user }),
    eventTriggers: pg.sql("postgres", "SELECT count(*) FROM pg_event_trigger;") + pg.sql(db, "SELECT count(*) FROM pg_event_trigger;"),
  });

  before(async () => {
    pg = await startPostgres({ superuser: names.dbSuperuser });
    const setup = runRoleSetup(pg, tenantRoleSettings("acme", appPassword));
    expect(setup.status, setup.stderr).to.equal(0);
    work = tempDir("hostile-sql");
    filestoreRoot = path.join(work, "filestore");
    // The server runs as its own OS user: the marker folder must be writable by it, or a
    // marker that never appears would prove nothing (the superuser control below checks that).
    markers = path.join(work, "markers");
    fs.mkdirSync(markers, { mode: 0o777 });
    fs.chmodSync(work, 0o755);
    fs.chmodSync(markers, 0o777);
  });
  after(async () => {
    await pg?.stop();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it("control: run by the superuser, the function's COPY ... TO PROGRAM does touch its marker", async () => {
    const marker = markerFor("superuser-control");
    pg.sql("postgres", "CREATE DATABASE control;");
    const superuser: Login = { user: pg.env.PGUSER, password: pg.env.PGPASSWORD };
    const outcome = await outcomeAs(pg, "control", superuser, withMarker(HEADER + (HOSTILE[0] as Hostile).sql, marker));
    expect(outcome).to.deep.equal({ code: "ok", message: "" });
    expect(fs.existsSync(marker)).to.equal(true);
  });

  describe("through the upload restore path (restoreUpload as the application role)", () => {
    for (const [i, hostile] of HOSTILE.entries()) {
      it(`${hostile.title}: permission denied, nothing ran, the instance as before`, async () => {
        const marker = markerFor(`upload-${i}`);
        const zip = await writeZip(path.join(work, `hostile-${i}.zip`), [
          { name: "dump.sql", data: withMarker(HEADER + hostile.sql, marker) },
          { name: "manifest.json", data: odooManifest("17.0", "evil") },
          { name: "filestore/ab/abcdef", data: "an attachment" },
        ]);
        const db = freshInstance();
        const before = snapshot(db);
        const err = await rejectionOf(restoreUpload(zip, { pg: conn(db), filestoreDir: path.join(filestoreRoot, db), limits: LIMITS }));
        if (!(err instanceof UploadRefusedError)) throw err;
        // The checks let it through; PostgreSQL refused it to the role.
        expect(err.code, err.message).to.equal("load_failed");
        expect(err.message).to.match(hostile.refusal);
        expect(snapshot(db)).to.deep.equal(before);
        expect(fs.existsSync(marker)).to.equal(false);
      });
    }
  });

  describe("straight from the application role, without the dump checks", () => {
    for (const [i, hostile] of HOSTILE.entries()) {
      it(`${hostile.title}: SQLSTATE 42501, nothing ran, the data as before`, async () => {
        const marker = markerFor(`direct-${i}`);
        const db = freshInstance();
        const before = snapshot(db);
        const outcome = await outcomeAs(pg, db, app, withMarker(HEADER + hostile.sql, marker));
        expect(outcome.code, outcome.message).to.equal("42501");
        expect(outcome.message).to.match(hostile.refusal);
        expect(snapshot(db)).to.deep.equal(before);
        expect(fs.existsSync(marker)).to.equal(false);
      });
    }

    it("each statement alone, on the live database, is refused too", async () => {
      const db = freshInstance();
      const before = snapshot(db);
      for (const sql of [
        "COPY (SELECT 1) TO PROGRAM 'true'",
        "COPY public.res_partner FROM '/etc/passwd'",
        "COPY (SELECT 1) TO '/tmp/odoo-saas-never-written'",
        "SELECT pg_catalog.pg_ls_dir('/')",
        "SELECT pg_catalog.lo_export(0, '/tmp/odoo-saas-never-written')",
        "ALTER ROLE CURRENT_USER SUPERUSER",
        "ALTER ROLE CURRENT_USER CREATEROLE",
        "CREATE ROLE intruder LOGIN",
        "ALTER SYSTEM SET log_statement = 'none'",
        "LOAD 'auto_explain'",
        "CREATE EXTENSION adminpack",
      ]) {
        const outcome = await outcomeAs(pg, db, app, sql);
        expect(outcome.code, `${sql}: ${outcome.message}`).to.equal("42501");
      }
      expect(snapshot(db)).to.deep.equal(before);
      expect(fs.existsSync("/tmp/odoo-saas-never-written")).to.equal(false);
    });
  });
});

// An owner's uploaded database restored into their instance, against a real PostgreSQL (as a
// non-superuser role, as in the cluster): zips made by the project's own backup writer and by
// Odoo's database manager code are restored exactly; hostile zips, a dump PostgreSQL refuses and
// an instance in use are refused, and the instance's database, its data and its filestore are
// exactly as before (fingerprints of real rows, the database list, file digests).
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { UploadLimits, UploadRefusedError } from "../../backup/import/check-upload";
import { observeEmptiness } from "../../backup/import/emptiness";
import { restoreUpload, UploadRestorePhase } from "../../backup/import/restore-upload";
import { RestrictedSql } from "../../backup/import/restricted-sql";
import { PgConnection } from "../../backup/config";
import { loadSqlStream } from "../../backup/pg/psql";
import { runBackup } from "../../backup/run-backup";
import { PvcBackupStore } from "../../backup/store/pvc-store";
import { PostgresServer, startPostgres } from "../../local/local-postgres";
import { copyTree, deepName, odooManifest, writeOdooZip, writeZip, zipWithNames } from "../support/upload-zips";
import { CLI, createFilestore, createFixtureDatabase, databaseNames, filestoreDigest, fingerprint, FRESH_FINGERPRINT_SQL, FRESH_ODOO_SQL, rejectionOf, tempDir } from "./helpers";
import { Readable } from "node:stream";

const ROLE = { user: "acme", password: "acme-secret-pw" };

const LIMITS: UploadLimits = {
  maxDumpBytes: 256 * 1024 * 1024,
  maxFilestoreBytes: 256 * 1024 * 1024,
  maxEntries: 10_000,
  maxCompressionRatio: 200,
  odooMajor: "17.0",
};

describe("restoring an uploaded database (real PostgreSQL)", function () {
  this.timeout(180_000);
  let pg: PostgresServer;
  let work: string;
  let filestoreRoot: string;
  let ownZip: string;
  let odooZip: string;
  let sourceFingerprint: string;
  let sourceFiles: Record<string, string>;
  let n = 0;

  const conn = (database: string): PgConnection => ({
    host: pg.env.PGHOST, port: Number(pg.env.PGPORT), user: ROLE.user, password: ROLE.password,
    database, maintenanceDatabase: "postgres", binDir: pg.binDir, passThrough: {},
  });
  const filestoreOf = (db: string) => path.join(filestoreRoot, db);

  /** A new instance: the fresh Odoo database and a filestore with Odoo's first attachments. */
  function freshInstance(): string {
    const db = `inst${++n}`;
    pg.sql("postgres", `CREATE DATABASE :"name" TEMPLATE template0 OWNER :"owner";`, { name: db, owner: ROLE.user });
    pg.sql(db, FRESH_ODOO_SQL, {}, ROLE);
    fs.mkdirSync(path.join(filestoreOf(db), "9a"), { recursive: true });
    fs.writeFileSync(path.join(filestoreOf(db), "9a", "9a0b1c"), "web assets of a fresh Odoo");
    return db;
  }

  interface Snapshot { data: string; databases: string[]; files: Record<string, string>; folders: string[] }
  const snapshot = (db: string): Snapshot => ({
    data: pg.sql(db, FRESH_FINGERPRINT_SQL),
    databases: databaseNames(pg),
    files: filestoreDigest(filestoreOf(db)),
    folders: fs.readdirSync(filestoreRoot).sort(),
  });

  const restore = (zip: string, db: string, phases: UploadRestorePhase[] = [], limits: UploadLimits = LIMITS) =>
    restoreUpload(zip, { pg: conn(db), filestoreDir: filestoreOf(db), limits, onPhase: (p) => phases.push(p) });

  /** Restores `zip` into a fresh instance, expects the refusal `code`, and nothing changed. */
  async function refusedLeavingAsBefore(zip: string, code: string, limits: UploadLimits = LIMITS): Promise<UploadRefusedError> {
    const db = freshInstance();
    const before = snapshot(db);
    const err = await rejectionOf(restore(zip, db, [], limits));
    if (!(err instanceof UploadRefusedError)) throw err;
    expect(err.code, err.message).to.equal(code);
    expect(snapshot(db)).to.deep.equal(before);
    return err;
  }

  before(async () => {
    pg = await startPostgres();
    work = tempDir("upload-restore");
    filestoreRoot = path.join(work, "filestore");
    pg.sql("postgres", `CREATE ROLE :"user" LOGIN CREATEDB PASSWORD :'password';`, ROLE);

    // The source instance: Odoo-like data of every kind, and a nested filestore.
    createFixtureDatabase(pg, "source", ROLE);
    createFilestore(path.join(work, "source-files"));
    sourceFingerprint = fingerprint(pg, "source");
    sourceFiles = filestoreDigest(path.join(work, "source-files"));

    // 1. The project's own backup writer (runBackup -> writeBackupArchive), PVC store layout.
    const store = new PvcBackupStore(path.join(work, "backups"), "acme");
    const made = await runBackup(
      { tenant: "acme", kind: "on-demand", odooVersion: "17.0", pg: conn("source"), filestoreDir: path.join(work, "source-files"), compressionLevel: 1 },
      store,
    );
    ownZip = store.localPath(made.name);

    // 2. Odoo's database manager: pg_dump --no-owner to dump.sql, filestore/, manifest.json, zip_dir.
    const dumpDir = path.join(work, "odoo-dump");
    copyTree(path.join(work, "source-files"), path.join(dumpDir, "filestore"));
    fs.writeFileSync(path.join(dumpDir, "manifest.json"), odooManifest("17.0", "source"));
    const dump = spawnSync(path.join(pg.binDir, "pg_dump"), ["--no-owner", "--file", path.join(dumpDir, "dump.sql")], {
      env: { ...pg.env, PGUSER: ROLE.user, PGPASSWORD: ROLE.password, PGDATABASE: "source" }, encoding: "utf8",
    });
    expect(dump.status, dump.stderr).to.equal(0);
    odooZip = writeOdooZip(dumpDir, path.join(work, "odoo-manager.zip"));
  });

  after(async () => {
    await pg?.stop();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  describe("restored", () => {
    it("a zip from the project's own backup writer, into a new instance: rows, sequences, large objects and files exactly", async () => {
      const db = freshInstance();
      const phases: UploadRestorePhase[] = [];
      const result = await restore(ownZip, db, phases);
      expect(result.restricted).to.equal(true);
      expect(fingerprint(pg, db)).to.equal(sourceFingerprint);
      expect(filestoreDigest(filestoreOf(db))).to.deep.equal(sourceFiles);
      expect(phases).to.deep.equal(["checking", "checking-empty", "loading-database", "copying-files", "switching", "done"]);
      // No temporary database or folder is left, and the replaced (empty) one is gone.
      expect(databaseNames(pg).filter((d) => d.startsWith(db))).to.deep.equal([db]);
      expect(fs.readdirSync(filestoreRoot).filter((d) => d.includes(db))).to.deep.equal([db]);
      // What the dump created belongs to the instance's role, not to a superuser.
      expect(pg.sql(db, "SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public';").trim()).to.equal(ROLE.user);
    });

    it("a zip laid out exactly as Odoo's database manager writes it (zip_dir, Python's zipfile, pg_dump --no-owner)", async () => {
      const db = freshInstance();
      const result = await restore(odooZip, db);
      expect(result.check.odooMajor).to.equal("17.0");
      expect(result.check.filestoreFiles).to.equal(Object.keys(sourceFiles).length);
      expect(fingerprint(pg, db)).to.equal(sourceFingerprint);
      expect(filestoreDigest(filestoreOf(db))).to.deep.equal(sourceFiles);
    });

    it("into an instance whose database does not exist yet", async () => {
      const db = `inst${++n}`;
      await restore(odooZip, db);
      expect(fingerprint(pg, db)).to.equal(sourceFingerprint);
      expect(filestoreDigest(filestoreOf(db))).to.deep.equal(sourceFiles);
    });
  });

  describe("refused, leaving the instance exactly as it was", () => {
    let zips: string;
    const odooMembers = (dump: string, extra: { name: string; data?: string; mode?: number }[] = [], major: "17.0" | "18.0" = "17.0") => [
      { name: "dump.sql", data: dump },
      { name: "manifest.json", data: odooManifest(major, "evil") },
      { name: "filestore/ab/abcdef", data: "an attachment" },
      ...extra,
    ];
    const plainDump = "SET client_encoding = 'UTF8';\nSET standard_conforming_strings = on;\nCREATE TABLE public.planted (a text);\n";
    before(() => {
      zips = path.join(work, "hostile");
      fs.mkdirSync(zips);
    });

    it("path traversal (filestore/../../x)", async () => {
      const zip = await writeZip(path.join(zips, "traversal.zip"), odooMembers(plainDump, [{ name: "filestore/AA/AA/x", data: "evil" }]), [["filestore/AA/AA/x", "filestore/../../x"]]);
      await refusedLeavingAsBefore(zip, "path_traversal");
      expect(fs.existsSync(path.join(work, "x"))).to.equal(false);
    });

    it("a symbolic link", async () => {
      const zip = await writeZip(path.join(zips, "symlink.zip"), odooMembers(plainDump, [{ name: "filestore/ab/link", data: "/etc/passwd", mode: 0o120777 }]));
      await refusedLeavingAsBefore(zip, "symlink");
    });

    it("a zip bomb", async () => {
      const zip = await writeZip(path.join(zips, "bomb.zip"), odooMembers(plainDump, [{ name: "filestore/00/zeros", data: "\0".repeat(40 * 1024 * 1024) }]));
      await refusedLeavingAsBefore(zip, "zip_bomb");
    });

    it("\\! in dump.sql", async () => {
      const marker = path.join(work, "shell-ran");
      const zip = await writeZip(path.join(zips, "shell.zip"), odooMembers(`${plainDump}\\! touch ${marker}\n`));
      await refusedLeavingAsBefore(zip, "sql_meta_command");
      expect(fs.existsSync(marker)).to.equal(false);
    });

    it("a backup of another Odoo version", async () => {
      const zip = await writeZip(path.join(zips, "v18.zip"), odooMembers(plainDump, [], "18.0"));
      const err = await refusedLeavingAsBefore(zip, "version_mismatch");
      expect(err.message).to.include("Odoo 18.0").and.to.include("Odoo 17.0");
    });

    it("too big for the plan", async () => {
      await refusedLeavingAsBefore(odooZip, "dump_too_large", { ...LIMITS, maxDumpBytes: 100_000 });
      await refusedLeavingAsBefore(odooZip, "filestore_too_large", { ...LIMITS, maxFilestoreBytes: 100_000 });
    });

    it("a dump PostgreSQL refuses half-way: the scratch database is dropped, the live one untouched", async () => {
      const zip = await writeZip(path.join(zips, "broken.zip"), odooMembers(`${plainDump}INSERT INTO public.planted VALUES ('x');\nINSERT INTO public.missing VALUES (1);\n`));
      const err = await refusedLeavingAsBefore(zip, "load_failed");
      expect(err.message).to.equal('PostgreSQL could not load dump.sql: relation "public.missing" does not exist');
    });

    it("an instance in use: someone signed in, an API key, a contact changed, or not an Odoo database", async () => {
      for (const [use, why] of [
        ["INSERT INTO res_users_log (create_uid, create_date, write_date) VALUES (2, now(), now());", "signed in"],
        ["INSERT INTO res_users_apikeys (user_id, name) VALUES (2, 'ci');", "API keys"],
        ["UPDATE res_partner SET name = 'Acme Ltd', write_date = now() AT TIME ZONE 'utc' WHERE id = 1;", "changed after"],
        ["DELETE FROM ir_config_parameter WHERE key = 'odoo_saas.admin_initialised';", "not set up by this platform"],
        ["DROP TABLE res_users_log;", "not an Odoo database"],
      ] as const) {
        const db = freshInstance();
        pg.sql(db, use, {}, ROLE);
        const before = snapshot(db);
        const err = await rejectionOf(restore(odooZip, db));
        expect((err as UploadRefusedError).code, err.message).to.equal("instance_not_empty");
        expect(err.message).to.include(why);
        expect(snapshot(db)).to.deep.equal(before);
      }
    });

    it("the emptiness reading itself: a fresh Odoo, no database, no tables", async () => {
      const db = freshInstance();
      expect(await observeEmptiness(conn(db), db)).to.deep.equal({ empty: true, why: "Odoo as first set up: nobody has signed in and nothing was changed" });
      expect((await observeEmptiness(conn(db), "nowhere")).empty).to.equal(true);
      pg.sql("postgres", `CREATE DATABASE bare OWNER :"owner";`, { owner: ROLE.user });
      expect(await observeEmptiness(conn("bare"), "bare")).to.deep.equal({ empty: true, why: "the database has no tables" });
    });
  });

  describe("the in-cluster command (cli.js restore-upload ... -, the zip on stdin)", () => {
    const runRestoreUpload = (zip: string, db: string) => {
      const env = {
        PATH: process.env.PATH ?? "", PGHOST: pg.env.PGHOST, PGPORT: pg.env.PGPORT, PGUSER: ROLE.user, PGPASSWORD: ROLE.password,
        PGDATABASE: db, PG_BIN_DIR: pg.binDir, TENANT_ID: "acme", FILESTORE_DIR: filestoreOf(db), ODOO_VERSION: "17.0",
      };
      const limits = [`--max-dump-bytes=${LIMITS.maxDumpBytes}`, `--max-filestore-bytes=${LIMITS.maxFilestoreBytes}`, `--max-entries=${LIMITS.maxEntries}`, `--max-ratio=${LIMITS.maxCompressionRatio}`];
      return spawnSync(process.execPath, [CLI, "restore-upload", ...limits, "-"], { env, input: fs.readFileSync(zip), encoding: "utf8" });
    };

    it("restores from stdin, printing each phase, and leaves no file behind", () => {
      const db = freshInstance();
      const r = runRestoreUpload(odooZip, db);
      expect(r.status, r.stderr).to.equal(0);
      expect(r.stderr.split("\n").filter((l) => l.startsWith("phase: "))).to.deep.equal(
        ["checking", "checking-empty", "loading-database", "copying-files", "switching", "done"].map((p) => `phase: ${p}`));
      expect(r.stderr).to.not.include(ROLE.password);
      expect(fingerprint(pg, db)).to.equal(sourceFingerprint);
      expect(fs.readdirSync(filestoreRoot).filter((d) => d.startsWith(".upload-"))).to.deep.equal([]);
    });

    it("a refusal: exit 3, `refused <code>: <reason>` on stderr, the instance as before", () => {
      const db = freshInstance();
      pg.sql(db, "INSERT INTO res_users_log (create_uid, create_date, write_date) VALUES (2, now(), now());", {}, ROLE);
      const before = snapshot(db);
      const r = runRestoreUpload(odooZip, db);
      expect(r.status, r.stderr).to.equal(3);
      expect(r.stderr).to.match(/^refused instance_not_empty: a database can only be uploaded to a new or empty instance/m);
      expect(snapshot(db)).to.deep.equal(before);
    });

    it("the 256 KB zip of two 32,000-segment members: refused at once (exit 3, name_too_long), the instance as before", async () => {
      const [db, started] = [freshInstance(), Date.now()];
      const before = snapshot(db);
      const r = runRestoreUpload(await zipWithNames(path.join(work, "deep-names.zip"), [deepName(32_000), `${deepName(32_000).slice(0, -1)}b`]), db);
      expect([r.status, Date.now() - started < 10_000, snapshot(db)], r.stderr).to.deep.equal([3, true, before]);
      expect(r.stderr).to.match(/^refused name_too_long: member "filestore\/b\/a\/a/m);
    });
  });

  it("psql's \\restrict stops a meta-command even if the dump checks had let it through", async () => {
    const marker = path.join(work, "restricted-shell-ran");
    pg.sql("postgres", `CREATE DATABASE restricted OWNER :"owner";`, { owner: ROLE.user });
    const sql = Readable.from([Buffer.from(`\\restrict abc123\nCREATE TABLE t (a text);\n\\! touch ${marker}\nCREATE TABLE after_shell (a text);\n`)]);
    const err = await rejectionOf(loadSqlStream(conn("restricted"), "restricted", sql.pipe(new RestrictedSql())));
    expect(err.message).to.include("backslash commands are restricted");
    expect(fs.existsSync(marker)).to.equal(false);
    // The statement before ran, the one after did not (ON_ERROR_STOP).
    expect(pg.sql("restricted", "SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'public';").trim()).to.equal("t");
  });
});

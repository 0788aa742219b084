import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { PostgresServer, startPostgres } from "../../local/local-postgres";
import { createFilestore, createFixtureDatabase, databaseNames, filestoreDigest, fingerprint, runCli, tempDir } from "./helpers";

describe("backup round trip (real PostgreSQL, CLI, PVC store)", function () {
  this.timeout(180_000);
  let pg: PostgresServer;
  let work: string;
  let env: Record<string, string>;

  before(async () => {
    pg = await startPostgres();
    work = tempDir("roundtrip");
    createFixtureDatabase(pg, "acme_odoo");
    createFilestore(path.join(work, "odoo/filestore/acme_odoo"));
    env = {
      ...pg.env,
      PG_BIN_DIR: pg.binDir,
      TENANT_ID: "acme",
      ODOO_VERSION: "17.0",
      PGDATABASE: "acme_odoo",
      FILESTORE_DIR: path.join(work, "odoo/filestore/acme_odoo"),
      BACKUP_STORE: "pvc",
      BACKUP_DIR: path.join(work, "backups"),
      BACKUP_RETENTION_DAILY: "5",
    };
  });

  after(async () => {
    await pg?.stop();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it("restores database rows, sequences, large objects and filestore files exactly", async () => {
    const dbBefore = fingerprint(pg, "acme_odoo");
    const filesBefore = filestoreDigest(env.FILESTORE_DIR!);
    expect(dbBefore).to.match(/large objects \d+=/);
    expect(Object.keys(filesBefore)).to.have.length(6);

    const backup = await runCli(["backup"], env);
    expect(backup.status, backup.stderr).to.equal(0);
    const name = backup.stdout.trim();
    expect(name).to.match(/^acme-\d{8}T\d{6}Z-scheduled\.zip$/);
    expect(backup.stderr).to.match(/dump\.sql: .* done/);
    expect(fs.existsSync(path.join(env.BACKUP_DIR!, "acme", name))).to.equal(true);

    const list = await runCli(["list", "--json"], env);
    expect(list.status, list.stderr).to.equal(0);
    const listed = JSON.parse(list.stdout) as { tenant: string; backups: { name: string; status: string; size: number; kind: string }[] };
    expect(listed.tenant).to.equal("acme");
    expect(listed.backups.map((b) => [b.name, b.status, b.kind])).to.deep.equal([[name, "complete", "scheduled"]]);
    expect(listed.backups[0]!.size).to.be.greaterThan(1000);

    // Lose the database and damage the filestore.
    pg.sql("postgres", 'DROP DATABASE "acme_odoo";');
    fs.rmSync(path.join(env.FILESTORE_DIR!, "00"), { recursive: true });
    fs.writeFileSync(path.join(env.FILESTORE_DIR!, "a7/a7deadbeef"), "overwritten");
    fs.writeFileSync(path.join(env.FILESTORE_DIR!, "stray-file"), "not in the backup");

    const restore = await runCli(["restore", name], env);
    expect(restore.status, restore.stderr).to.equal(0);
    expect(fingerprint(pg, "acme_odoo")).to.equal(dbBefore);
    expect(filestoreDigest(env.FILESTORE_DIR!)).to.deep.equal(filesBefore);
    // No scratch database or folder is left behind.
    expect(databaseNames(pg).filter((d) => d.includes("restore"))).to.deep.equal([]);
    expect(fs.readdirSync(path.dirname(env.FILESTORE_DIR!))).to.deep.equal(["acme_odoo"]);
  });

  it("replaces a live database that still exists, dropping the previous one by default", async () => {
    const dbBefore = fingerprint(pg, "acme_odoo");
    const filesBefore = filestoreDigest(env.FILESTORE_DIR!);
    await new Promise((r) => setTimeout(r, 1100)); // names have one-second resolution
    const backup = await runCli(["backup", "--kind", "on-demand"], env);
    expect(backup.status, backup.stderr).to.equal(0);
    const name = backup.stdout.trim();
    expect(name).to.match(/-on-demand\.zip$/);

    pg.sql("acme_odoo", "DELETE FROM account_move WHERE id % 2 = 0; SELECT nextval('ir_sequence_007');");
    fs.writeFileSync(path.join(env.FILESTORE_DIR!, "3f/new-after-backup"), "x");
    expect(fingerprint(pg, "acme_odoo")).to.not.equal(dbBefore);

    const restore = await runCli(["restore", name], env);
    expect(restore.status, restore.stderr).to.equal(0);
    expect(fingerprint(pg, "acme_odoo")).to.equal(dbBefore);
    expect(filestoreDigest(env.FILESTORE_DIR!)).to.deep.equal(filesBefore);
    expect(databaseNames(pg).filter((d) => d.startsWith("acme_odoo"))).to.deep.equal(["acme_odoo"]);
  });

  it("keeps the previous database and filestore when RESTORE_KEEP_PREVIOUS=true", async () => {
    const list = JSON.parse((await runCli(["list", "--json"], env)).stdout) as { backups: { name: string }[] };
    expect(list.backups).to.have.length(2);
    const oldest = list.backups[1]!.name; // newest first
    pg.sql("acme_odoo", "UPDATE res_partner SET name = 'changed' WHERE id = 1;");
    const changed = fingerprint(pg, "acme_odoo");

    const restore = await runCli(["restore", oldest], { ...env, RESTORE_KEEP_PREVIOUS: "true" });
    expect(restore.status, restore.stderr).to.equal(0);
    const kept = databaseNames(pg).filter((d) => d.startsWith("acme_odoo_pre_restore_"));
    expect(kept).to.have.length(1);
    expect(fingerprint(pg, kept[0]!)).to.equal(changed);
    expect(fs.readdirSync(path.dirname(env.FILESTORE_DIR!)).sort()).to.deep.equal(["acme_odoo", kept[0]!]);
  });

  it("refuses an unknown backup name and a name outside the tenant's prefix", async () => {
    const missing = await runCli(["restore", "acme-20000101T000000Z-scheduled.zip"], env);
    expect(missing.status).to.equal(1);
    expect(missing.stderr).to.match(/not found/);
    const escape = await runCli(["restore", "../other/acme-20000101T000000Z-scheduled.zip"], env);
    expect(escape.status).to.equal(1);
    expect(escape.stderr).to.match(/refusing backup name/);
    const foreign = await runCli(["restore", "other-20000101T000000Z-scheduled.zip"], env);
    expect(foreign.status).to.equal(1);
    expect(foreign.stderr).to.match(/not a backup name of tenant acme/);
  });
});

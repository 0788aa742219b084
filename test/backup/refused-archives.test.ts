// A restore must refuse a damaged archive before touching anything, and any failure before the
// switch must leave the live database and filestore as they were, without scratch leftovers.
import { expect } from "chai";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as yauzl from "yauzl";
import { ZipFile } from "yazl";
import { formatBackupName } from "../../backup/backup-name";
import { BackupConfig, readBackupConfig, readRestoreConfig } from "../../backup/config";
import { restoreBackup } from "../../backup/restore/restore-backup";
import { runBackup } from "../../backup/run-backup";
import { PvcBackupStore } from "../../backup/store/pvc-store";
import { PostgresServer, startPostgres } from "../../local/local-postgres";
import { createFilestore, createFixtureDatabase, databaseNames, filestoreDigest, fingerprint, rejectionOf, runCli, tempDir } from "./helpers";

async function readEntries(file: string): Promise<{ name: string; data: Buffer }[]> {
  const zip = await yauzl.openPromise(file);
  const out: { name: string; data: Buffer }[] = [];
  for await (const entry of zip.eachEntry()) {
    const chunks: Buffer[] = [];
    for await (const chunk of await zip.openReadStreamPromise(entry)) chunks.push(chunk as Buffer);
    out.push({ name: entry.fileName, data: Buffer.concat(chunks) });
  }
  zip.close();
  return out;
}

async function writeZip(file: string, entries: { name: string; data: Buffer }[]): Promise<void> {
  const zip = new ZipFile();
  for (const e of entries) {
    if (e.name.endsWith("/")) zip.addEmptyDirectory(e.name);
    else zip.addBuffer(e.data, e.name);
  }
  zip.end();
  await new Promise<void>((resolve, reject) => {
    const out = fs.createWriteStream(file);
    zip.outputStream.pipe(out).on("finish", resolve).on("error", reject);
  });
}

/** Offset and length of a member's stored bytes inside the zip file. */
async function memberData(file: string, member: string): Promise<{ start: number; length: number }> {
  const zip = await yauzl.openPromise(file);
  try {
    for await (const entry of zip.eachEntry()) {
      if (entry.fileName !== member) continue;
      const header = await zip.readLocalFileHeaderPromise(entry, { minimal: true });
      return { start: header.fileDataStart, length: entry.compressedSize };
    }
  } finally {
    zip.close();
  }
  throw new Error(`${member} not found`);
}

describe("refused archives and failed restores leave the live tenant intact", function () {
  this.timeout(180_000);
  let pg: PostgresServer;
  let work: string;
  let env: Record<string, string>;
  let store: PvcBackupStore;
  let good: string;
  let config: BackupConfig;
  let liveDb: string;
  let liveFiles: Record<string, string>;
  let minute = 0;

  /** A new, valid backup name for a crafted archive. */
  function nextName(): string {
    minute += 1;
    return formatBackupName("acme", new Date(Date.UTC(2024, 0, 1, 0, minute)), "on-demand");
  }

  function assertUntouched(): void {
    expect(fingerprint(pg, "acme_db")).to.equal(liveDb);
    expect(filestoreDigest(env.FILESTORE_DIR!)).to.deep.equal(liveFiles);
    expect(databaseNames(pg).filter((d) => d !== "acme_db" && d.startsWith("acme_db"))).to.deep.equal([]);
    expect(fs.readdirSync(path.dirname(env.FILESTORE_DIR!))).to.deep.equal(["acme_db"]);
  }

  async function refusedByCli(name: string, message: RegExp): Promise<void> {
    const result = await runCli(["restore", name], env);
    expect(result.status, result.stderr).to.equal(1);
    expect(result.stderr).to.match(message);
    assertUntouched();
  }

  before(async () => {
    pg = await startPostgres();
    work = tempDir("refused");
    createFixtureDatabase(pg, "acme_db");
    createFilestore(path.join(work, "filestore/acme_db"));
    env = {
      ...pg.env,
      PG_BIN_DIR: pg.binDir,
      TENANT_ID: "acme",
      ODOO_VERSION: "17.0",
      PGDATABASE: "acme_db",
      FILESTORE_DIR: path.join(work, "filestore/acme_db"),
      BACKUP_DIR: path.join(work, "backups"),
    };
    config = readBackupConfig(env);
    store = new PvcBackupStore(env.BACKUP_DIR!, "acme");
    good = (await runBackup(config, store, { now: new Date("2023-12-31T00:00:00Z") })).name;
    // The live state differs from the backup, so an accidental restore would show.
    pg.sql("acme_db", "UPDATE res_partner SET name = 'live change' WHERE id < 10;");
    fs.writeFileSync(path.join(env.FILESTORE_DIR!, "3f/live-only"), "live");
    liveDb = fingerprint(pg, "acme_db");
    liveFiles = filestoreDigest(env.FILESTORE_DIR!);
  });

  after(async () => {
    await pg?.stop();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it("refuses an archive with flipped bytes in dump.sql", async () => {
    const name = nextName();
    const file = store.localPath(name);
    fs.copyFileSync(store.localPath(good), file);
    const { start, length } = await memberData(file, "dump.sql");
    const fd = fs.openSync(file, "r+");
    const bytes = Buffer.alloc(16);
    fs.readSync(fd, bytes, 0, 16, start + Math.floor(length / 2));
    for (let i = 0; i < bytes.length; i++) bytes[i] = bytes[i]! ^ 0x5a;
    fs.writeSync(fd, bytes, 0, 16, start + Math.floor(length / 2));
    fs.closeSync(fd);
    await refusedByCli(name, /dump\.sql (is damaged|does not match manifest\.json)/);
  });

  it("refuses an uncompressed archive whose dump.sql bytes were altered (checksum, not zlib, catches it)", async () => {
    const stored = { ...config, compressionLevel: 0 };
    const name = (await runBackup(stored, store, { now: new Date(Date.UTC(2023, 11, 30)) })).name;
    const { start, length } = await memberData(store.localPath(name), "dump.sql");
    const fd = fs.openSync(store.localPath(name), "r+");
    fs.writeSync(fd, Buffer.from("X"), 0, 1, start + Math.floor(length / 3));
    fs.closeSync(fd);
    await refusedByCli(name, /dump\.sql (is damaged|does not match manifest\.json)/);
  });

  it("refuses a truncated archive", async () => {
    const name = nextName();
    const whole = fs.readFileSync(store.localPath(good));
    fs.writeFileSync(store.localPath(name), whole.subarray(0, Math.floor(whole.length * 0.6)));
    await refusedByCli(name, /not a readable zip archive \(truncated or damaged\?\)/);
  });

  it("refuses a re-zipped archive whose dump.sql was edited but whose manifest was not", async () => {
    const name = nextName();
    const entries = await readEntries(store.localPath(good));
    for (const e of entries) if (e.name === "dump.sql") e.data = Buffer.concat([e.data, Buffer.from("\nDROP TABLE res_partner CASCADE;\n")]);
    await writeZip(store.localPath(name), entries);
    await refusedByCli(name, /dump\.sql does not match manifest\.json/);
  });

  it("refuses an archive with a filestore file missing, or an extra one", async () => {
    const entries = await readEntries(store.localPath(good));
    const missing = nextName();
    await writeZip(store.localPath(missing), entries.filter((e) => e.name !== "filestore/a7/a7deadbeef"));
    await refusedByCli(missing, /filestore\/a7\/a7deadbeef is listed in manifest\.json but missing/);
    const extra = nextName();
    await writeZip(store.localPath(extra), [...entries, { name: "filestore/zz/smuggled", data: Buffer.from("x") }]);
    await refusedByCli(extra, /"filestore\/zz\/smuggled" is not listed in manifest\.json/);
  });

  it("refuses another tenant's archive", async () => {
    const name = nextName();
    const entries = await readEntries(store.localPath(good));
    for (const e of entries) {
      if (e.name === "manifest.json") e.data = Buffer.from(JSON.stringify({ ...JSON.parse(e.data.toString()), tenant: "globex" }));
    }
    await writeZip(store.localPath(name), entries);
    await refusedByCli(name, /belongs to tenant "globex", not "acme"/);
  });

  it("a dump that fails to load (valid checksums) drops the scratch database and changes nothing", async () => {
    const name = nextName();
    const entries = await readEntries(store.localPath(good));
    const manifestEntry = entries.find((e) => e.name === "manifest.json")!;
    const dumpEntry = entries.find((e) => e.name === "dump.sql")!;
    dumpEntry.data = Buffer.concat([dumpEntry.data, Buffer.from("\nSELECT this_function_does_not_exist();\n")]);
    const manifest = JSON.parse(manifestEntry.data.toString());
    const { createHash } = await import("node:crypto");
    manifest.dump = { size: dumpEntry.data.length, sha256: createHash("sha256").update(dumpEntry.data).digest("hex") };
    manifestEntry.data = Buffer.from(JSON.stringify(manifest));
    await writeZip(store.localPath(name), entries);
    await refusedByCli(name, /psql failed .*this_function_does_not_exist/s);
  });

  it("a switch blocked by a connection to the live database puts everything back", async () => {
    // Someone still connected (Odoo not stopped): the rename must fail, and nothing may change.
    const holder = spawn(path.join(pg.binDir, "psql"), ["--no-psqlrc", "-c", "SELECT pg_sleep(60)"], {
      env: { ...process.env, ...pg.env, PGDATABASE: "acme_db" },
      stdio: "ignore",
    });
    try {
      for (let i = 0; i < 50; i++) {
        if (pg.sql("postgres", "SELECT count(*) FROM pg_stat_activity WHERE datname = 'acme_db';").trim() !== "0") break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const restoreConfig = readRestoreConfig(env);
      const error = await rejectionOf(restoreBackup(restoreConfig, store, good));
      expect(error.message).to.match(/could not switch databases \(is Odoo still running\?/);
    } finally {
      holder.kill("SIGTERM");
      await new Promise((r) => holder.on("close", r));
    }
    assertUntouched();
  });

  it("a backup whose pg_dump fails leaves no archive (complete or partial) behind", async () => {
    const fakeBin = path.join(work, "fake-bin");
    fs.mkdirSync(fakeBin);
    fs.symlinkSync(path.join(pg.binDir, "psql"), path.join(fakeBin, "psql"));
    // Emits part of a dump, then fails, as a dump cut off by a lost connection would.
    fs.writeFileSync(path.join(fakeBin, "pg_dump"), "#!/bin/sh\necho 'CREATE TABLE half_a_dump (id int);'\necho 'pg_dump: error: connection lost' >&2\nexit 1\n", { mode: 0o755 });
    const before = fs.readdirSync(store.dir).sort();
    const result = await runCli(["backup"], { ...env, PG_BIN_DIR: fakeBin });
    expect(result.status).to.equal(1);
    expect(result.stderr).to.match(/pg_dump failed \(exit status 1\): pg_dump: error: connection lost/);
    expect(fs.readdirSync(store.dir).sort()).to.deep.equal(before);
  });

  it("never prints PGPASSWORD, even when the connection fails", async () => {
    const result = await runCli(["backup"], { ...env, PGPASSWORD: "wrong-password-7c1e" });
    expect(result.status).to.equal(1);
    expect(result.stderr).to.match(/password authentication failed/);
    expect(result.stderr + result.stdout).to.not.include("wrong-password-7c1e");
  });
});

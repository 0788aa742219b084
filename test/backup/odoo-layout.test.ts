// The archive is Odoo's own database-manager format: what Odoo's restore_db does with it
// (Python zipfile extractall, then `psql -f dump.sql` into an empty database) must work.
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as yauzl from "yauzl";
import { readBackupConfig } from "../../backup/config";
import { runBackup } from "../../backup/run-backup";
import { PvcBackupStore } from "../../backup/store/pvc-store";
import { PostgresServer, startPostgres } from "../../local/local-postgres";
import { createFilestore, createFixtureDatabase, filestoreDigest, fingerprint, tempDir } from "./helpers";

// Mirrors odoo/service/db.py restore_db: extract everything, read manifest.json, find dump.sql
// and the filestore folder.
const ODOO_LIKE_EXTRACT = `
import json, os, sys, zipfile
archive, target = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(archive, 'r') as z:
    bad = z.testzip()
    assert bad is None, 'CRC error in %s' % bad
    z.extractall(target)
with open(os.path.join(target, 'manifest.json')) as f:
    manifest = json.load(f)
print(json.dumps({
    'names': sorted(os.listdir(target)),
    'has_dump': os.path.isfile(os.path.join(target, 'dump.sql')),
    'has_filestore': os.path.isdir(os.path.join(target, 'filestore')),
    'manifest': manifest,
}))
`;

describe("archive layout is Odoo's database-manager format", function () {
  this.timeout(180_000);
  let pg: PostgresServer;
  let work: string;

  before(async () => {
    pg = await startPostgres();
    work = tempDir("layout");
    createFixtureDatabase(pg, "globex");
    createFilestore(path.join(work, "filestore/globex"));
  });

  after(async () => {
    await pg?.stop();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it("extracts with Python's zipfile into dump.sql, filestore/ and a manifest with Odoo's and our fields", async () => {
    const env = {
      ...pg.env,
      PG_BIN_DIR: pg.binDir,
      TENANT_ID: "globex",
      ODOO_VERSION: "17.0",
      PGDATABASE: "globex",
      FILESTORE_DIR: path.join(work, "filestore/globex"),
      BACKUP_DIR: path.join(work, "backups"),
    };
    const store = new PvcBackupStore(env.BACKUP_DIR, "globex");
    const created = new Date("2024-05-01T02:00:00Z");
    const result = await runBackup(readBackupConfig(env, "on-demand"), store, { now: created });
    expect(result.name).to.equal("globex-20240501T020000Z-on-demand.zip");

    const extracted = path.join(work, "extracted");
    const py = spawnSync("python3", ["-c", ODOO_LIKE_EXTRACT, store.localPath(result.name), extracted], { encoding: "utf8" });
    expect(py.status, py.stderr).to.equal(0);
    const seen = JSON.parse(py.stdout);
    expect(seen.names).to.deep.equal(["dump.sql", "filestore", "manifest.json"]);
    expect(seen.has_dump).to.equal(true);
    expect(seen.has_filestore).to.equal(true);

    const m = seen.manifest;
    expect(m).to.include({ odoo_dump: "1", db_name: "globex", version: "17.0", major_version: "17.0", tenant: "globex", kind: "on-demand" });
    // Every field of Odoo's dump_db_manifest, in its order, then ours.
    expect(Object.keys(m).slice(0, 7)).to.deep.equal(["odoo_dump", "db_name", "version", "version_info", "major_version", "pg_version", "modules"]);
    expect(m.version_info).to.deep.equal([17, 0, 0, "final", 0, ""]); // odoo.release.version_info of 17.0
    expect(m.created).to.equal("2024-05-01T02:00:00.000Z");
    expect(m.pg_version).to.match(/^\d+\.\d+$/);
    expect(m.modules).to.deep.equal({ base: "17.0.1.3", sale: "17.0.1.2" }); // installed ones only
    expect(m.dump.size).to.equal(fs.statSync(path.join(extracted, "dump.sql")).size);
    expect(m.dump.sha256).to.match(/^[0-9a-f]{64}$/);
    const files = filestoreDigest(path.join(extracted, "filestore"));
    expect(files).to.deep.equal(filestoreDigest(env.FILESTORE_DIR));
    expect(Object.fromEntries(Object.entries(m.filestore.files as Record<string, { sha256: string }>).map(([k, v]) => [k, v.sha256]))).to.deep.equal(files);
    expect(m.filestore.files["00/00ffee"]).to.deep.equal({ size: 0, sha256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" });
    expect(m.filestore.file_count).to.equal(6);

    // dump.sql loads with plain psql -f into an empty database, as Odoo's restore does.
    pg.sql("postgres", "CREATE DATABASE globex_copy TEMPLATE template0;");
    const load = spawnSync(path.join(pg.binDir, "psql"), ["--no-psqlrc", "-q", "-v", "ON_ERROR_STOP=1", "-f", path.join(extracted, "dump.sql")], {
      env: { PATH: process.env.PATH, ...pg.env, PGDATABASE: "globex_copy" },
      encoding: "utf8",
    });
    expect(load.status, load.stderr).to.equal(0);
    expect(load.stderr).to.not.match(/ERROR/);
    expect(fingerprint(pg, "globex_copy")).to.equal(fingerprint(pg, "globex"));

    // Already-compressed (random) attachments are stored, text is deflated.
    const methods: Record<string, number> = {};
    const zip = await yauzl.openPromise(store.localPath(result.name));
    for await (const entry of zip.eachEntry()) methods[entry.fileName] = entry.compressionMethod;
    zip.close();
    expect(methods["dump.sql"]).to.equal(8);
    expect(methods["filestore/3f/3f9e8d7c6b5a49382716a5b4c3d2e1f0a9b8c7d6"]).to.equal(8);
    expect(methods["filestore/a7/a7deadbeef"]).to.equal(0);

    // The dump carries neither owners nor grants (restorable under any role).
    const dump = fs.readFileSync(path.join(extracted, "dump.sql"), "utf8");
    expect(dump).to.not.match(/OWNER TO|^GRANT |^REVOKE /m);
    expect(dump).to.match(/lo_create|lowrite/);
  });

  it("a database without ir_module_module gets modules {} (and Odoo 18.0's version_info)", async () => {
    pg.sql("postgres", "CREATE DATABASE plain TEMPLATE template0;");
    pg.sql("plain", "CREATE TABLE note (id serial PRIMARY KEY, body text); INSERT INTO note (body) VALUES ('x');");
    const filestore = path.join(work, "filestore/plain");
    fs.mkdirSync(path.join(filestore, "ab"), { recursive: true });
    // File names are data: names every object has must be listed, not become the list's prototype.
    fs.writeFileSync(path.join(filestore, "__proto__"), "p");
    fs.writeFileSync(path.join(filestore, "ab", "constructor"), "c");
    const env = {
      ...pg.env, PG_BIN_DIR: pg.binDir, TENANT_ID: "plain", ODOO_VERSION: "18.0", PGDATABASE: "plain",
      FILESTORE_DIR: filestore, BACKUP_DIR: path.join(work, "backups-plain"),
    };
    const store = new PvcBackupStore(env.BACKUP_DIR, "plain");
    const result = await runBackup(readBackupConfig(env, "scheduled"), store, { now: new Date("2024-05-02T02:00:00Z") });
    expect(result.manifest.modules).to.deep.equal({});
    expect(Object.keys(result.manifest.filestore.files).sort()).to.deep.equal(["__proto__", "ab/constructor"]);
    expect(result.manifest.filestore.file_count).to.equal(2);
    expect(result.manifest.version_info).to.deep.equal([18, 0, 0, "final", 0, ""]);
    expect(result.manifest.major_version).to.equal("18.0");
    const zip = await yauzl.openPromise(store.localPath(result.name));
    let written: Record<string, unknown> | undefined;
    for await (const entry of zip.eachEntry()) {
      if (entry.fileName === "manifest.json") {
        const chunks: Buffer[] = [];
        for await (const chunk of await zip.openReadStreamPromise(entry)) chunks.push(chunk as Buffer);
        written = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>;
      }
    }
    zip.close();
    expect(written?.modules).to.deep.equal({});
    expect(written?.version_info).to.deep.equal([18, 0, 0, "final", 0, ""]);
    expect(Object.keys((written?.filestore as { files: object }).files).sort()).to.deep.equal(["__proto__", "ab/constructor"]);
  });
});

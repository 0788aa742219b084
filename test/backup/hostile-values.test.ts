// Values are data end to end: a role, database, folder and version string full of shell and SQL
// metacharacters go through backup, list and restore unchanged, and nothing gets executed.
import { expect } from "chai";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { PostgresServer, startPostgres } from "../../local/local-postgres";
import { createFilestore, createFixtureDatabase, databaseNames, filestoreDigest, fingerprint, runCli, tempDir } from "./helpers";

describe("hostile values are treated as data", function () {
  this.timeout(180_000);
  const marker = `/tmp/pwned-${randomBytes(4).toString("hex")}`;
  const inject = `$(touch ${marker})`;
  // Starts with '-' (option injection), holds '=' (conninfo injection), quotes, ';', spaces.
  const database = `-x; ${inject} 'q' "d" a=b`;
  const role = `o'dd"o; ${inject} r`;
  const rolePassword = `p'w"; ${inject}`;
  let pg: PostgresServer;
  let work: string;
  let env: Record<string, string>;

  function pwned(): string[] {
    return fs.readdirSync("/tmp").filter((f) => f.startsWith(path.basename(marker)));
  }

  before(async () => {
    expect(Buffer.byteLength(database)).to.be.at.most(63);
    pg = await startPostgres();
    work = tempDir("hostile");
    // A non-superuser owner, as a tenant's Odoo role would be.
    pg.sql("postgres", `CREATE ROLE :"role" LOGIN CREATEDB PASSWORD :'pw';`, { role, pw: rolePassword });
    createFixtureDatabase(pg, database, { user: role, password: rolePassword });
    const filestoreDir = path.join(work, `fs; ${inject} 'q' "d"`, database);
    createFilestore(filestoreDir);
    fs.writeFileSync(path.join(filestoreDir, `name; ${inject.replace(/\//g, "_")} 'q' "d"`), "hostile file name");
    env = {
      PGHOST: pg.env.PGHOST,
      PGPORT: pg.env.PGPORT,
      PGUSER: role,
      PGPASSWORD: rolePassword,
      PG_BIN_DIR: pg.binDir,
      TENANT_ID: "acme",
      ODOO_VERSION: `17.0; ${inject} '"`,
      PGDATABASE: database,
      FILESTORE_DIR: filestoreDir,
      BACKUP_DIR: path.join(work, `backups ${inject} 'q' "d"`),
    };
  });

  after(async () => {
    for (const f of pwned()) fs.rmSync(path.join("/tmp", f), { force: true });
    await pg?.stop();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it("backs up, lists and restores without executing anything", async () => {
    const dbBefore = fingerprint(pg, database);
    const filesBefore = filestoreDigest(env.FILESTORE_DIR!);

    const backup = await runCli(["backup"], env);
    expect(backup.status, backup.stderr).to.equal(0);
    const name = backup.stdout.trim();
    expect(backup.stderr + backup.stdout).to.not.include(rolePassword);

    const list = await runCli(["list", "--json"], env);
    expect(JSON.parse(list.stdout).backups.map((b: { name: string }) => b.name)).to.deep.equal([name]);

    pg.sql("postgres", `DROP DATABASE :"db";`, { db: database });
    fs.rmSync(env.FILESTORE_DIR!, { recursive: true });

    const restore = await runCli(["restore", name], env);
    expect(restore.status, restore.stderr).to.equal(0);
    expect(fingerprint(pg, database)).to.equal(dbBefore);
    expect(filestoreDigest(env.FILESTORE_DIR!)).to.deep.equal(filesBefore);
    expect(databaseNames(pg).filter((d) => d.includes("restore"))).to.deep.equal([]);
    // The restored database is still owned by the tenant's role (pg_dump --no-owner, loaded as it).
    expect(pg.sql("postgres", `SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = :'db';`, { db: database }).trim()).to.equal(role);
    expect(pwned()).to.deep.equal([]);
  });

  it("the manifest carries the values verbatim", async () => {
    const list = JSON.parse((await runCli(["list", "--json"], env)).stdout) as { backups: { name: string }[] };
    const zipPath = path.join(env.BACKUP_DIR!, "acme", list.backups[0]!.name);
    const yauzl = await import("yauzl");
    const zip = await yauzl.openPromise(zipPath);
    let manifest: Record<string, unknown> = {};
    for await (const entry of zip.eachEntry()) {
      if (entry.fileName !== "manifest.json") continue;
      const chunks: Buffer[] = [];
      for await (const c of await zip.openReadStreamPromise(entry)) chunks.push(c as Buffer);
      manifest = JSON.parse(Buffer.concat(chunks).toString());
    }
    zip.close();
    expect(manifest.db_name).to.equal(database);
    expect(manifest.version).to.equal(env.ODOO_VERSION);
    expect(pwned()).to.deep.equal([]);
  });

  it("refuses a hostile TENANT_ID or backup name with a clear error", async () => {
    const badTenant = await runCli(["list"], { ...env, TENANT_ID: `acme; ${inject}` });
    expect(badTenant.status).to.equal(2);
    expect(badTenant.stderr).to.match(/TENANT_ID is not a valid tenant id: .*not a DNS label/);
    const badName = await runCli(["restore", `acme-${inject}.zip`], env);
    expect(badName.status).to.equal(1);
    expect(badName.stderr).to.match(/refusing backup name/);
    const optionLike = await runCli(["restore", "--", "--help"], env);
    expect(optionLike.status).to.equal(1);
    expect(optionLike.stderr).to.match(/not a backup name of tenant acme/);
    expect(pwned()).to.deep.equal([]);
  });
});

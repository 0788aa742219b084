// The S3 store against a real S3-compatible server (moto): objects, prefix isolation, multipart
// upload of a large stream, failed uploads leaving nothing, and a CLI round trip through S3.
import { expect } from "chai";
import { CreateBucketCommand, CreateMultipartUploadCommand, HeadObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { createHash, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { Readable } from "node:stream";
import { formatBackupName } from "../../backup/backup-name";
import { listBackups } from "../../backup/list-backups";
import { pruneBackups } from "../../backup/retention";
import { S3BackupStore } from "../../backup/store/s3-store";
import { startMoto, MotoServer } from "../support/moto";
import { PostgresServer, startPostgres } from "../../local/local-postgres";
import { createFilestore, createFixtureDatabase, databaseNames, filestoreDigest, fingerprint, rejectionOf, runCli, tempDir } from "./helpers";

const BUCKET = "odoo-saas-backups";
const CREDENTIALS = { AWS_ACCESS_KEY_ID: "AKIDTESTONLY", AWS_SECRET_ACCESS_KEY: "test-secret-do-not-print-3f9a" };
const MiB = 1024 * 1024;

async function text(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString();
}

/** `total` random bytes in 64 KiB chunks, optionally failing after `failAfter` bytes. */
function randomStream(total: number, hash: ReturnType<typeof createHash>, failAfter?: number): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (failAfter !== undefined && sent >= failAfter) {
        this.destroy(new Error("source broke half-way"));
        return;
      }
      if (sent >= total) {
        this.push(null);
        return;
      }
      const chunk = randomBytes(Math.min(64 * 1024, total - sent));
      sent += chunk.length;
      hash.update(chunk);
      this.push(chunk);
    },
  });
}

describe("S3 store (moto server)", function () {
  this.timeout(180_000);
  let moto: MotoServer;
  let client: S3Client;
  const name = (tenant: string, minute: number) => formatBackupName(tenant, new Date(Date.UTC(2024, 4, 1, 2, minute)), "scheduled");
  const store = (tenant: string, prefix = "platform", partSizeBytes = 5 * MiB) => new S3BackupStore({ client, bucket: BUCKET, prefix, tenant, partSizeBytes });

  before(async () => {
    moto = await startMoto();
    client = new S3Client({
      endpoint: moto.endpoint,
      region: "us-east-1",
      forcePathStyle: true,
      credentials: { accessKeyId: CREDENTIALS.AWS_ACCESS_KEY_ID, secretAccessKey: CREDENTIALS.AWS_SECRET_ACCESS_KEY },
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
    });
    await client.send(new CreateBucketCommand({ Bucket: BUCKET }));
  });

  after(async () => {
    client?.destroy();
    await moto?.stop();
  });

  it("puts, lists, streams back and deletes under <prefix>/<tenant>/", async () => {
    const s = store("alpha");
    expect(s.keyPrefix).to.equal("platform/alpha/");
    const n = name("alpha", 1);
    expect(await s.put(n, Readable.from([Buffer.from("hello "), Buffer.from("world")]))).to.deep.equal({ size: 11 });
    const listed = await s.list();
    expect(listed.map((o) => [o.name, o.status, o.size])).to.deep.equal([[n, "complete", 11]]);
    expect(await text(await s.getStream(n))).to.equal("hello world");
    await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: `platform/alpha/${n}` }));
    expect((await rejectionOf(s.put(n, Readable.from([Buffer.from("again")])))).message).to.match(/already exists/);
    await s.delete(n);
    expect(await s.list()).to.deep.equal([]);
    expect((await rejectionOf(s.getStream(n))).name).to.equal("BackupNotFoundError");
  });

  it("isolates tenants: each store sees and deletes only its own prefix", async () => {
    const alpha = store("alpha");
    const alp = store("alp"); // a prefix of "alpha" as a string
    const otherPlatform = store("alpha", "elsewhere");
    const a = name("alpha", 2);
    await alpha.put(a, Readable.from([Buffer.from("a")]));
    await alp.put(name("alp", 2), Readable.from([Buffer.from("b")]));
    await otherPlatform.put(a, Readable.from([Buffer.from("c")]));
    // Keys a store never writes: deeper below its prefix, or beside it.
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: `platform/alpha/nested/${a}`, Body: "x" }));
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: `platform/alphabet/${a}`, Body: "x" }));

    expect((await alpha.list()).map((o) => o.name)).to.deep.equal([a]);
    expect((await alp.list()).map((o) => o.name)).to.deep.equal([name("alp", 2)]);
    for (const bad of [`../alp/${name("alp", 2)}`, `nested/${a}`, "..", ".hidden"]) {
      expect((await rejectionOf(alpha.delete(bad))).message, bad).to.match(/refusing backup name/);
      expect((await rejectionOf(alpha.getStream(bad))).message, bad).to.match(/refusing backup name/);
    }
    await alpha.delete(a);
    expect(await alpha.list()).to.deep.equal([]);
    expect((await alp.list()).map((o) => o.name)).to.deep.equal([name("alp", 2)]);
    expect(await text(await otherPlatform.getStream(a))).to.equal("c");
  });

  it("uploads a stream larger than 5 MiB in parts and reads it back identical", async () => {
    const s = store("bigco");
    const n = name("bigco", 3);
    const sent = createHash("sha256");
    const { size } = await s.put(n, randomStream(12 * MiB + 123, sent));
    expect(size).to.equal(12 * MiB + 123);
    const head = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: `platform/bigco/${n}` }));
    expect(head.ContentLength).to.equal(12 * MiB + 123);
    expect(head.ETag).to.match(/-3"?$/); // a multipart object: three 5 MiB parts
    const got = createHash("sha256");
    for await (const c of await s.getStream(n)) got.update(c as Buffer);
    expect(got.digest("hex")).to.equal(sent.digest("hex"));
  });

  it("a body that fails half-way leaves neither an object nor an open upload", async () => {
    const s = store("failco");
    const error = await rejectionOf(s.put(name("failco", 4), randomStream(20 * MiB, createHash("sha256"), 11 * MiB)));
    expect(error.message).to.equal("source broke half-way");
    expect(await s.list()).to.deep.equal([]);
  });

  it("lists an unfinished multipart upload as incomplete, and retention aborts it after the grace period", async () => {
    const s = store("crashco");
    const done = name("crashco", 5);
    await s.put(done, Readable.from([Buffer.from("ok")]));
    const dead = name("crashco", 6);
    await client.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: `platform/crashco/${dead}` }));
    const listings = await listBackups(s);
    expect(listings.map((l) => [l.name, l.status])).to.deep.equal([
      [dead, "incomplete"],
      [done, "complete"],
    ]);
    const later = new Date(Date.now() + 48 * 3600_000);
    await pruneBackups(s, { daily: 1, weekly: 0, monthly: 0, onDemand: 0, incompleteGraceMs: 24 * 3600_000 }, later, () => undefined);
    expect((await listBackups(s)).map((l) => [l.name, l.status])).to.deep.equal([[done, "complete"]]);
  });

  describe("CLI round trip through S3", () => {
    let pg: PostgresServer;
    let work: string;
    let env: Record<string, string>;

    before(async () => {
      pg = await startPostgres();
      work = tempDir("s3-roundtrip");
      createFixtureDatabase(pg, "initech");
      createFilestore(path.join(work, "filestore/initech"));
      env = {
        ...pg.env,
        ...CREDENTIALS,
        PG_BIN_DIR: pg.binDir,
        TENANT_ID: "initech",
        ODOO_VERSION: "18.0",
        PGDATABASE: "initech",
        FILESTORE_DIR: path.join(work, "filestore/initech"),
        BACKUP_STORE: "s3",
        S3_ENDPOINT: moto.endpoint,
        S3_BUCKET: BUCKET,
        S3_REGION: "us-east-1",
        S3_PREFIX: "platform",
        S3_FORCE_PATH_STYLE: "true",
        S3_PART_SIZE_MB: "5",
      };
    });

    after(async () => {
      await pg?.stop();
      if (work) fs.rmSync(work, { recursive: true, force: true });
    });

    it("backs up to S3, lists and restores from it", async () => {
      const dbBefore = fingerprint(pg, "initech");
      const filesBefore = filestoreDigest(env.FILESTORE_DIR!);
      const backup = await runCli(["backup"], env);
      expect(backup.status, backup.stderr).to.equal(0);
      const n = backup.stdout.trim();
      const list = JSON.parse((await runCli(["list", "--json"], env)).stdout) as { backups: { name: string; status: string }[] };
      expect(list.backups.map((b) => [b.name, b.status])).to.deep.equal([[n, "complete"]]);

      pg.sql("postgres", "DROP DATABASE initech;");
      fs.rmSync(env.FILESTORE_DIR!, { recursive: true });
      const restore = await runCli(["restore", n], env);
      expect(restore.status, restore.stderr).to.equal(0);
      expect(fingerprint(pg, "initech")).to.equal(dbBefore);
      expect(filestoreDigest(env.FILESTORE_DIR!)).to.deep.equal(filesBefore);
      expect(databaseNames(pg).filter((d) => d.includes("restore"))).to.deep.equal([]);
      // The downloaded archive was removed after the restore.
      expect(fs.readdirSync(path.dirname(env.FILESTORE_DIR!))).to.deep.equal(["initech"]);
      for (const out of [backup, restore]) expect(out.stderr + out.stdout).to.not.include(CREDENTIALS.AWS_SECRET_ACCESS_KEY);
    });

    it("never prints the AWS secret when S3 is unreachable", async () => {
      const result = await runCli(["list"], { ...env, S3_ENDPOINT: "http://127.0.0.1:9", AWS_MAX_ATTEMPTS: "1" });
      expect(result.status).to.equal(1);
      expect(result.stderr).to.match(/^error: /m);
      expect(result.stderr + result.stdout).to.not.include(CREDENTIALS.AWS_SECRET_ACCESS_KEY);
    });
  });
});

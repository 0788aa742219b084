// Purge of one tenant's backups on a real S3-compatible server (moto): every object below its
// prefix (odd names too), unfinished multipart uploads, older versions in a versioned bucket;
// the next tenant of that id lists nothing through the owner's listing; a neighbouring id
// (`acme-2` beside `acme`) keeps everything.
import { expect } from "chai";
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  ListMultipartUploadsCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { Readable } from "node:stream";
import { StoreBackupAccess } from "../../automation/backup-access";
import { formatBackupName } from "../../backup/backup-name";
import { S3BackupStore } from "../../backup/store/s3-store";
import { purgeBelow } from "../../backup/store/s3-purge";
import { startMoto, type MotoServer } from "../support/moto";

const BUCKET = "purge-backups";
const VERSIONED = "purge-versioned";

describe("S3 purge of a tenant's backups (moto server)", function () {
  this.timeout(180_000);
  let moto: MotoServer;
  let client: S3Client;
  const name = (tenant: string, minute: number) => formatBackupName(tenant, new Date(Date.UTC(2024, 4, 1, 2, minute)), "scheduled");
  const store = (tenant: string, bucket = BUCKET) => new S3BackupStore({ client, bucket, prefix: "platform", tenant, partSizeBytes: 5 * 1024 * 1024 });
  /** The listing the owner sees (GET /api/tenants/<id>/backups reads it). */
  const ownerListing = (bucket = BUCKET) => new StoreBackupAccess({ openStore: (tenant) => store(tenant, bucket), start: () => Promise.reject(new Error("not used")) });

  before(async () => {
    moto = await startMoto();
    client = new S3Client({
      endpoint: moto.endpoint, region: "us-east-1", forcePathStyle: true,
      credentials: { accessKeyId: "test", secretAccessKey: "test" },
      requestChecksumCalculation: "WHEN_REQUIRED", responseChecksumValidation: "WHEN_REQUIRED",
    });
    await client.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await client.send(new CreateBucketCommand({ Bucket: VERSIONED }));
    await client.send(new PutBucketVersioningCommand({ Bucket: VERSIONED, VersioningConfiguration: { Status: "Enabled" } }));
  });
  after(async () => {
    client?.destroy();
    await moto?.stop();
  });

  it("deletes every backup, odd key and unfinished upload of the tenant; the next owner of the id lists none; acme-2 keeps its own", async () => {
    const acme = store("acme");
    await acme.put(name("acme", 1), Readable.from([Buffer.from("first customer's data")]));
    await acme.put(name("acme", 2), Readable.from([Buffer.from("more of it")]));
    // Not a name the tool makes, and nested: still the tenant's, still deleted.
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "platform/acme/stray/notes.txt", Body: "x" }));
    await client.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: `platform/acme/${name("acme", 3)}` }));
    await store("acme-2").put(name("acme-2", 1), Readable.from([Buffer.from("neighbour")]));

    const before = await ownerListing().list("acme");
    expect(before.map((b) => b.status).sort()).to.deep.equal(["complete", "complete", "incomplete"]);

    expect(await acme.purgeAll()).to.deep.equal({ objects: 3, versions: 0, uploads: 1 });

    // A new signup of "acme" reads the same prefix: nothing is there.
    expect(await ownerListing().list("acme")).to.deep.equal([]);
    expect(await acme.list()).to.deep.equal([]);
    const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: "platform/acme/" }));
    expect(uploads.Uploads ?? []).to.deep.equal([]);
    expect(await ownerListing().download("acme", name("acme", 1), "content")).to.equal(undefined);
    // The neighbour whose id starts with the same letters keeps its backup.
    expect((await ownerListing().list("acme-2")).map((b) => b.name)).to.deep.equal([name("acme-2", 1)]);
    // Purging again is a no-op, not an error.
    expect(await acme.purgeAll()).to.deep.equal({ objects: 0, versions: 0, uploads: 0 });
  });

  it("in a versioned bucket, also deletes older versions and delete markers: no byte of the tenant is left", async () => {
    const key = `platform/beta/${name("beta", 1)}`;
    await client.send(new PutObjectCommand({ Bucket: VERSIONED, Key: key, Body: "version one" }));
    await client.send(new PutObjectCommand({ Bucket: VERSIONED, Key: key, Body: "version two" }));
    const beta = store("beta", VERSIONED);
    await beta.delete(name("beta", 1)); // a pruned backup: a delete marker over two versions
    const result = await beta.purgeAll();
    expect(result.versions).to.equal(3);
    const left = await client.send(new ListObjectVersionsCommand({ Bucket: VERSIONED, Prefix: "platform/beta/" }));
    expect([...(left.Versions ?? []), ...(left.DeleteMarkers ?? [])]).to.deep.equal([]);
  });

  it("fails, deleting nothing it cannot reach, when the bucket cannot be listed; refuses a prefix that is not one tenant's", async () => {
    let failed: unknown;
    try {
      await store("gamma", "no-such-bucket").purgeAll();
    } catch (err) {
      failed = err;
    }
    expect((failed as Error | undefined)?.name).to.equal("NoSuchBucket");
    for (const prefix of ["platform", "", "/"]) {
      let refused: unknown;
      try {
        await purgeBelow(client, BUCKET, prefix);
      } catch (err) {
        refused = err;
      }
      expect((refused as Error | undefined)?.message, prefix).to.match(/not one tenant's prefix/);
    }
    // The other tenant's backup is untouched by the refusals.
    expect((await store("acme-2").list()).length).to.equal(1);
  });
});

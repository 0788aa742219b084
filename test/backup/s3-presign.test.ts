// Pre-signed download URLs: the signature against AWS's own published example (so a wrong
// canonical request fails here), and a real URL against moto that returns the archive's bytes.
// moto does not verify query-string signatures (its IAM checks read only the Authorization
// header), so the moto test proves the URL's address and form; the example proves the signature.
import { expect } from "chai";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { randomBytes } from "node:crypto";
import * as http from "node:http";
import { Readable } from "node:stream";
import { formatBackupName } from "../../backup/backup-name";
import { presignGetUrl } from "../../backup/store/s3-presign";
import { S3BackupStore } from "../../backup/store/s3-store";
import { startMoto, MotoServer } from "../support/moto";

function get(url: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    http.get(url, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    }).on("error", reject);
  });
}

describe("S3 pre-signed download URLs", function () {
  this.timeout(180_000);

  it("signs exactly as AWS's published query-string example", () => {
    // docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html, "An example".
    const url = presignGetUrl({
      endpoint: "https://s3.amazonaws.com",
      region: "us-east-1",
      forcePathStyle: false,
      bucket: "examplebucket",
      key: "test.txt",
      credentials: { accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" },
      expiresSeconds: 86400,
      now: new Date("2013-05-24T00:00:00Z"),
    });
    expect(url).to.equal(
      "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256"
        + "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z"
        + "&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
        + "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404",
    );
  });

  it("refuses lifetimes S3 would refuse", () => {
    const base = { region: "us-east-1", forcePathStyle: true, bucket: "b", key: "k", credentials: { accessKeyId: "a", secretAccessKey: "s" }, now: new Date() };
    for (const expiresSeconds of [0, 604_801, 1.5]) expect(() => presignGetUrl({ ...base, expiresSeconds }), String(expiresSeconds)).to.throw(/expiresSeconds/);
  });

  describe("against moto", () => {
    let moto: MotoServer;
    let client: S3Client;
    before(async () => {
      moto = await startMoto();
      client = new S3Client({
        endpoint: moto.endpoint, region: "us-east-1", forcePathStyle: true,
        credentials: { accessKeyId: "AKIDTESTONLY", secretAccessKey: "test-secret-presign" },
        requestChecksumCalculation: "WHEN_REQUIRED", responseChecksumValidation: "WHEN_REQUIRED",
      });
      await client.send(new CreateBucketCommand({ Bucket: "presign-bucket" }));
    });
    after(async () => {
      client?.destroy();
      await moto?.stop();
    });

    it("gives a URL that returns the stored archive's bytes, as an attachment of its name", async () => {
      const store = new S3BackupStore({ client, bucket: "presign-bucket", prefix: "platform", tenant: "acme", partSizeBytes: 5 * 1024 * 1024, addressing: { endpoint: moto.endpoint, region: "us-east-1", forcePathStyle: true } });
      const name = formatBackupName("acme", new Date(Date.UTC(2026, 0, 2, 3, 4, 5)), "on-demand");
      const bytes = randomBytes(300_000);
      await store.put(name, Readable.from([bytes]));
      const url = await store.presignedGet(name, 300);
      expect(url.startsWith(`${moto.endpoint}/presign-bucket/platform/acme/${name}?`)).to.equal(true);
      expect(url).to.match(/X-Amz-Expires=300&/);
      const res = await get(url);
      expect(res.status).to.equal(200);
      expect(res.body.equals(bytes)).to.equal(true);
      expect(res.headers["content-disposition"]).to.equal(`attachment; filename="${name}"`);
    });

    it("cannot be made for a name outside the tenant's prefix", async () => {
      const store = new S3BackupStore({ client, bucket: "presign-bucket", prefix: "platform", tenant: "acme", partSizeBytes: 5 * 1024 * 1024, addressing: { endpoint: moto.endpoint, region: "us-east-1", forcePathStyle: true } });
      for (const bad of ["../globex/x.zip", "a/b.zip", ".hidden"]) {
        let error: unknown;
        await store.presignedGet(bad, 60).catch((err: unknown) => (error = err));
        expect(error, bad).to.be.instanceOf(Error);
      }
    });
  });
});

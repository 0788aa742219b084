import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { Readable } from "node:stream";
import { PvcBackupStore } from "../../backup/store/pvc-store";
import { rejectionOf, tempDir } from "./helpers";

const NAME = "acme-20240501T020000Z-scheduled.zip";

function failingBody(): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (sent++ < 3) this.push(Buffer.alloc(64 * 1024, 1));
      else this.destroy(new Error("pg_dump died"));
    },
  });
}

describe("PVC store", () => {
  let base: string;
  beforeEach(() => (base = tempDir("pvc")));
  afterEach(() => fs.rmSync(base, { recursive: true, force: true }));

  it("writes <BACKUP_DIR>/<tenant>/<name> and reads it back", async () => {
    const store = new PvcBackupStore(base, "acme");
    expect(await store.put(NAME, Readable.from([Buffer.from("zip bytes")]))).to.deep.equal({ size: 9 });
    expect(fs.readFileSync(path.join(base, "acme", NAME), "utf8")).to.equal("zip bytes");
    const chunks: Buffer[] = [];
    for await (const c of await store.getStream(NAME)) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).toString()).to.equal("zip bytes");
    expect((await store.list()).map((o) => [o.name, o.status, o.size])).to.deep.equal([[NAME, "complete", 9]]);
    await store.delete(NAME);
    expect(await store.list()).to.deep.equal([]);
  });

  it("leaves nothing when the body fails: no final file, no partial file", async () => {
    const store = new PvcBackupStore(base, "acme");
    expect((await rejectionOf(store.put(NAME, failingBody()))).message).to.equal("pg_dump died");
    expect(fs.readdirSync(store.dir)).to.deep.equal([]);
  });

  it("never replaces an existing backup, and a second writer of the same name fails", async () => {
    const store = new PvcBackupStore(base, "acme");
    await store.put(NAME, Readable.from([Buffer.from("first")]));
    expect((await rejectionOf(store.put(NAME, Readable.from([Buffer.from("second")])))).message).to.match(/already exists/);
    expect(fs.readFileSync(store.localPath(NAME), "utf8")).to.equal("first");

    const other = "acme-20240502T020000Z-scheduled.zip";
    fs.writeFileSync(`${store.localPath(other)}.partial`, "someone else is writing");
    expect((await rejectionOf(store.put(other, Readable.from([Buffer.from("x")])))).message).to.match(/EEXIST/);
    expect(fs.readFileSync(`${store.localPath(other)}.partial`, "utf8")).to.equal("someone else is writing");
    expect((await store.list()).find((o) => o.name === other)?.status).to.equal("incomplete");
  });

  it("refuses names outside the tenant's folder and invalid tenants", async () => {
    const store = new PvcBackupStore(base, "acme");
    for (const bad of ["../beta/x.zip", "/etc/passwd", "sub/x.zip", ".x.zip.partial"]) {
      expect(() => store.localPath(bad), bad).to.throw(/refusing backup name/);
      expect((await rejectionOf(store.put(bad, Readable.from([])))).message, bad).to.match(/refusing backup name/);
    }
    expect(() => new PvcBackupStore(base, "../beta")).to.throw(/is not a valid tenant id: .*not a DNS label/);
    expect(fs.readdirSync(base)).to.deep.equal([]);
  });
});

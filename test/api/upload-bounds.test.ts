/**
 * What bounds an upload beyond its plan (issue 19, parts 1 and 6), on the real server and engine
 * with a real PostgreSQL: hostile member names refused in seconds while the server goes on;
 * uploads per user and per server (429 with Retry-After); free disk checked before the body
 * (507); an instance in use refused before its body is read; a deadline sized to the upload at
 * a floor rate instead of Node's server-wide 300 s (small numbers here), other routes keeping
 * theirs; status in PostgreSQL (a second server answers for it); and a dead server's uploads
 * settled by a live one. Each refusal is in customer words and changes nothing.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { randomBytes } from "node:crypto";
import { expect } from "chai";
import * as yaml from "js-yaml";
import type { UploadView } from "../../automation/upload-service";
import { RESTARTED_BEFORE_RESTORE, RESTARTED_DURING_RESTORE } from "../../automation/upload-orphans";
import { startPostgres, type PostgresServer } from "../../local/local-postgres";
import { Harness, writeFleetStackFile } from "../support/signup-harness";
import { openUpload, paced, type Answer } from "../support/upload-client";
import { FRESH_FINGERPRINT_SQL, UPLOAD_ROLE, uploadWorld, type UploadWorld } from "../support/upload-fixtures";
import { deepName, zipWithNames } from "../support/upload-zips";

const SHOP = "alices-shop";
const TINY = "alices-tiny";
const BOBS = "bobs-shop";
const INUSE = "carols-shop";
const GiB = 1024 ** 3;

describe("signup API: what bounds an upload beyond its plan (real server, engine and PostgreSQL)", function () {
  this.timeout(180_000);
  let h: Harness;
  let pg: PostgresServer;
  let world: UploadWorld;
  let work: string;
  let uploadDir: string;
  const tokens: Record<string, string> = {};

  const fresh = (tenant: string) => pg.sql(tenant, FRESH_FINGERPRINT_SQL);
  const leftovers = () => fs.readdirSync(uploadDir);
  const send = (who: string, tenant: string, body: Buffer, chunked = false): Promise<Answer> => {
    const up = openUpload(h.url, `/api/tenants/${tenant}/uploads`, tokens[who] as string, chunked ? undefined : body.length);
    return paced(up, body, 64 * 1024, 0);
  };
  const uploads = async (who: string, tenant: string): Promise<UploadView[]> =>
    (await h.request<{ uploads: UploadView[] }>("GET", `/api/tenants/${tenant}/uploads`, { token: tokens[who] as string })).body.uploads;
  async function until<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 15_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await read();
      if (ok(v)) return v;
      if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(v)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  before(async () => {
    pg = await startPostgres();
    work = fs.mkdtempSync(path.join(os.tmpdir(), "upload-bounds-"));
    uploadDir = path.join(work, "received");
    fs.mkdirSync(uploadDir);
    world = await uploadWorld(pg, work);
    const dir = path.join(work, "server");
    fs.mkdirSync(dir);
    const file = writeFleetStackFile(dir);
    const doc = yaml.load(fs.readFileSync(file, "utf8")) as { config: Record<string, unknown> };
    const starter = {
      odoo: { cpu: { request: "250m", limit: "1" }, memory: { request: "512Mi", limit: "1536Mi" } },
      postgres: { cpu: { request: "100m", limit: "500m" }, memory: { request: "256Mi", limit: "512Mi" } },
      workers: 0, databaseStorage: "5Gi", filestoreStorage: "5Gi", backupStorage: "20Gi",
      quota: { cpu: "3", memory: "4Gi", storage: "40Gi", pods: 10 },
    };
    doc.config["odoo-saas:plans"] = { starter, business: { ...starter, workers: 2 }, tiny: { ...starter, uploadLimit: "1Mi" } };
    fs.writeFileSync(file, yaml.dump(doc));
    // The margin leaves room for uploads sized by a small Content-Length, not for one the size of
    // the starter plan's limit (10 GiB) with no Content-Length.
    const disk = fs.statfsSync(uploadDir);
    const free = disk.bavail * disk.bsize;
    expect(free, "this test needs 6 GiB free").to.be.above(6 * GiB);
    h = await Harness.start({
      dir, tenantLimit: 3, uploads: world.restorer, uploadDir, requestTimeoutMs: 2000,
      uploadSettings: { perUser: 1, perServer: 2, minBytesPerSecond: 20_000, graceMs: 1000, diskMarginBytes: free - 5 * GiB },
      uploadTimings: { heartbeatMs: 200, staleAfterMs: 1500 },
    });
    h.auth.admins.add("root@example.com");
    for (const who of ["alice", "bob", "carol"]) tokens[who] = await h.token(who);
    tokens.admin = await h.token("root", { admin: true });
    for (const [who, id, plan] of [["alice", SHOP, "starter"], ["alice", TINY, "tiny"], ["bob", BOBS, "starter"], ["carol", INUSE, "starter"]] as const) {
      const res = await h.request<{ operation: { id: string } }>("POST", "/api/tenants", { token: tokens[who] as string, body: { id, plan, odooVersion: "17.0" } });
      expect(res.status, res.text).to.equal(202);
      expect((await h.waitForOperation(tokens[who] as string, res.body.operation.id)).status).to.equal("succeeded");
      world.freshInstance(id);
    }
    // carol has signed in to her Odoo: it is in use
    pg.sql(INUSE, "INSERT INTO res_users_log (create_uid, create_date) VALUES (2, now());", {}, UPLOAD_ROLE);
  });
  after(async () => {
    await h?.close({ keepDir: true });
    await pg?.stop();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it("refuses the 256 KB zip of two 32,000-segment members and a 60 KB member name in seconds (422); the server and other tenants go on", async () => {
    const before = fresh(SHOP);
    const deep = fs.readFileSync(await zipWithNames(path.join(work, "deep.zip"), [deepName(32_000), `${deepName(32_000).slice(0, -1)}b`]));
    const long = fs.readFileSync(await zipWithNames(path.join(work, "long.zip"), [`filestore/${"a".repeat(60_000)}`]));
    for (const body of [deep, long]) {
      const started = Date.now();
      const res = await send("alice", SHOP, body);
      expect([res.status, res.json.error?.code], JSON.stringify(res.json)).to.deep.equal([422, "name_too_long"]);
      expect(res.json.error?.message).to.match(/^member "filestore\/.{100,130}" has a name of \d+ bytes; an Odoo backup's names are at most 1024 bytes long$/);
      expect(Date.now() - started).to.be.below(5000);
    }
    expect((await h.request("GET", "/healthz")).status).to.equal(200);
    const bobs = await h.request<{ uploads: UploadView[] }>("GET", `/api/tenants/${BOBS}/uploads`, { token: tokens.bob as string });
    expect([bobs.status, bobs.body.uploads]).to.deep.equal([200, []]);
    expect(fresh(SHOP)).to.equal(before);
    expect(leftovers()).to.deep.equal([]);
  });

  it("refuses an upload into an instance in use at once, before its body is read (409), changing nothing", async () => {
    const before = fresh(INUSE);
    const up = openUpload(h.url, `/api/tenants/${INUSE}/uploads`, tokens.carol as string, 5_000_000);
    up.write(randomBytes(64 * 1024));
    const res = await up.answer;
    expect(up.answered()).to.equal(true);
    expect([res.status, res.json.error?.code]).to.deep.equal([409, "instance_not_empty"]);
    expect(res.json.error?.message).to.equal("a database can only be uploaded to a new or empty instance, and this one is in use (someone has signed in to this Odoo); nothing was changed");
    up.destroy();
    const [last] = await uploads("carol", INUSE);
    expect(last).to.include({ state: "refused", code: "instance_not_empty", receivedBytes: 0 });
    expect(fresh(INUSE)).to.equal(before);
    expect(leftovers()).to.deep.equal([]);
  });

  it("limits uploads per user (429 too_many_uploads) and per server (429 uploads_busy) with Retry-After; the places come back when uploads end", async () => {
    const before = fresh(SHOP);
    const a = openUpload(h.url, `/api/tenants/${TINY}/uploads`, tokens.alice as string);
    a.write(randomBytes(1000));
    await until("alice's first upload", () => uploads("alice", TINY), (u) => u[0]?.state === "receiving");
    const second = await send("alice", SHOP, fs.readFileSync(world.oldVersionZip));
    expect([second.status, second.json.error?.code, second.headers["retry-after"]]).to.deep.equal([429, "too_many_uploads", "60"]);
    expect(second.json.error?.message).to.equal("you already have 1 database upload in progress; nothing was changed, please wait until one of them is finished");
    // bob is not alice: his upload is taken, and fills this server's second place
    const b = openUpload(h.url, `/api/tenants/${BOBS}/uploads`, tokens.bob as string, 500_000);
    b.write(randomBytes(1000));
    await until("bob's upload", () => uploads("bob", BOBS), (u) => u[0]?.state === "receiving");
    const third = await send("admin", SHOP, fs.readFileSync(world.oldVersionZip));
    expect([third.status, third.json.error?.code, third.headers["retry-after"]]).to.deep.equal([429, "uploads_busy", "60"]);
    expect(third.json.error?.message).to.equal("many databases are being uploaded right now; nothing was changed, please try again in a minute");
    a.destroy();
    b.destroy();
    await until("the broken uploads", async () => [...await uploads("alice", TINY), ...await uploads("bob", BOBS)], (u) => u.every((x) => x.finishedAt !== null));
    expect((await uploads("bob", BOBS))[0]).to.include({ state: "refused", code: "upload_broken" });
    const again = await send("alice", SHOP, fs.readFileSync(world.oldVersionZip));
    expect([again.status, again.json.error?.code]).to.deep.equal([422, "version_mismatch"]);
    expect(fresh(SHOP)).to.equal(before);
    expect(leftovers()).to.deep.equal([]);
  });

  it("checks the disk first: the plan's limit (no Content-Length) that would not leave the margin free is refused 507 before the body; a declared small size is taken", async () => {
    const body = fs.readFileSync(world.oldVersionZip);
    const res = await send("alice", SHOP, body, true);
    expect([res.status, res.json.error?.code, res.headers["retry-after"]]).to.deep.equal([507, "no_room_for_upload", "600"]);
    expect(res.json.error?.message).to.equal("we have no room for a file this large right now; nothing was changed, please try again later");
    expect((await send("alice", SHOP, body)).json.error?.code).to.equal("version_mismatch");
    // the tiny plan's limit (1 MiB) fits, chunked
    expect((await send("alice", TINY, body, true)).json.error?.code).to.equal("version_mismatch");
    expect(leftovers()).to.deep.equal([]);
  });

  it("cuts an upload slower than the floor rate at its deadline (408), not one above it that outlasts other routes' timeout", async () => {
    const before = fresh(SHOP);
    // 60,000 bytes: 1 s + 60,000 / 20,000 per second = 4 s to arrive
    const body = randomBytes(60_000);
    const slow = await paced(openUpload(h.url, `/api/tenants/${SHOP}/uploads`, tokens.alice as string, body.length), body, 3000, 500);
    expect([slow.status, slow.json.error?.code]).to.deep.equal([408, "upload_too_slow"]);
    expect(slow.json.error?.message).to.equal("the upload was too slow: a file of this size must arrive at 20 kB per second or faster; nothing was changed, please try again from a faster connection");
    expect(slow.ms).to.be.within(3800, 6000);
    expect((await uploads("alice", SHOP))[0]).to.include({ state: "refused", code: "upload_too_slow" });
    // 24 kB/s: 2.5 s, more than the 2 s other routes have; received whole, then checked
    const fast = await paced(openUpload(h.url, `/api/tenants/${SHOP}/uploads`, tokens.alice as string, body.length), body, 6000, 250);
    expect([fast.status, fast.json.error?.code]).to.deep.equal([422, "not_a_zip"]);
    expect(fast.ms).to.be.above(2000);
    expect(fresh(SHOP)).to.equal(before);
    expect(leftovers()).to.deep.equal([]);
  });

  it("keeps the request timeout on other routes: a JSON body that has not arrived in 2 s is answered 408", async () => {
    const up = openUpload(h.url, "/api/tenants", tokens.bob as string, 200, "application/json");
    up.write(Buffer.from('{"id": "bobs-'));
    const res = await up.answer;
    expect([res.status, res.json.error?.code]).to.deep.equal([408, "request_timeout"]);
    expect(res.ms).to.be.within(1900, 4000);
  });

  it("keeps upload status in PostgreSQL: a second server answers for an upload the first one received", async () => {
    const [last] = await uploads("alice", SHOP);
    const other = await Harness.start({ dir: h.dir, auth: h.auth, uploadDir });
    try {
      const res = await other.request<UploadView>("GET", `/api/tenants/${SHOP}/uploads/${last?.id ?? ""}`, { token: tokens.alice as string });
      expect(res.status, res.text).to.equal(200);
      expect(res.body).to.deep.equal(last);
      expect((await other.request("GET", `/api/tenants/${SHOP}/uploads/${last?.id ?? ""}`, { token: tokens.bob as string })).status).to.equal(404);
    } finally {
      await other.close({ keepDir: true });
    }
  });

  it("settles a dead server's uploads: a restore it was running becomes unknown (the server restarted), one it was receiving failed; its file is removed", async () => {
    const insert = (id: string, tenant: string, state: string) => h.app.records.pool.query(
      `insert into odoo_saas.uploads (id, tenant_id, requested_by, state, phase, phases, started_at, node_id, heartbeat_at)
       values ($1, $2, 'someone', $3, $3, '[]'::jsonb, now() - interval '1 hour', 'a-dead-server', now() - interval '1 hour')`,
      [id, tenant, state]);
    await insert("up_deadrestore1", TINY, "restoring");
    await insert("up_deadreceive1", BOBS, "receiving");
    const leftover = path.join(uploadDir, "odoo-saas-upload-up_deadreceive1-abc123");
    fs.mkdirSync(leftover);
    fs.writeFileSync(path.join(leftover, "upload.zip"), "half a file");
    const restore = await until("the dead server's restore", async () => (await h.request<UploadView>("GET", `/api/tenants/${TINY}/uploads/up_deadrestore1`, { token: tokens.alice as string })).body, (u) => u.finishedAt !== null, 10_000);
    expect(restore).to.include({ state: "unknown", message: RESTARTED_DURING_RESTORE });
    const receive = await until("the dead server's upload", async () => (await h.request<UploadView>("GET", `/api/tenants/${BOBS}/uploads/up_deadreceive1`, { token: tokens.bob as string })).body, (u) => u.finishedAt !== null, 10_000);
    expect(receive).to.include({ state: "failed", message: RESTARTED_BEFORE_RESTORE });
    expect(fs.existsSync(leftover)).to.equal(false);
    // the instance takes uploads again
    expect((await send("alice", TINY, fs.readFileSync(world.oldVersionZip))).json.error?.code).to.equal("version_mismatch");
  });
});

/**
 * Bring your own database through the signup API, on the real server and engine (stand-in
 * program), restored by PgUploadRestorer into a real PostgreSQL: an Odoo database-manager zip is
 * received, checked and restored, with its phases; hostile, wrong-version and too-big uploads are
 * refused with the reason, leave the instance's database exactly as before and no file behind;
 * only the owner or an admin may upload (404 for anyone else). The in-cluster restorer
 * (kube-upload-restorer.ts) cannot run here: no cluster runs in this suite (see README).
 */
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { randomBytes } from "node:crypto";
import * as yaml from "js-yaml";
import { expect } from "chai";
import type { UploadLimitView, UploadView } from "../../automation/upload-service";
import { startPostgres, type PostgresServer } from "../../local/local-postgres";
import { filestoreDigest, fingerprint } from "../backup/helpers";
import { Harness, writeFleetStackFile } from "../support/signup-harness";
import { FRESH_FINGERPRINT_SQL, uploadWorld, type UploadWorld } from "../support/upload-fixtures";

type ErrorBody = { error: { code: string; message: string } };

const SHOP = "alices-shop";
const TINY = "alices-tiny";
const BOBS = "bobs-shop";

/** Sends a body with or without Content-Length (chunked), reading the answer even if the server stops reading. */
function post(base: string, urlPath: string, token: string, body: Buffer, options: { chunked?: boolean; type?: string } = {}): Promise<{ status: number; json: ErrorBody & { upload: UploadView } }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}${urlPath}`, {
      method: "POST",
      headers: {
        Authorization: `Bearer ${token}`,
        "Content-Type": options.type ?? "application/zip",
        ...(options.chunked ? {} : { "Content-Length": String(body.length) }),
      },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString("utf8")) as ErrorBody & { upload: UploadView } }));
    });
    req.on("error", (err: NodeJS.ErrnoException) => {
      // The server answered and closed while this side was still sending: the answer counts.
      if (err.code !== "EPIPE" && err.code !== "ECONNRESET") reject(err);
    });
    for (let at = 0; at < body.length; at += 64 * 1024) req.write(body.subarray(at, at + 64 * 1024));
    req.end();
  });
}

describe("signup API: bring your own database (real server, engine and PostgreSQL)", function () {
  this.timeout(180_000);
  let h: Harness;
  let pg: PostgresServer;
  let world: UploadWorld;
  let work: string;
  let uploadDir: string;
  let alice: string;
  let bob: string;
  let admin: string;

  const fresh = (tenant: string) => pg.sql(tenant, FRESH_FINGERPRINT_SQL);
  const upload = (token: string, tenant: string, file: string) => post(h.url, `/api/tenants/${tenant}/uploads`, token, fs.readFileSync(file));
  const leftovers = () => fs.readdirSync(uploadDir);

  async function settled(token: string, tenant: string, id: string): Promise<UploadView> {
    for (let i = 0; i < 300; i++) {
      const res = await h.request<UploadView>("GET", `/api/tenants/${tenant}/uploads/${id}`, { token });
      expect(res.status, res.text).to.equal(200);
      if (res.body.finishedAt !== null) return res.body;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`upload ${id} did not finish`);
  }

  before(async () => {
    pg = await startPostgres();
    work = fs.mkdtempSync(path.join(os.tmpdir(), "upload-api-"));
    uploadDir = path.join(work, "received");
    fs.mkdirSync(uploadDir);
    world = await uploadWorld(pg, work);
    // The fleet stack with one more plan whose uploads may be at most 1 MiB.
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
    h = await Harness.start({ dir, tenantLimit: 3, uploads: world.restorer, uploadDir });
    h.auth.admins.add("root@example.com");
    alice = await h.token("alice");
    bob = await h.token("bob");
    admin = await h.token("root", { admin: true });
    for (const [token, id, plan] of [[alice, SHOP, "starter"], [alice, TINY, "tiny"], [bob, BOBS, "starter"]] as const) {
      const res = await h.request<{ operation: { id: string } }>("POST", "/api/tenants", { token, body: { id, plan, odooVersion: "17.0" } });
      expect(res.status, res.text).to.equal(202);
      expect((await h.waitForOperation(token, res.body.operation.id)).status).to.equal("succeeded");
      world.freshInstance(id);
    }
  });
  after(async () => {
    await h?.close({ keepDir: true });
    await pg?.stop();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it("tells the owner the plan's limit and the instance's Odoo version; anyone else gets 404 as for a missing instance", async () => {
    const res = await h.request<{ limit: UploadLimitView; uploads: UploadView[] }>("GET", `/api/tenants/${SHOP}/uploads`, { token: alice });
    expect(res.status, res.text).to.equal(200);
    expect(res.body.limit).to.deep.equal({ available: true, maxBytes: 10 * 2 ** 30, maxText: "10.7 GB", odooVersion: "17.0" });
    expect((await h.request<{ limit: UploadLimitView }>("GET", `/api/tenants/${TINY}/uploads`, { token: alice })).body.limit.maxText).to.equal("1 MB");
    const other = await h.request<ErrorBody>("GET", `/api/tenants/${SHOP}/uploads`, { token: bob });
    const missing = await h.request<ErrorBody>("GET", "/api/tenants/no-such-shop/uploads", { token: bob });
    expect([other.status, other.body.error.code]).to.deep.equal([404, "not_found"]);
    expect(other.body.error.code).to.equal(missing.body.error.code);
    expect((await h.request("GET", `/api/tenants/${SHOP}/uploads`)).status).to.equal(401);
  });

  it("refuses another user's upload with 404 before reading it, changing nothing", async () => {
    const before = fresh(SHOP);
    const res = await upload(bob, SHOP, world.odooZip);
    expect([res.status, res.json.error.code]).to.deep.equal([404, "not_found"]);
    expect(fresh(SHOP)).to.equal(before);
    expect(leftovers()).to.deep.equal([]);
  });

  it("refuses a dump with \\! (422 with the reason): the database as before, no file left, the shell never ran", async () => {
    const before = fresh(SHOP);
    const res = await upload(alice, SHOP, world.shellZip);
    expect(res.status).to.equal(422);
    expect(res.json.error.code).to.equal("sql_meta_command");
    expect(res.json.error.message).to.include("\\!");
    expect(fresh(SHOP)).to.equal(before);
    expect(leftovers()).to.deep.equal([]);
    expect(fs.existsSync(path.join(work, "shell-ran"))).to.equal(false);
    // The refusal is in the instance's upload history, in the same words.
    const list = await h.request<{ uploads: UploadView[] }>("GET", `/api/tenants/${SHOP}/uploads`, { token: alice });
    expect(list.body.uploads[0]).to.include({ state: "refused", code: "sql_meta_command", message: res.json.error.message });
  });

  it("refuses a backup of another Odoo version, naming both", async () => {
    const before = fresh(SHOP);
    const res = await upload(alice, SHOP, world.oldVersionZip);
    expect([res.status, res.json.error.code]).to.deep.equal([422, "version_mismatch"]);
    expect(res.json.error.message).to.include("Odoo 16.0").and.to.include("Odoo 17.0");
    expect(fresh(SHOP)).to.equal(before);
  });

  it("refuses more than the plan allows with 413: by Content-Length before reading, and while streaming a chunked body", async () => {
    const before = fresh(TINY);
    const big = randomBytes(3 * 1024 * 1024);
    for (const chunked of [false, true]) {
      const res = await post(h.url, `/api/tenants/${TINY}/uploads`, alice, big, { chunked });
      expect(res.status, `chunked ${chunked}`).to.equal(413);
      expect(res.json.error.code).to.equal("upload_too_large");
      expect(res.json.error.message).to.equal("the file is larger than your plan allows for an uploaded database (1 MB)");
    }
    expect(fresh(TINY)).to.equal(before);
    expect(leftovers()).to.deep.equal([]);
  });

  it("refuses a body that is not a zip upload (415), and an empty one", async () => {
    expect((await post(h.url, `/api/tenants/${SHOP}/uploads`, alice, Buffer.from("{}"), { type: "application/json" })).status).to.equal(415);
    expect((await post(h.url, `/api/tenants/${SHOP}/uploads`, alice, Buffer.alloc(0))).json.error.code).to.equal("empty_upload");
  });

  it("restores an Odoo database-manager zip: 202, then its phases, then exactly the uploaded data", async () => {
    const res = await upload(alice, SHOP, world.odooZip);
    expect(res.status, JSON.stringify(res.json)).to.equal(202);
    expect(res.json.upload.state).to.equal("restoring");
    expect(res.json.upload.receivedBytes).to.equal(fs.statSync(world.odooZip).size);
    const done = await settled(alice, SHOP, res.json.upload.id);
    expect(done.state, JSON.stringify(done)).to.equal("restored");
    expect(done.phases.map((p) => p.phase)).to.deep.equal(
      ["receiving", "checking-upload", "starting", "checking", "checking-empty", "loading-database", "copying-files", "switching", "done"]);
    expect(fingerprint(pg, SHOP)).to.equal(world.sourceFingerprint);
    expect(filestoreDigest(world.filestoreOf(SHOP))).to.deep.equal(world.sourceFiles);
    expect(leftovers()).to.deep.equal([]);
  });

  it("refuses a second upload into the instance now in use before reading its body (409): the restored data stays", async () => {
    const res = await upload(alice, SHOP, world.odooZip);
    expect([res.status, res.json.error.code]).to.deep.equal([409, "instance_not_empty"]);
    expect(res.json.error.message).to.match(/^a database can only be uploaded to a new or empty instance, and this one is in use \(/);
    const [done] = (await h.request<{ uploads: UploadView[] }>("GET", `/api/tenants/${SHOP}/uploads`, { token: alice })).body.uploads;
    expect(done).to.include({ state: "refused", code: "instance_not_empty", receivedBytes: 0 });
    expect(fingerprint(pg, SHOP)).to.equal(world.sourceFingerprint);
  });

  it("lets an administrator read the uploads; the log's detail is never a customer's", async () => {
    const res = await h.request<{ uploads: UploadView[] }>("GET", `/api/tenants/${SHOP}/uploads`, { token: admin });
    expect(res.status).to.equal(200);
    expect(res.body.uploads.map((u) => u.state)).to.deep.equal(["refused", "restored", "refused", "refused"]);
    const own = await h.request<{ uploads: UploadView[] }>("GET", `/api/tenants/${SHOP}/uploads`, { token: alice });
    expect(own.body.uploads.every((u) => u.detail === undefined)).to.equal(true);
    expect(h.logLines.join("\n")).to.not.include(world.odooZip);
  });
});

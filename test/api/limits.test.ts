/**
 * Issue 19's limits at every entry point of the real server (real PostgreSQL, runner and
 * engine, stand-in program; backups from a real folder in the PVC store's layout): the
 * credentials are read from the stack once per operation and bounded, suspend/resume and
 * downloads are bounded per user and per tenant (429 + Retry-After, nothing started), a HEAD
 * or an unknown name costs nothing, download links work once and on any server of the
 * database, and open event streams are capped per user (429) and per server (503).
 */
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { expect } from "chai";
import { StoreBackupAccess } from "../../automation/backup-access";
import type { RateRules } from "../../automation/rate-limits";
import type { OperationView } from "../../automation/tenant-views";
import { formatBackupName } from "../../backup/backup-name";
import { PvcBackupStore } from "../../backup/store/pvc-store";
import { Harness, userId } from "../support/signup-harness";

type ErrorBody = { error: { code: string; message: string } };
interface Created { operation: OperationView }

/** Windows far longer than the run: no boundary passes mid-test. */
const LONG = 9_999_999;
const RULES: RateRules = {
  download: { limit: 3, windowSeconds: LONG },
  credentials: { limit: 4, windowSeconds: LONG },
  "suspend-resume": { limit: 2, windowSeconds: LONG },
};

/** Opens an SSE stream; resolves with the status once the headers arrived, and a close function. */
function openStream(base: string, urlPath: string, token: string): Promise<{ status: number; retryAfter?: string; close(): void }> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${base}${urlPath}`, { headers: { Authorization: `Bearer ${token}`, Accept: "text/event-stream" } }, (res) => {
      res.on("data", () => undefined);
      res.on("error", () => undefined);
      resolve({ status: res.statusCode ?? 0, ...(res.headers["retry-after"] !== undefined ? { retryAfter: String(res.headers["retry-after"]) } : {}), close: () => req.destroy() });
    });
    req.on("error", (err) => {
      if (!req.destroyed) reject(err);
    });
  });
}

describe("signup API: limits on expensive requests and open streams (real server and engine)", function () {
  this.timeout(240_000);
  let h: Harness;
  let pvcDir: string;
  const tokens: Record<string, string> = {};
  const archive = randomBytes(300_000);
  const backup = formatBackupName("ann-shop", new Date(Date.UTC(2026, 10, 20, 2)), "scheduled");
  const access = (): StoreBackupAccess => new StoreBackupAccess({
    openStore: (tenant) => new PvcBackupStore(pvcDir, tenant),
    start: async () => ({ reference: "not-used" }),
  });

  const create = async (user: string, id: string): Promise<string> => {
    const res = await h.request<Created & ErrorBody>("POST", "/api/tenants", { token: tokens[user] as string, body: { id, plan: "starter" } });
    expect(res.status, res.text).to.equal(202);
    return res.body.operation.id;
  };

  before(async () => {
    pvcDir = fs.mkdtempSync(path.join(os.tmpdir(), "limits-backups-"));
    // Creates take 3 s each: long enough to hold event streams open on them.
    h = await Harness.start({ rateRules: RULES, streamCaps: { perUser: 2, perServer: 3 }, delayMs: 3_000, workers: 4, backups: access() });
    h.auth.admins.add("root@example.com");
    for (const user of ["ann", "bob", "cat", "dee", "eve", "fay"]) tokens[user] = await h.token(user);
    tokens.root = await h.token("root", { admin: true });
    const ops = await Promise.all([create("ann", "ann-shop"), create("bob", "bob-shop"), create("cat", "cat-shop")]);
    for (const [i, op] of ops.entries()) {
      const done = await h.waitForOperation(tokens.root as string, op);
      expect(done.status, JSON.stringify(done)).to.equal("succeeded");
      void i;
    }
    await new PvcBackupStore(pvcDir, "ann-shop").put(backup, Readable.from([archive]));
  });
  after(async () => {
    await h?.close();
    if (pvcDir) fs.rmSync(pvcDir, { recursive: true, force: true });
  });

  describe("credentials", () => {
    const read = (user: string, id: string) => h.request<ErrorBody & { password: string }>("GET", `/api/tenants/${id}/credentials`, { token: tokens[user] as string });

    it("reads the stack once: later reads are answered from what was read, much faster", async () => {
      let t = Date.now();
      const first = await read("ann", "ann-shop");
      const firstMs = Date.now() - t;
      expect(first.status, first.text).to.equal(200);
      t = Date.now();
      const again = [await read("ann", "ann-shop"), await read("ann", "ann-shop")];
      const againMs = Date.now() - t;
      for (const res of again) expect(res.body.password).to.equal(first.body.password);
      expect(againMs, `first ${firstMs} ms, two more ${againMs} ms`).to.be.below(firstMs);
      expect(h.logLines.join("\n")).to.not.include(first.body.password);
    });

    it("answers 429 with Retry-After past 4 reads per user and tenant; an admin's 404 counts nothing; others are untouched", async () => {
      expect((await read("root", "ann-shop")).status).to.equal(404);
      expect((await read("ann", "ann-shop")).status).to.equal(200);
      const refused = await read("ann", "ann-shop");
      expect(refused.status).to.equal(429);
      expect(refused.body.error.code).to.equal("too_many_requests");
      expect(refused.body.error.message).to.match(/login details.*try again in/);
      expect(Number(refused.headers["retry-after"])).to.be.within(1, LONG);
      expect((await read("bob", "bob-shop")).status).to.equal(200);
    });
  });

  describe("suspend and resume", () => {
    const act = (kind: "suspend" | "resume") => h.request<Created & ErrorBody>("POST", `/api/tenants/cat-shop/${kind}`, { token: tokens.cat as string });

    it("allows 2 engine runs per user and tenant; a 409 counts nothing; the third is 429 and queues nothing", async () => {
      expect((await act("resume")).status, "not suspended").to.equal(409);
      for (const kind of ["suspend", "resume"] as const) {
        const res = await act(kind);
        expect(res.status, res.text).to.equal(202);
        expect((await h.waitForOperation(tokens.cat as string, res.body.operation.id)).status).to.equal("succeeded");
      }
      const before = await h.app.records.pool.query("select id from odoo_saas.operations where tenant_id = 'cat-shop'");
      const refused = await act("suspend");
      expect(refused.status).to.equal(429);
      expect(refused.body.error.message).to.match(/pauses and restarts/);
      expect(Number(refused.headers["retry-after"])).to.be.above(0);
      const after = await h.app.records.pool.query("select id from odoo_saas.operations where tenant_id = 'cat-shop'");
      expect(after.rowCount).to.equal(before.rowCount);
      expect((await h.request<Created>("POST", "/api/tenants/bob-shop/suspend", { token: tokens.bob as string })).status, "another tenant").to.equal(202);
    });
  });

  describe("downloads (PVC layout: through the server)", () => {
    const url = (name: string) => `/api/tenants/ann-shop/backups/${name}/download`;

    it("HEAD and unknown names cost nothing; a link and its use count once; the 4th download is 429", async () => {
      for (let i = 0; i < 5; i++) {
        const head = await h.request("HEAD", url(backup), { token: tokens.ann as string });
        expect(head.status).to.equal(200);
        expect(head.headers["content-length"]).to.equal(String(archive.length));
        expect((await h.request("GET", url(formatBackupName("ann-shop", new Date(Date.UTC(2026, 0, 1)), "scheduled")), { token: tokens.ann as string })).status).to.equal(404);
      }
      const link = await h.request<{ url: string }>("GET", url(backup), { token: tokens.ann as string, headers: { Accept: "application/json" } });
      expect(link.status).to.equal(200);
      const used = await h.request("GET", link.body.url);
      expect(used.status).to.equal(200);
      expect(used.headers["content-length"]).to.equal(String(archive.length));
      expect((await h.request("GET", url(backup), { token: tokens.ann as string })).status).to.equal(200);
      expect((await h.request("GET", url(backup), { token: tokens.ann as string })).status).to.equal(200);
      const refused = await h.request<ErrorBody>("GET", url(backup), { token: tokens.ann as string });
      expect(refused.status).to.equal(429);
      expect(refused.body.error.message).to.match(/backup downloads/);
      expect(Number(refused.headers["retry-after"])).to.be.above(0);
      const { rows } = await h.app.records.pool.query<{ key: string; used: number }>("select key, used from odoo_saas.rate_limits where key like 'download:%' order by key");
      expect(rows).to.deep.equal([{ key: "download:tenant:ann-shop", used: 3 }, { key: `download:user:${userId("ann")}`, used: 3 }]);
    });

    it("a link made on one server works on another server of the database, once", async () => {
      // The database's tenants are shared: reset Ann's download allowance for this test.
      await h.app.records.pool.query("delete from odoo_saas.rate_limits where key like 'download:%'");
      const other = await Harness.start({ dir: h.dir, auth: h.auth, rateRules: RULES, backups: access() });
      try {
        const link = await h.request<{ url: string }>("GET", url(backup), { token: tokens.ann as string, headers: { Accept: "application/json" } });
        expect(link.status).to.equal(200);
        const elsewhere = await other.request("GET", link.body.url);
        expect(elsewhere.status).to.equal(200);
        expect(elsewhere.headers["content-length"]).to.equal(String(archive.length));
        expect((await h.request("GET", link.body.url)).status, "used once").to.equal(404);
        expect((await other.request("GET", link.body.url)).status, "used once").to.equal(404);
      } finally {
        await other.close({ keepDir: true });
      }
    });
  });

  describe("open event streams", () => {
    it("caps a user at 2 (429) and the server at 3 (503), with Retry-After; closed streams free their place", async () => {
      const [deeOp, eveOp] = await Promise.all([create("dee", "dee-shop"), create("eve", "eve-shop")]);
      const events = (op: string) => `/api/operations/${op}/events`;
      const dee1 = await openStream(h.url, events(deeOp), tokens.dee as string);
      const dee2 = await openStream(h.url, events(deeOp), tokens.dee as string);
      const dee3 = await openStream(h.url, events(deeOp), tokens.dee as string);
      expect([dee1.status, dee2.status, dee3.status]).to.deep.equal([200, 200, 429]);
      expect(Number(dee3.retryAfter)).to.be.above(0);
      const eve1 = await openStream(h.url, events(eveOp), tokens.eve as string);
      expect(eve1.status).to.equal(200);
      const eve2 = await openStream(h.url, events(eveOp), tokens.eve as string);
      expect(eve2.status, "the server's 3 are taken").to.equal(503);
      expect(Number(eve2.retryAfter)).to.be.above(0);
      dee1.close();
      await new Promise((r) => setTimeout(r, 200));
      const eve3 = await openStream(h.url, events(eveOp), tokens.eve as string);
      expect(eve3.status, "a closed stream's place").to.equal(200);
      for (const s of [dee2, eve1, eve3]) s.close();
      await h.waitForOperation(tokens.dee as string, deeOp);
      await h.waitForOperation(tokens.eve as string, eveOp);
      // Streams that ended (the operation finished) hold nothing: three open again.
      const again = await Promise.all([0, 1, 2].map((i) => openStream(h.url, events(i < 2 ? deeOp : eveOp), tokens[i < 2 ? "dee" : "eve"] as string)));
      expect(again.map((s) => s.status)).to.deep.equal([200, 200, 200]);
      for (const s of again) s.close();
      expect(h.app.events.subscriptionCount).to.equal(0);
    });
  });
});

/**
 * The owner's backups through the signup API, on the real server and engine (stand-in program).
 * The stores are real: a folder in the PVC store's layout (PvcBackupStore, read in-process) and
 * S3 on moto (StoreBackupAccess pre-signs real URLs, fetched here). The one stand-in is the start
 * of an on-demand backup: no cluster runs in this suite, so `start` records the call instead of
 * creating the Job (the Job from the CronJob is tested in test/backup/k8s-orchestration.test.ts).
 * The PVC download through a reader pod (kube-backup-access.ts) cannot run here: see README.
 */
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { expect } from "chai";
import { BackupRequests } from "../../automation/records/backup-requests";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { formatBackupName } from "../../backup/backup-name";
import { PvcBackupStore } from "../../backup/store/pvc-store";
import { S3BackupStore } from "../../backup/store/s3-store";
import { StoreBackupAccess, type BackupEntry } from "../../automation/backup-access";
import type { BackupLimitView } from "../../automation/backup-service";
import { DownloadTickets } from "../../automation/download-tickets";
import { DEFAULT_RATE_RULES } from "../../automation/rate-limits";
import { startMoto, type MotoServer } from "../support/moto";
import { Harness } from "../support/signup-harness";

type ErrorBody = { error: { code: string; message: string } };
interface Listing { backups: BackupEntry[]; limit: BackupLimitView }

const SHOP = "alices-shop";
const CLOUD = "alices-cloud";
const BOBS = "bobs-shop";
const BUCKET = "owner-backups";

function fetchUrl(url: string): Promise<{ status: number; body: Buffer; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    http.get(url, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), headers: res.headers }));
    }).on("error", reject);
  });
}

describe("signup API: owner backups (real server, engine and stores; stand-in backup start)", function () {
  this.timeout(180_000);
  let h: Harness;
  let moto: MotoServer;
  let s3: S3Client;
  let pvcDir: string;
  let alice: string;
  let bob: string;
  let admin: string;
  const started: string[] = [];
  let startFails = false;
  /** The tenant's backups cannot be read (a store that does not answer). */
  let storeFails = false;

  const at = (day: number, hour: number) => new Date(Date.UTC(2026, 10, day, hour, 0, 0));
  const scheduledOld = formatBackupName(SHOP, at(20, 2), "scheduled");
  const onDemand = formatBackupName(SHOP, at(21, 15), "on-demand");
  const scheduledNew = formatBackupName(SHOP, at(22, 2), "scheduled");
  const unfinished = formatBackupName(SHOP, at(23, 2), "scheduled");
  const bobsBackup = formatBackupName(BOBS, at(22, 2), "scheduled");
  const archive = randomBytes(700_000);

  before(async () => {
    moto = await startMoto();
    s3 = new S3Client({
      endpoint: moto.endpoint, region: "us-east-1", forcePathStyle: true,
      credentials: { accessKeyId: "AKIDOWNERTEST", secretAccessKey: "owner-test-secret" },
      requestChecksumCalculation: "WHEN_REQUIRED", responseChecksumValidation: "WHEN_REQUIRED",
    });
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    pvcDir = fs.mkdtempSync(path.join(os.tmpdir(), "owner-backups-"));
    const openStore = (tenant: string) => storeFails ? unreadable() : tenant === CLOUD
      ? new S3BackupStore({ client: s3, bucket: BUCKET, prefix: "platform", tenant, partSizeBytes: 5 * 1024 * 1024, addressing: { endpoint: moto.endpoint, region: "us-east-1", forcePathStyle: true } })
      : new PvcBackupStore(pvcDir, tenant);
    const access = new StoreBackupAccess({
      openStore,
      start: async (tenant) => {
        if (startFails) throw new Error("cronjobs.batch \"x\" is forbidden");
        started.push(tenant);
        return { reference: `ref-${started.length}` };
      },
    });
    // Downloads here test what is sent, not the rate limit (test/api/limits.test.ts).
    h = await Harness.start({ tenantLimit: 3, backups: access, rateRules: { ...DEFAULT_RATE_RULES, download: { limit: 1_000, windowSeconds: 600 } } });
    h.auth.admins.add("root@example.com");
    alice = await h.token("alice");
    bob = await h.token("bob");
    admin = await h.token("root", { admin: true });
    for (const [token, id] of [[alice, SHOP], [alice, CLOUD], [bob, BOBS]] as const) {
      const res = await h.request<{ operation: { id: string } }>("POST", "/api/tenants", { token, body: { id, plan: "starter" } });
      expect(res.status, res.text).to.equal(202);
      expect((await h.waitForOperation(token, res.body.operation.id)).status).to.equal("succeeded");
    }
    // Alice's PVC-layout store: three complete backups, one unfinished, one stray file; Bob's own.
    const shop = new PvcBackupStore(pvcDir, SHOP);
    for (const name of [scheduledOld, onDemand, scheduledNew]) await shop.put(name, Readable.from([name === onDemand ? archive : Buffer.from(name)]));
    fs.writeFileSync(path.join(pvcDir, SHOP, `${unfinished}.partial`), "half");
    fs.writeFileSync(path.join(pvcDir, SHOP, "notes.zip"), "not a backup");
    await new PvcBackupStore(pvcDir, BOBS).put(bobsBackup, Readable.from([Buffer.from("bob's")]));
    await new S3BackupStore({ client: s3, bucket: BUCKET, prefix: "platform", tenant: CLOUD, partSizeBytes: 5 * 1024 * 1024 })
      .put(formatBackupName(CLOUD, at(22, 2), "scheduled"), Readable.from([archive]));
  });
  after(async () => {
    await h?.close();
    s3?.destroy();
    await moto?.stop();
    if (pvcDir) fs.rmSync(pvcDir, { recursive: true, force: true });
  });

  const list = (token: string, id: string) => h.request<Listing & ErrorBody>("GET", `/api/tenants/${id}/backups`, { token });
  const backUp = (token: string, id: string) => h.request<ErrorBody & { backup: { reference: string }; limit: BackupLimitView }>("POST", `/api/tenants/${id}/backups`, { token });
  const download = (token: string | undefined, id: string, name: string, headers: Record<string, string> = {}) =>
    h.request<ErrorBody>("GET", `/api/tenants/${id}/backups/${name}/download`, { ...(token !== undefined ? { token } : {}), headers });

  describe("listing", () => {
    it("gives the owner name, time, kind, size and status, newest first, and only the tool's own names", async () => {
      const res = await list(alice, SHOP);
      expect(res.status, res.text).to.equal(200);
      expect(res.body.backups).to.deep.equal([
        { name: unfinished, createdAt: at(23, 2).toISOString(), kind: "scheduled", size: 4, status: "incomplete" },
        { name: scheduledNew, createdAt: at(22, 2).toISOString(), kind: "scheduled", size: scheduledNew.length, status: "complete" },
        { name: onDemand, createdAt: at(21, 15).toISOString(), kind: "on-demand", size: archive.length, status: "complete" },
        { name: scheduledOld, createdAt: at(20, 2).toISOString(), kind: "scheduled", size: scheduledOld.length, status: "complete" },
      ]);
      expect(res.body.limit.max).to.equal(5);
      expect(new Date(res.body.limit.resetsAt).getUTCHours()).to.equal(0);
    });

    it("shows an admin the same list; anyone else gets 404 exactly as for a missing instance", async () => {
      expect((await list(admin, SHOP)).body.backups.map((b) => b.name)).to.include(scheduledNew);
      const other = await list(bob, SHOP);
      const missing = await list(bob, "no-such-shop");
      expect(other.status).to.equal(404);
      expect(missing.status).to.equal(404);
      expect(other.body.error.code).to.equal(missing.body.error.code);
      expect(other.text).to.not.include(scheduledNew);
      expect((await h.request("GET", `/api/tenants/${SHOP}/backups`)).status).to.equal(401);
    });
  });

  describe("download (PVC layout, streamed by the server)", () => {
    it("streams the archive's exact bytes to the owner and to an admin, as an attachment", async () => {
      for (const token of [alice, admin]) {
        const res = await new Promise<{ status: number; body: Buffer; headers: http.IncomingHttpHeaders }>((resolve, reject) => {
          http.get(`${h.url}/api/tenants/${SHOP}/backups/${onDemand}/download`, { headers: { Authorization: `Bearer ${token}` } }, (r) => {
            const chunks: Buffer[] = [];
            r.on("data", (c: Buffer) => chunks.push(c));
            r.on("end", () => resolve({ status: r.statusCode ?? 0, body: Buffer.concat(chunks), headers: r.headers }));
          }).on("error", reject);
        });
        expect(res.status).to.equal(200);
        expect(res.headers["content-type"]).to.equal("application/zip");
        expect(res.headers["content-disposition"]).to.equal(`attachment; filename="${onDemand}"`);
        expect(res.body.equals(archive)).to.equal(true);
      }
    });

    it("answers 404 to anyone else, and for names that are not this instance's complete backups", async () => {
      expect((await download(bob, SHOP, onDemand)).status).to.equal(404);
      expect((await download(undefined, SHOP, onDemand)).status).to.equal(401);
      for (const name of [bobsBackup, "notes.zip", unfinished, `${unfinished}.partial`, formatBackupName(SHOP, at(1, 1), "scheduled"), "..", "%2e%2e%2f" + bobsBackup, `..%2F${BOBS}%2F${bobsBackup}`]) {
        const res = await download(alice, SHOP, name);
        expect(res.status, name).to.equal(404);
        expect(res.text, name).to.not.include("bob's");
      }
    });
  });

  describe("download links for the page (PVC layout: a short-lived ticket)", () => {
    const fetchBytes = (urlPath: string) => fetchUrl(`${h.url}${urlPath}`);

    it("gives the owner a link that downloads without a token, for that one file only", async () => {
      const res = await h.request<{ url: string; expiresAt: string }>("GET", `/api/tenants/${SHOP}/backups/${onDemand}/download`, { token: alice, headers: { Accept: "application/json" } });
      expect(res.status, res.text).to.equal(200);
      expect(res.body.url).to.match(new RegExp(`^/api/tenants/${SHOP}/backups/${onDemand.replace(/\./g, "\\.")}/download\\?ticket=[A-Za-z0-9_%.-]+$`));
      expect(new Date(res.body.expiresAt).getTime() - Date.now()).to.be.within(200_000, 301_000);
      const got = await fetchBytes(res.body.url);
      expect(got.status).to.equal(200);
      expect(got.headers["content-disposition"]).to.equal(`attachment; filename="${onDemand}"`);
      expect(got.body.equals(archive)).to.equal(true);
      // The same ticket on another file, another instance, or altered: 404, and nothing of the file.
      const ticket = res.body.url.split("?ticket=")[1] as string;
      for (const other of [
        `/api/tenants/${SHOP}/backups/${scheduledOld}/download?ticket=${ticket}`,
        `/api/tenants/${BOBS}/backups/${bobsBackup}/download?ticket=${ticket}`,
        `/api/tenants/${SHOP}/backups/${onDemand}/download?ticket=${ticket.slice(0, -2)}xx`,
        `/api/tenants/${SHOP}/backups/${onDemand}/download?ticket=`,
      ]) {
        const refused = await fetchBytes(other);
        expect(refused.status, other).to.equal(404);
        expect(refused.body.includes(archive.subarray(0, 64)), other).to.equal(false);
      }
      // Tickets are not logged (the request log keeps paths only).
      expect(h.logLines.join("\n")).to.not.include(decodeURIComponent(ticket));
    });

    it("gives no link to anyone else, nor for a name that is not a complete backup", async () => {
      expect((await h.request("GET", `/api/tenants/${SHOP}/backups/${onDemand}/download`, { token: bob, headers: { Accept: "application/json" } })).status).to.equal(404);
      expect((await h.request("GET", `/api/tenants/${SHOP}/backups/${unfinished}/download`, { token: alice, headers: { Accept: "application/json" } })).status).to.equal(404);
    });

    it("a link works once: the second use of the same ticket is 404 and sends nothing", async () => {
      const res = await h.request<{ url: string }>("GET", `/api/tenants/${SHOP}/backups/${onDemand}/download`, { token: alice, headers: { Accept: "application/json" } });
      expect(res.status, res.text).to.equal(200);
      // A HEAD (a browser or proxy looking first) does not spend it.
      const head = await h.request("HEAD", res.body.url);
      expect(head.status).to.equal(200);
      expect(head.headers["content-length"]).to.equal(String(archive.length));
      const first = await fetchBytes(res.body.url);
      expect(first.status).to.equal(200);
      expect(first.body.equals(archive)).to.equal(true);
      const again = await fetchBytes(res.body.url);
      expect(again.status).to.equal(404);
      expect(again.body.includes(archive.subarray(0, 64))).to.equal(false);
    });

    it("tickets expire after 5 minutes, bind tenant, name and caller, and are kept only as a hash", async () => {
      const tickets = new DownloadTickets(h.app.records.pool);
      const now = new Date();
      const { ticket } = await tickets.issue({ sub: "u1", isAdmin: false }, SHOP, onDemand, now);
      expect(await tickets.redeem(ticket, SHOP, onDemand, false, new Date(now.getTime() + 299_000))).to.deep.equal({ sub: "u1", isAdmin: false });
      expect(await tickets.redeem(ticket, SHOP, onDemand, true, new Date(now.getTime() + 301_000))).to.equal(undefined);
      expect(await tickets.redeem(ticket, SHOP, scheduledOld, true, now)).to.equal(undefined);
      expect(await tickets.redeem(ticket, BOBS, onDemand, true, now)).to.equal(undefined);
      expect(await tickets.redeem(`${ticket.slice(0, -2)}xx`, SHOP, onDemand, true, now)).to.equal(undefined);
      const stored = await h.app.records.pool.query<{ hex: string }>("select encode(ticket_hash, 'hex') as hex from odoo_saas.download_tickets");
      expect(stored.rows.map((r) => r.hex).join(" ")).to.not.include(Buffer.from(ticket).toString("hex"));
      expect(await tickets.redeem(ticket, SHOP, onDemand, true, now)).to.deep.equal({ sub: "u1", isAdmin: false });
      expect(await tickets.redeem(ticket, SHOP, onDemand, true, now), "used once").to.equal(undefined);
    });
  });

  describe("download (S3 on moto: a pre-signed URL)", () => {
    const name = formatBackupName(CLOUD, at(22, 2), "scheduled");

    it("redirects the owner to a short-lived URL that returns the archive's bytes", async () => {
      const res = await download(alice, CLOUD, name);
      expect(res.status).to.equal(302);
      const location = String(res.headers.location);
      expect(location.startsWith(`${moto.endpoint}/${BUCKET}/platform/${CLOUD}/${name}?`)).to.equal(true);
      expect(location).to.match(/X-Amz-Expires=300&/);
      expect(location).to.not.include("owner-test-secret");
      const fetched = await fetchUrl(location);
      expect(fetched.status).to.equal(200);
      expect(fetched.body.equals(archive)).to.equal(true);
    });

    it("gives the page the URL as JSON (it sends a token, then navigates), and 404 to anyone else", async () => {
      const res = await h.request<{ url: string; expiresAt: string }>("GET", `/api/tenants/${CLOUD}/backups/${name}/download`, { token: alice, headers: { Accept: "application/json" } });
      expect(res.status).to.equal(200);
      expect((await fetchUrl(res.body.url)).body.equals(archive)).to.equal(true);
      expect(new Date(res.body.expiresAt).getTime() - Date.now()).to.be.within(200_000, 301_000);
      expect((await download(bob, CLOUD, name)).status).to.equal(404);
      expect((await download(alice, CLOUD, formatBackupName(CLOUD, at(1, 1), "scheduled"))).status).to.equal(404);
    });
  });

  describe("back up now", () => {
    it("refuses anyone but the owner or an admin with 404, starting nothing", async () => {
      const before = started.length;
      expect((await backUp(bob, SHOP)).status).to.equal(404);
      expect(started.length).to.equal(before);
    });

    it("starts at most 5 a UTC day per instance, then 429 with the code, when it resets and Retry-After", async () => {
      for (let i = 1; i <= 5; i++) {
        const res = await backUp(i === 3 ? admin : alice, SHOP);
        expect(res.status, res.text).to.equal(202);
        expect(res.body.limit.used).to.equal(i);
      }
      expect(started.filter((t) => t === SHOP)).to.have.length(5);
      const refused = await backUp(alice, SHOP);
      expect(refused.status).to.equal(429);
      expect(refused.body.error.code).to.equal("backup_limit");
      expect(refused.body.error.message).to.match(/5 backups a day.*00:00 UTC/);
      const retry = Number(refused.headers["retry-after"]);
      expect(retry).to.be.within(1, 86_400);
      expect(started.filter((t) => t === SHOP)).to.have.length(5);
      // Per instance: Alice's other instance is not affected.
      expect((await backUp(alice, CLOUD)).status).to.equal(202);
      // Recorded in the database (before the answer), with what the cluster was given.
      expect(await new BackupRequests(h.app.records).references(SHOP)).to.have.length(5);
      expect((await list(alice, SHOP)).body.limit.used).to.equal(5);
    });

    it("does not count a request the cluster refused, and says so without operator words (503)", async () => {
      startFails = true;
      try {
        const res = await backUp(bob, BOBS);
        expect(res.status).to.equal(503);
        expect(res.body.error.code).to.equal("backups_unavailable");
        expect(res.text).to.not.match(/forbidden|cronjob/i);
      } finally {
        startFails = false;
      }
      expect((await list(bob, BOBS)).body.limit.used).to.equal(0);
    });

    it("does not spend the allowance when the backups cannot even be read: 503 before anything is counted or started", async () => {
      const before = started.length;
      storeFails = true;
      try {
        expect((await list(bob, BOBS)).status).to.equal(503);
        const res = await backUp(bob, BOBS);
        expect(res.status).to.equal(503);
        expect(res.body.error.code).to.equal("backups_unavailable");
      } finally {
        storeFails = false;
      }
      expect(started.length).to.equal(before);
      expect((await list(bob, BOBS)).body.limit.used).to.equal(0);
    });
  });
});

/** A store whose every read fails, as a bucket or volume that does not answer. */
function unreadable(): never {
  throw new Error("connect ECONNREFUSED (store not reachable)");
}

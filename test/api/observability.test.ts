/**
 * What an operator watches (issue 23, section 4), on the real server, engine and PostgreSQL
 * (stand-in program): GET /metrics behind its token, counters that move with a signup, a failed
 * signup, an on-demand backup and a refused upload, no tenant id or e-mail in any label; JSON
 * log lines of one signup joined by its request id from the HTTP request through the queue to
 * the engine run, and no secret in them. The backups are read from a real folder in the PVC store's layout; the
 * one stand-in is the start of the backup Job (no cluster in this suite, as in backups.test.ts).
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect } from "chai";
import { StoreBackupAccess } from "../../automation/backup-access";
import { PgUploadRestorer } from "../../automation/upload-restorer";
import { PvcBackupStore } from "../../backup/store/pvc-store";
import { Harness } from "../support/signup-harness";
import { connectionString } from "../support/test-postgres";

const TOKEN = crypto.randomBytes(32).toString("hex");
const SHOP = "obs-shop";
const BROKEN = "obs-fail";

/** Samples of a scrape: `name{labels}` -> value. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const at = line.lastIndexOf(" ");
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

type Line = Record<string, unknown>;

describe("signup API: metrics and logs an operator can watch (real server, engine and PostgreSQL)", function () {
  this.timeout(180_000);
  let h: Harness;
  let pvcDir: string;
  let alice: string;
  const started: string[] = [];

  const scrape = async () => {
    const res = await h.request<string>("GET", "/metrics", { headers: { Authorization: `Bearer ${TOKEN}` } });
    expect(res.status, res.text).to.equal(200);
    return { text: res.text, values: samples(res.text) };
  };
  const signup = async (id: string, headers: Record<string, string> = {}) => {
    const res = await h.request<{ operation: { id: string } }>("POST", "/api/tenants", { token: alice, body: { id, plan: "starter" }, headers });
    expect(res.status, res.text).to.equal(202);
    return { res, operation: await h.waitForOperation(alice, res.body.operation.id) };
  };

  before(async () => {
    pvcDir = fs.mkdtempSync(path.join(os.tmpdir(), "obs-backups-"));
    const backups = new StoreBackupAccess({
      openStore: (tenant) => new PvcBackupStore(pvcDir, tenant),
      start: async (tenant) => {
        started.push(tenant);
        return { reference: `ref-${started.length}` };
      },
    });
    // Uploads go to the real restorer against the run's PostgreSQL (a database that does not exist
    // yet reads as empty); the upload below is refused by its checks before anything is restored.
    const server = new URL(connectionString("postgres"));
    const uploads = new PgUploadRestorer((tenant) => ({
      pg: {
        host: server.hostname, port: Number(server.port), user: decodeURIComponent(server.username), password: decodeURIComponent(server.password),
        database: `obs_upload_${tenant.replace(/-/g, "_")}`, maintenanceDatabase: "postgres", passThrough: {},
      },
      filestoreDir: path.join(pvcDir, "filestore", tenant),
    }));
    h = await Harness.start({ backups, uploads, metricsToken: TOKEN });
    alice = await h.token("alice");
  });
  after(async () => {
    await h?.close();
    if (pvcDir) fs.rmSync(pvcDir, { recursive: true, force: true });
  });

  it("refuses /metrics without the token (401, constant-time check) and serves the text format with it", async () => {
    const none = await h.request<{ error: { code: string } }>("GET", "/metrics");
    expect([none.status, none.body.error.code]).to.deep.equal([401, "unauthorized"]);
    expect(none.headers["www-authenticate"]).to.include("Bearer");
    expect(none.text).to.not.include("odoo_saas_");
    for (const wrong of [`Bearer ${TOKEN.slice(0, -1)}x`, `Bearer ${TOKEN}${TOKEN}`, TOKEN, `Basic ${TOKEN}`, `Bearer ${alice}`]) {
      expect((await h.request("GET", "/metrics", { headers: { Authorization: wrong } })).status, wrong.slice(0, 12)).to.equal(401);
    }
    const res = await h.request<string>("GET", "/metrics", { headers: { Authorization: `Bearer ${TOKEN}` } });
    expect(res.status).to.equal(200);
    expect(res.headers["content-type"]).to.match(/^text\/plain; version=0\.0\.4/);
    expect(res.text).to.include("# TYPE odoo_saas_operations_total counter");
  });

  it("moves each counter with a signup, a failed signup, a backup and a refused upload; reads the queue and the tenants; no id or e-mail in a label", async () => {
    const before = (await scrape()).values;
    expect((await signup(SHOP)).operation.status).to.equal("succeeded");
    expect((await signup(BROKEN)).operation.status).to.equal("failed");
    const backup = await h.request("POST", `/api/tenants/${SHOP}/backups`, { token: alice });
    expect(backup.status, backup.text).to.equal(202);
    const refused = await h.request("POST", "/api/tenants/no-such-shop/backups", { token: alice });
    expect(refused.status).to.equal(404);
    const upload = await h.request("POST", `/api/tenants/${SHOP}/uploads`, { token: alice, raw: Buffer.from("not a zip at all"), headers: { "Content-Type": "application/zip" } });
    expect(upload.status, upload.text).to.equal(422);
    await h.app.idle();

    const { text, values } = await scrape();
    const moved = (key: string) => (values.get(key) ?? 0) - (before.get(key) ?? 0);
    expect(moved('odoo_saas_operations_total{kind="create",outcome="succeeded"}')).to.equal(1);
    expect(moved('odoo_saas_operations_total{kind="create",outcome="failed"}')).to.equal(1);
    expect(moved('odoo_saas_backup_requests_total{outcome="accepted"}')).to.equal(1);
    expect(moved('odoo_saas_backup_requests_total{outcome="refused"}')).to.equal(1);
    expect(moved('odoo_saas_uploads_total{outcome="refused"}')).to.equal(1);
    expect(moved('odoo_saas_http_requests_total{method="POST",route="/api/tenants/:id/uploads",code="422"}')).to.equal(1);
    expect(moved('odoo_saas_http_requests_total{method="POST",route="/api/tenants",code="202"}')).to.equal(2);
    expect(moved('odoo_saas_http_requests_total{method="POST",route="/api/tenants/:id/backups",code="202"}')).to.equal(1);
    expect(moved('odoo_saas_http_requests_total{method="GET",route="/api/operations/:operation",code="200"}')).to.be.greaterThan(0);
    for (const phase of ["queue_wait", "engine_run", "status_write", "total"]) {
      expect(moved(`odoo_saas_operation_phase_seconds_count{phase="${phase}",kind="create"}`), phase).to.equal(2);
    }
    // The engine runs took time: their seconds are in the histogram, not zeros.
    expect(moved('odoo_saas_operation_phase_seconds_sum{phase="engine_run",kind="create"}')).to.be.greaterThan(0.5);
    // Read at scrape time: nothing queued now, and the two tenants by the status their customer sees
    // (no cluster is read in this suite, so the applied one is "unknown": nothing is claimed).
    expect(values.get('odoo_saas_queue_operations{status="queued"}')).to.equal(0);
    expect(values.get('odoo_saas_queue_operations{status="running"}')).to.equal(0);
    expect(values.get('odoo_saas_queue_oldest_age_seconds{status="queued"}')).to.equal(0);
    expect(values.get('odoo_saas_tenants{status="failed"}')).to.equal(1);
    expect(values.get('odoo_saas_tenants{status="unknown"}')).to.equal(1);
    expect(values.get('odoo_saas_tenants{status="ready"}')).to.equal(0);
    expect(values.get('odoo_saas_scrape_read_failed{read="queue"}')).to.equal(0);
    expect(values.get('odoo_saas_scrape_read_failed{read="tenants"}')).to.equal(0);
    expect(values.get("odoo_saas_engine_runs_in_flight")).to.equal(0);
    expect(values.has("odoo_saas_engine_rss_bytes")).to.equal(true);
    expect(values.get("process_resident_memory_bytes")).to.be.greaterThan(0);

    for (const secret of [SHOP, BROKEN, "alice@example.com", "alice", TOKEN]) expect(text, secret).to.not.include(secret);
    const labelValues = [...text.matchAll(/="([^"]*)"/g)].map((m) => m[1] as string);
    for (const value of labelValues) expect(value, value).to.match(/^(\/[A-Za-z0-9/:._-]*|[A-Za-z0-9_.+-]+)$/);
  });

  it("joins one signup's log lines by its request id: the HTTP line, the queue's and the engine's", async () => {
    const requestId = `join-${crypto.randomBytes(6).toString("hex")}`;
    const { res, operation } = await signup("obs-joined", { "X-Request-Id": requestId });
    expect(operation.status).to.equal("succeeded");
    expect(res.headers["x-request-id"]).to.equal(requestId);
    expect((await h.app.records.operation(operation.id))?.requestId).to.equal(requestId);
    const lines = h.logLines.map((l) => JSON.parse(l) as Line).filter((l) => l.requestId === requestId);
    const find = (msg: string) => lines.find((l) => l.msg === msg);
    expect(find("request"), "HTTP line").to.deep.include({ method: "POST", route: "/api/tenants", status: 202 });
    expect(find("signup accepted"), "service line").to.include({ tenant: "obs-joined", operation: operation.id });
    expect(find("operation started"), "queue line").to.include({ operation: operation.id, kind: "create" });
    expect(find("engine update finished"), "engine line").to.include({ operation: operation.id, stack: "dev-tenant-obs-joined" });
    expect(find("operation succeeded"), "queue line").to.include({ operation: operation.id });
    // Every line is JSON with a level and an ISO time.
    for (const line of lines) {
      expect(line.level).to.be.oneOf(["debug", "info", "warn", "error"]);
      expect(new Date(line.time as string).toISOString()).to.equal(line.time);
    }
  });

  it("makes its own request id when the incoming one is not plain, and answers it", async () => {
    for (const given of ["has spaces in it", "x".repeat(200), "semi;colon"]) {
      const res = await h.request("GET", "/api/me", { token: alice, headers: { "X-Request-Id": given } });
      expect(res.headers["x-request-id"]).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    }
    expect(h.logLines.join("\n")).to.not.include("has spaces in it");
  });

  it("logs no secret of a signup: not the admin password, the tokens, the metrics token or the JWT secret", async () => {
    const creds = await h.request<{ password: string }>("GET", `/api/tenants/${SHOP}/credentials`, { token: alice });
    expect(creds.status, creds.text).to.equal(200);
    const all = h.logLines.join("\n");
    for (const secret of [creds.body.password, alice, TOKEN, h.config.hs256Secret as string]) expect(all).to.not.include(secret);
  });

  it("shows an engine run in flight, its memory and the running operation's age, and none once it is done", async () => {
    // A second server on its own database whose stand-in program takes 1.5 s per resource.
    const slow = await Harness.start({ auth: h.auth, metricsToken: TOKEN, delayMs: 1_500 });
    try {
      const read = async () => samples((await slow.request<string>("GET", "/metrics", { headers: { Authorization: `Bearer ${TOKEN}` } })).text);
      const res = await slow.request<{ operation: { id: string } }>("POST", "/api/tenants", { token: alice, body: { id: "obs-slow", plan: "starter" } });
      expect(res.status, res.text).to.equal(202);
      let during = await read();
      // Until the update itself runs (the short workspace commands before it hold little memory).
      for (let i = 0; i < 300 && !((during.get("odoo_saas_engine_rss_bytes") ?? 0) > 20 * 1024 * 1024); i++) {
        await new Promise((r) => setTimeout(r, 200));
        during = await read();
      }
      expect(during.get("odoo_saas_engine_runs_in_flight")).to.equal(1);
      expect(during.get("odoo_saas_engine_commands_running")).to.be.at.least(1);
      // The CLI and its plugins: tens of MiB at least.
      expect(during.get("odoo_saas_engine_rss_bytes")).to.be.greaterThan(20 * 1024 * 1024);
      expect(during.get("odoo_saas_engine_rss_bytes")).to.be.below(4 * 1024 ** 3);
      expect(during.get('odoo_saas_queue_operations{status="running"}')).to.equal(1);
      expect(during.get('odoo_saas_queue_oldest_age_seconds{status="running"}')).to.be.greaterThan(0);
      expect((await slow.waitForOperation(alice, res.body.operation.id)).status).to.equal("succeeded");
      await slow.app.idle();
      const after = await read();
      expect(after.get("odoo_saas_engine_runs_in_flight")).to.equal(0);
      expect(after.get("odoo_saas_engine_rss_bytes")).to.equal(0);
      expect(after.get('odoo_saas_queue_operations{status="running"}')).to.equal(0);
    } finally {
      await slow.close();
    }
  });

  it("refuses to serve /metrics on a server without ODOO_SAAS_METRICS_TOKEN (503), whatever is sent", async () => {
    const bare = await Harness.start({ auth: h.auth });
    try {
      const variants: Array<Record<string, string>> = [{}, { Authorization: `Bearer ${TOKEN}` }, { Authorization: "Bearer " }];
      for (const headers of variants) {
        const res = await bare.request<{ error: { code: string } }>("GET", "/metrics", { headers });
        expect([res.status, res.body.error.code]).to.deep.equal([503, "metrics_disabled"]);
      }
    } finally {
      await bare.close();
    }
  });
});

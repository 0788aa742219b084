/**
 * Never two engines on one stack: two signup servers (own processes, own workspace folders, as
 * on two machines) on one database, the state in an S3-compatible backend (moto). The server
 * running a signup is stopped (SIGSTOP) past the heartbeat timeout while its engine runs, so the
 * other releases its job and takes the operation over; then it is continued (SIGCONT). The
 * engine runs on that stack (the backend's own update history: start and end) never overlap,
 * the state is intact (one tenant, no pending operation, one external create, the password the
 * owner reads is the one created), the stalled server's late result is refused, and the
 * operation ends exactly once. Real servers, runner and engine; stand-in program.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect } from "chai";
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { Client } from "pg";
import { repoRoot } from "../../automation/engine/engine-env";
import { startAuthStandIn, type AuthStandIn } from "../../local/local-supabase-auth";
import type { OperationView } from "../../automation/tenant-views";
import { killGroup, killTagged, spawnServer, type ServerProcess } from "../support/processes";
import { databaseOf, request, userId, writeFleetStackFile } from "../support/signup-harness";
import { startMoto, type MotoServer } from "../support/moto";

describe("a stalled server never runs an engine beside the one that took its operation over (S3 backend, two servers)", function () {
  this.timeout(400_000);
  const marker = crypto.randomUUID();
  const script = path.join(repoRoot(), "dist", "test", "support", "standin-server-main.js");
  let auth: AuthStandIn;
  let moto: MotoServer;
  let s3: S3Client;
  let dir: string;
  let db: Client;
  const servers: ServerProcess[] = [];

  before(async () => {
    auth = await startAuthStandIn();
    moto = await startMoto();
    s3 = new S3Client({ endpoint: moto.endpoint, region: "us-east-1", forcePathStyle: true, credentials: { accessKeyId: "test", secretAccessKey: "test" } });
    await s3.send(new CreateBucketCommand({ Bucket: "pulumi-state" }));
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "odoo-saas-stall-"));
    writeFleetStackFile(dir);
    fs.mkdirSync(path.join(dir, "world"));
    const databaseUrl = await databaseOf(dir);
    db = new Client({ connectionString: databaseUrl });
    await db.connect();
    for (const name of ["a", "b"]) {
      servers.push(await spawnServer(script, {
        PORT: "0", HOST: "127.0.0.1", SUPABASE_URL: auth.url, SUPABASE_ANON_KEY: "standin-anon-key", SUPABASE_JWT_SECRET: "",
        ODOO_SAAS_OPS_DIR: dir, ODOO_SAAS_OPS_STACK: "dev", ODOO_SAAS_STORE_DIR: path.join(dir, `store-${name}`),
        // Each "machine" has its own workspaces; the state is shared in the object store.
        ODOO_SAAS_BACKEND_DIR: path.join(dir, `engine-${name}`, "backend"), ODOO_SAAS_PULUMI_HOME: path.join(dir, `engine-${name}`, "home"),
        ODOO_SAAS_BACKEND_URL: `s3://pulumi-state?endpoint=${encodeURIComponent(moto.endpoint)}&use_path_style=true&region=us-east-1`,
        AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: "test", AWS_REGION: "us-east-1",
        ODOO_SAAS_TENANT_LIMIT: "3", KUBECONFIG: "none", STANDIN_WORLD_DIR: path.join(dir, "world"), STANDIN_DELAY_MS: "8000",
        ODOO_SAAS_TEST_RUN: marker, PULUMI_CONFIG_PASSPHRASE: "stall-test-passphrase", DATABASE_URL: databaseUrl, ODOO_SAAS_WORKERS: "1",
      }));
    }
  });

  after(async () => {
    for (const server of servers) {
      if (server.child.pid !== undefined && server.child.exitCode === null) {
        try { process.kill(server.child.pid, "SIGCONT"); } catch { /* gone */ }
        await killGroup(server);
      }
    }
    killTagged(marker);
    await db?.end();
    await moto?.stop();
    await auth?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const operationRow = async (id: string): Promise<{ status: string; attempts: number; node_id: string | null }> =>
    (await db.query<{ status: string; attempts: number; node_id: string | null }>(
      "select o.status, o.attempts, w.node_id from odoo_saas.operations o left join odoo_saas.workers w on w.worker_id = o.worker_id where o.id = $1", [id])).rows[0] ?? { status: "missing", attempts: 0, node_id: null };

  async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs: number, what: string): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await read();
      if (done(value)) return value;
      if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms (last: ${JSON.stringify(value)})`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** The backend's own record of every engine update of the stack: start and end times. */
  async function updateHistory(stack: string): Promise<Array<{ start: number; end: number; result: string }>> {
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: "pulumi-state", Prefix: `.pulumi/history/odoo-saas/${stack}/` }));
    const out: Array<{ start: number; end: number; result: string }> = [];
    for (const item of listed.Contents ?? []) {
      if (!item.Key?.endsWith(".history.json")) continue;
      const body = await (await s3.send(new GetObjectCommand({ Bucket: "pulumi-state", Key: item.Key }))).Body?.transformToString();
      const entry = JSON.parse(body ?? "{}") as { kind?: string; startTime?: number; endTime?: number; result?: string };
      if (entry.kind === "update") out.push({ start: entry.startTime ?? 0, end: entry.endTime ?? Infinity, result: entry.result ?? "?" });
    }
    return out.sort((x, y) => x.start - y.start);
  }

  it("SIGSTOP of the server running a signup past the heartbeat timeout, then SIGCONT: engine runs never overlap, state intact, the operation ends once", async () => {
    const [a] = servers as [ServerProcess, ServerProcess];
    const token = await auth.sign({ sub: userId("stall-owner"), email: "stall@example.com" });
    const res = await request<{ operation: OperationView }>(a.url, "POST", "/api/tenants", { token, body: { id: "stall", plan: "starter" } });
    expect(res.status, res.text).to.equal(202);
    const opId = res.body.operation.id;
    const running = await until(() => operationRow(opId), (r) => r.status === "running" && r.node_id !== null, 60_000, "the signup runs");
    const stalled = servers.find((s) => running.node_id?.split("-").at(-2) === String(s.child.pid));
    if (!stalled?.child.pid) throw new Error(`no server runs it (${running.node_id ?? "?"})`);
    // Its engine is creating the tenant's resource (8 s) when the server stops.
    await new Promise((r) => setTimeout(r, 2_500));
    process.kill(stalled.child.pid, "SIGSTOP");
    // The other server finds it dead (heartbeat 4 s), takes the operation over (attempt 2) and must not run beside it.
    await until(() => operationRow(opId), (r) => r.attempts >= 2, 60_000, "the other server takes the operation over");
    await new Promise((r) => setTimeout(r, 1_500));
    process.kill(stalled.child.pid, "SIGCONT");
    const final = await until(() => operationRow(opId), (r) => r.status === "succeeded" || r.status === "failed", 240_000, "the operation ends");
    expect(final.status).to.equal("succeeded");

    const ends = await db.query<{ type: string }>("select event->>'type' as type from odoo_saas.operation_events where operation_id = $1 and event->>'type' in ('succeeded', 'failed')", [opId]);
    expect(ends.rows.map((r) => r.type), "ended exactly once").to.deep.equal(["succeeded"]);
    const history = await updateHistory("dev-tenant-stall");
    expect(history.length, JSON.stringify(history)).to.be.at.least(1);
    for (let i = 1; i < history.length; i++) {
      expect(history[i]?.start ?? 0, `update ${i} started before update ${i - 1} ended: ${JSON.stringify(history)}`).to.be.at.least(history[i - 1]?.end ?? Infinity);
    }
    const checkpoint = await (await s3.send(new GetObjectCommand({ Bucket: "pulumi-state", Key: ".pulumi/stacks/odoo-saas/dev-tenant-stall.json" }))).Body?.transformToString();
    const latest = (JSON.parse(checkpoint ?? "{}") as { checkpoint: { latest: { resources: Array<{ urn: string; type: string }>; pending_operations?: unknown[] } } }).checkpoint.latest;
    expect(latest.pending_operations ?? [], "no pending operation left").to.deep.equal([]);
    expect(latest.resources.filter((r) => r.type === "odoo-saas:test:StandInTenant").map((r) => r.urn.split("::").pop())).to.deep.equal(["stall"]);
    const journal = fs.readFileSync(path.join(dir, "world", "journal.log"), "utf8").split("\n").filter((l) => l.endsWith(" stall"));
    expect(journal, "one external create").to.deep.equal(["created stall"]);
    const world = JSON.parse(fs.readFileSync(path.join(dir, "world", "stall.json"), "utf8")) as { password: string };
    const creds = await request<{ password: string }>(a.url, "GET", "/api/tenants/stall/credentials", { token });
    expect(creds.status, creds.text).to.equal(200);
    expect(creds.body.password, "the password the owner reads is the one created").to.equal(world.password);
    expect(stalled.output()).to.contain("stale run's result was refused");
  });
});

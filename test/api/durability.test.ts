/**
 * Durability: a server process is killed with SIGKILL (its whole process group; its engine,
 * in a session of its own, is ended by its launcher, so the Pulumi CLI dies mid-update too,
 * leaves no plugin running, and leaves the tenant's stack locked with pending creates)
 * while operations run and more signups wait in the queue. A new process on the same
 * database and backend must release the dead workers' jobs (worker registry), run the
 * interrupted operations again (the runner cancels the stale lock and clears the pending
 * creates on attempt > 1) and apply every accepted signup exactly once. Real engine,
 * STAND-IN program (the Kubernetes provider cannot be built here), whose provider journals
 * each external create.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect } from "chai";
import { repoRoot } from "../../automation/engine/engine-env";
import type { OperationView } from "../../automation/tenant-views";
import { databaseOf, engineLocation, readEventStream, request, userId, waitForEvent, writeFleetStackFile } from "../support/signup-harness";
import { killGroup, killTagged, spawnServer, taggedPids, type ServerProcess } from "../support/processes";
import { startAuthStandIn, type AuthStandIn } from "../../local/local-supabase-auth";

/** Every stack's state in the backend: its StandInTenant components and pending operations. */
function stackStates(backendDir: string): Array<{ file: string; components: string[]; pending: number }> {
  const folder = path.join(backendDir, ".pulumi", "stacks", "odoo-saas");
  if (!fs.existsSync(folder)) return [];
  return fs.readdirSync(folder).filter((f) => f.endsWith(".json")).map((file) => {
    const state = JSON.parse(fs.readFileSync(path.join(folder, file), "utf8")) as {
      checkpoint: { latest?: { resources?: Array<{ urn: string; type: string }>; pending_operations?: unknown[] } };
    };
    const resources = state.checkpoint.latest?.resources ?? [];
    return {
      file,
      components: resources.filter((r) => r.type === "odoo-saas:test:StandInTenant").map((r) => r.urn.split("::").pop() ?? ""),
      pending: state.checkpoint.latest?.pending_operations?.length ?? 0,
    };
  });
}

describe("signup server durability: kill -9 mid-operation, restart (real engine, stand-in program)", function () {
  this.timeout(300_000);
  const marker = crypto.randomUUID();
  let auth: AuthStandIn;
  let dir: string;
  let env: Record<string, string>;
  let server: ServerProcess | undefined;
  const script = path.join(repoRoot(), "dist", "test", "support", "standin-server-main.js");

  before(async () => {
    auth = await startAuthStandIn();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "odoo-saas-durability-"));
    writeFleetStackFile(dir);
    fs.mkdirSync(path.join(dir, "world"));
    const engine = engineLocation(dir);
    const databaseUrl = await databaseOf(dir);
    env = {
      PORT: "0",
      HOST: "127.0.0.1",
      SUPABASE_URL: auth.url,
      SUPABASE_ANON_KEY: "standin-anon-key",
      SUPABASE_JWT_SECRET: "",
      ODOO_SAAS_OPS_DIR: dir,
      ODOO_SAAS_OPS_STACK: "dev",
      ODOO_SAAS_STORE_DIR: path.join(dir, "store"),
      ODOO_SAAS_BACKEND_DIR: engine.backendDir,
      ODOO_SAAS_PULUMI_HOME: engine.pulumiHome,
      ODOO_SAAS_TENANT_LIMIT: "3",
      DATABASE_URL: databaseUrl,
      // One at a time: north runs while the others wait in the queue.
      ODOO_SAAS_WORKERS: "1",
      KUBECONFIG: "none",
      STANDIN_WORLD_DIR: path.join(dir, "world"),
      STANDIN_DELAY_MS: "4000",
      ODOO_SAAS_TEST_RUN: marker,
      PULUMI_CONFIG_PASSPHRASE: "durability-test-passphrase",
    };
  });

  after(async () => {
    if (server && server.child.exitCode === null) await killGroup(server);
    killTagged(marker);
    await auth.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const users = ["dana", "eli", "fay", "gus", "hal"];
  const ids = ["north", "south", "east", "west", "centre"];
  const operations: Record<string, string> = {};
  const tokens: Record<string, string> = {};

  it("accepts signups, and is killed (with its engine) while an operation runs and others wait", async () => {
    server = await spawnServer(script, env);
    for (const user of users) tokens[user] = await auth.sign({ sub: userId(user), email: `${user}@example.com` });
    const submit = async (i: number): Promise<void> => {
      const user = users[i] as string;
      const res = await request<{ operation: OperationView }>(server!.url, "POST", "/api/tenants", { token: tokens[user], body: { id: ids[i], plan: "starter" } });
      expect(res.status, res.text).to.equal(202);
      operations[ids[i] as string] = res.body.operation.id;
    };
    await submit(0);
    await Promise.all([1, 2].map(submit));
    // Wait until the engine has started creating north's resource (the stand-in takes 4 s).
    await waitForEvent(server.url, `/api/operations/${operations.north}/events`, tokens.dana as string,
      // The customer's "Starting Odoo" step is the stand-in's one resource, north-odoo.
      (event) => event.type === "step" && event.step === "odoo" && event.status === "started");
    await new Promise((r) => setTimeout(r, 500));
    // Accepted while north's operation runs: queued.
    await Promise.all([3, 4].map(submit));
    const queued = await request<OperationView>(server.url, "GET", `/api/operations/${operations.west}`, { token: tokens.gus });
    expect(queued.body.status).to.equal("queued");

    await killGroup(server);
    // Its engine (the CLI, in a session of its own, and every plugin) ends with it: none left.
    const deadline = Date.now() + 5_000;
    while (taggedPids(marker).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(taggedPids(marker), "engine processes left running after kill -9 of the server").to.deep.equal([]);
    const locks = path.join(engineLocation(dir).backendDir, ".pulumi", "locks");
    const lockFiles = fs.existsSync(locks) ? fs.readdirSync(locks, { recursive: true }).map(String).filter((f) => f.endsWith(".json")) : [];
    expect(lockFiles, "the killed update left its stack lock behind").to.have.length.greaterThan(0);
    const pending = stackStates(engineLocation(dir).backendDir).filter((s) => s.pending > 0);
    expect(pending.length, "pending creates in north's stack state").to.be.greaterThan(0);
  });

  it("restarts, recovers the locked stack and applies every accepted signup exactly once", async () => {
    server = await spawnServer(script, env);
    const results: OperationView[] = [];
    for (const [i, id] of ids.entries()) {
      const token = tokens[users[i] as string] as string;
      const deadline = Date.now() + 180_000;
      for (;;) {
        const res = await request<OperationView>(server.url, "GET", `/api/operations/${operations[id]}`, { token });
        expect(res.status, res.text).to.equal(200);
        if (res.body.status === "succeeded" || res.body.status === "failed") {
          results.push(res.body);
          break;
        }
        expect(Date.now(), `${id} never finished`).to.be.below(deadline);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    for (const op of results) expect(op.status, JSON.stringify(op)).to.equal("succeeded");
    // The recovery path ran: the dead process's workers were released, north ran again.
    expect(server.output()).to.contain("released the jobs of stopped workers");
    const attempts = new Map(results.map((op) => [op.tenantId, op.attempts]));
    expect(attempts.get("north"), "north was interrupted and ran again").to.equal(2);
    expect(attempts.get("west")).to.equal(1);
    expect(attempts.get("centre")).to.equal(1);
    const northEvents = await readEventStream(server.url, `/api/operations/${operations.north}/events`, tokens.dana as string);
    expect(northEvents.map((e) => e.type)).to.include("recovering");

    // Each signup exists once: in the records, its stack, its outputs, the "external world".
    for (const [i, id] of ids.entries()) {
      const token = tokens[users[i] as string] as string;
      const creds = await request<{ login: string; password: string }>(server.url, "GET", `/api/tenants/${id}/credentials`, { token });
      expect(creds.status, creds.text).to.equal(200);
      expect(creds.body.login).to.equal(`${users[i]}@example.com`);
      const list = await request<{ tenants: Array<{ id: string; state: string }> }>(server.url, "GET", "/api/tenants", { token });
      expect(list.body.tenants.map((t) => `${t.id}:${t.state}`)).to.deep.equal([`${id}:active`]);
    }
    const journal = fs.readFileSync(path.join(dir, "world", "journal.log"), "utf8").split("\n").filter((l) => l !== "");
    for (const id of ids) {
      expect(journal.filter((line) => line === `created ${id}`), `external creates of ${id}`).to.have.length(1);
    }
    const states = stackStates(engineLocation(dir).backendDir);
    expect(states.flatMap((s) => s.components).sort(), "each tenant's component once, across the stacks").to.deep.equal([...ids].sort());
    for (const s of states) {
      expect(s.components.length, `${s.file}: one tenant per stack`).to.be.at.most(1);
      expect(s.pending, `${s.file}: no pending operations left`).to.equal(0);
    }
  });

  it("stops cleanly, leaving no engine process behind", async () => {
    if (!server) return;
    const exited = new Promise<number | null>((resolve) => server!.child.once("exit", (code) => resolve(code)));
    server.child.kill("SIGTERM");
    expect(await exited).to.equal(0);
    // Plugins of the killed run lived in their own sessions: end them (by pid, tagged by this test).
    killTagged(marker);
    await new Promise((r) => setTimeout(r, 200));
    expect(taggedPids(marker)).to.deep.equal([]);
  });
});

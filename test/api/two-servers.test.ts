/**
 * Two signup server processes on one database (and one engine backend) share the work: each
 * signup is applied exactly once, by whichever process took its job; both processes work;
 * a client following an operation's events on one server sees it to the end when the other
 * ran it. Real servers (own processes), real runner and engine, stand-in program.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect } from "chai";
import { Client } from "pg";
import { repoRoot } from "../../automation/engine/engine-env";
import { startAuthStandIn, type AuthStandIn } from "../../local/local-supabase-auth";
import type { OperationView } from "../../automation/tenant-views";
import { killGroup, killTagged, spawnServer, type ServerProcess } from "../support/processes";
import { databaseOf, engineLocation, readEventStream, request, userId, writeFleetStackFile } from "../support/signup-harness";

describe("two signup servers on one database (real engine, stand-in program)", function () {
  this.timeout(300_000);
  const marker = crypto.randomUUID();
  const script = path.join(repoRoot(), "dist", "test", "support", "standin-server-main.js");
  let auth: AuthStandIn;
  let dir: string;
  let databaseUrl: string;
  const servers: ServerProcess[] = [];

  before(async () => {
    auth = await startAuthStandIn();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "odoo-saas-two-servers-"));
    writeFleetStackFile(dir);
    fs.mkdirSync(path.join(dir, "world"));
    databaseUrl = await databaseOf(dir);
    const engine = engineLocation(dir);
    const env = {
      PORT: "0", HOST: "127.0.0.1", SUPABASE_URL: auth.url, SUPABASE_ANON_KEY: "standin-anon-key", SUPABASE_JWT_SECRET: "",
      ODOO_SAAS_OPS_DIR: dir, ODOO_SAAS_OPS_STACK: "dev", ODOO_SAAS_STORE_DIR: path.join(dir, "store"),
      ODOO_SAAS_BACKEND_DIR: engine.backendDir, ODOO_SAAS_PULUMI_HOME: engine.pulumiHome, ODOO_SAAS_TENANT_LIMIT: "3",
      KUBECONFIG: "none", STANDIN_WORLD_DIR: path.join(dir, "world"), STANDIN_DELAY_MS: "1500", ODOO_SAAS_TEST_RUN: marker,
      PULUMI_CONFIG_PASSPHRASE: "two-servers-test-passphrase", DATABASE_URL: databaseUrl, ODOO_SAAS_WORKERS: "2",
    };
    // One after the other: the second start finds the schema migrated.
    servers.push(await spawnServer(script, env));
    servers.push(await spawnServer(script, env));
  });

  after(async () => {
    for (const server of servers) if (server.child.exitCode === null) await killGroup(server);
    killTagged(marker);
    await auth.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("applies each of 8 signups, sent to either server, exactly once; both servers run some; events reach either server", async () => {
    const [a, b] = servers as [ServerProcess, ServerProcess];
    const ids = ["amber", "basil", "cedar", "dune", "ember", "fjord", "grove", "heath"];
    const tokens = await Promise.all(ids.map((id) => auth.sign({ sub: userId(`user-${id}`), email: `${id}@example.com` })));
    const accepted = await Promise.all(ids.map((id, i) =>
      request<{ operation: OperationView }>((i % 2 === 0 ? a : b).url, "POST", "/api/tenants", { token: tokens[i], body: { id, plan: "starter" } })));
    for (const res of accepted) expect(res.status, res.text).to.equal(202);
    // Followed on server A, whichever server runs them: the stream ends with the result.
    const streams = await Promise.all(accepted.map((res, i) => readEventStream(a.url, res.body.operation.events, tokens[i] as string)));

    const db = new Client({ connectionString: databaseUrl });
    await db.connect();
    let ran: Array<{ id: string; status: string; attempts: number; node_id: string }>;
    try {
      ({ rows: ran } = await db.query<{ id: string; status: string; attempts: number; node_id: string }>(
        `select o.id, o.status, o.attempts, w.node_id from odoo_saas.operations o join odoo_saas.workers w on w.worker_id = o.worker_id`,
      ));
    } finally {
      await db.end();
    }
    expect(ran).to.have.length(ids.length);
    for (const op of ran) expect(op, op.id).to.include({ status: "succeeded", attempts: 1 });
    const pidOf = (node: string): number => Number(node.split("-").at(-2));
    const byServer = servers.map((s) => ran.filter((op) => pidOf(op.node_id) === s.child.pid).length);
    expect(byServer.every((n) => n > 0), `operations per server: ${byServer.join(", ")}`).to.equal(true);
    expect(byServer.reduce((x, y) => x + y, 0)).to.equal(ids.length);

    for (const [i, events] of streams.entries()) {
      const types = events.map((e) => e.type);
      expect(types[0], ids[i]).to.equal("queued");
      expect(types, ids[i]).to.include("started");
      expect(types.at(-1), ids[i]).to.equal("succeeded");
    }
    const journal = fs.readFileSync(path.join(dir, "world", "journal.log"), "utf8").split("\n").filter((l) => l.startsWith("created "));
    expect(journal.sort()).to.deep.equal(ids.map((id) => `created ${id}`).sort());
    // Both servers answer the same records.
    for (const server of servers) {
      const res = await request<{ tenants: Array<{ id: string; status: string }> }>(server.url, "GET", "/api/tenants", { token: tokens[0] });
      expect(res.body.tenants.map((t) => t.id)).to.deep.equal(["amber"]);
    }
  });
});

/**
 * One engine per stack with the real engine (stand-in program, its provider slowed down): two
 * servers' runners on one database and one tenant's stack, the second is told to retry later
 * while the first's engine runs, and never cancels it; when the lock's database session is lost
 * mid-update, the engine (CLI and plugins) is ended at once, the run asks to be retried, and the
 * next attempt converges.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect } from "chai";
import { runningEngines } from "../../automation/engine/engine-command";
import { jsonLogger, Redactor } from "../../automation/log";
import type { OperationRun, RunResult } from "../../automation/operation-runner";
import { RecordsStore } from "../../automation/records/records-store";
import type { OperationKind } from "../../automation/records/types";
import { StackLocks } from "../../automation/engine/stack-lock";
import { TenantStackRunner } from "../../automation/engine/tenant-stack-runner";
import { taggedPids } from "../support/processes";
import { engineLocation, standInEnv, writeFleetStackFile } from "../support/signup-harness";
import { standInProgram } from "../support/standin-program";
import { freshDatabase } from "../support/test-postgres";

function operation(kind: OperationKind, tenantId: string, attempt = 1): OperationRun {
  const at = new Date().toISOString();
  return {
    operation: { id: `op_${kind}_${tenantId}_${attempt}`, kind, tenantId, ownerId: `user-${tenantId}`, requestedBy: `user-${tenantId}`, status: "running", createdAt: at, attempts: attempt },
    tenant: { id: tenantId, ownerId: `user-${tenantId}`, adminEmail: `admin@${tenantId}.example`, plan: "starter", odooVersion: "18.0", suspended: false, state: "pending", createdAt: at, updatedAt: at, lastOperationId: "op" },
    attempt,
    progress: () => undefined,
  };
}

async function until(check: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("one engine per stack, with the real engine (stand-in program)", function () {
  this.timeout(300_000);
  const marker = `stack-lock-${crypto.randomUUID()}`;
  const redactor = new Redactor();
  const logged: string[] = [];
  let dir: string;
  let url: string;

  const runner = (locks: StackLocks): TenantStackRunner => new TenantStackRunner({
    fleetStackName: "dev", fleetStackFile: path.join(dir, "Pulumi.dev.yaml"), program: standInProgram(), engine: engineLocation(dir),
    extraEnv: standInEnv(path.join(dir, "world"), 4_000, marker), log: jsonLogger(redactor, { write: (line) => logged.push(line) }), redactor, locks,
  });

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "odoo-saas-stack-lock-"));
    fs.mkdirSync(path.join(dir, "world"));
    writeFleetStackFile(dir);
    url = await freshDatabase("stacklockengine");
  });
  after(() => {
    for (const pid of taggedPids(marker)) try { process.kill(pid, "SIGKILL"); } catch { /* gone */ }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("a second server's runner on the same stack is told to retry later, and never cancels the running engine", async () => {
    const a = runner(new StackLocks({ connectionString: url }));
    const b = runner(new StackLocks({ connectionString: url }));
    const first = a.run(operation("create", "shared"));
    await until(() => runningEngines("dev-tenant-shared") > 0 && taggedPids(marker).length > 0);
    const second = await b.run(operation("create", "shared", 2));
    expect(second).to.deep.include({ ok: false, retryable: true });
    expect(second.ok ? "" : second.error.code).to.equal("stack_locked");
    const done: RunResult = await first;
    expect(done.ok, JSON.stringify(done)).to.equal(true);
    expect(logged.join("\n")).not.to.match(/no update to cancel|removing the lock/);
  });

  it("a lost lock ends the engine at once (no CLI or plugin left), the run asks to be retried, and the next attempt converges", async () => {
    const a = runner(new StackLocks({ connectionString: url, pingMs: 200 }));
    const run = a.run(operation("create", "lost"));
    // The stand-in's dynamic provider (a plugin) is creating the tenant's resource.
    await until(() => taggedPids(marker).length >= 2);
    const store = await RecordsStore.open(url);
    await store.pool.query("select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'odoo-saas stack lock'");
    await store.close();
    const result = await run;
    expect(result).to.deep.include({ ok: false, retryable: true });
    expect(result.ok ? [] : result.details ?? []).to.satisfy((d: string[]) => d.some((x) => /lock was lost/.test(x)));
    await until(() => taggedPids(marker).length === 0, 5_000);
    const again = await runner(new StackLocks({ connectionString: url })).run(operation("create", "lost", 2));
    expect(again.ok, JSON.stringify(again)).to.equal(true);
  });
});

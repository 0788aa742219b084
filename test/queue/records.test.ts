/**
 * The PostgreSQL records against a real PostgreSQL: idempotent migration by two processes'
 * pools at once, uniqueness and the per-owner limit decided under concurrent requests from
 * two pools (as two server processes would send them), one job per recorded operation,
 * progress events seen across pools, the backup limit, and the import of signups.json.
 */
import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { jsonLogger, Redactor } from "../../automation/log";
import { PgOperationEvents } from "../../automation/records/event-log";
import { importLegacyStore } from "../../automation/records/import-json";
import { RecordsStore } from "../../automation/records/records-store";
import { BackupRequests } from "../../automation/records/backup-requests";
import { newOperationId, type OperationRecord, type TenantRecord } from "../../automation/records/types";
import type { ProgressEntry } from "../../automation/operation-events";
import { freshDatabase } from "../support/test-postgres";

const quiet = jsonLogger(new Redactor(), { quiet: true });

export function signup(id: string, ownerId: string): { tenant: TenantRecord; op: OperationRecord } {
  const at = new Date().toISOString();
  const op: OperationRecord = { id: newOperationId(), kind: "create", tenantId: id, ownerId, requestedBy: ownerId, status: "queued", createdAt: at, attempts: 0 };
  return {
    tenant: { id, ownerId, adminEmail: `${ownerId}@example.com`, plan: "starter", odooVersion: "17.0", suspended: false, state: "pending", createdAt: at, updatedAt: at, lastOperationId: op.id },
    op,
  };
}

/** The same rules as TenantService: a taken id or the owner at the limit refuses. */
function rules(limit: number) {
  return (existing: Readonly<TenantRecord> | undefined, owned: number): void => {
    if (existing) throw new Error("id_taken");
    if (owned >= limit) throw new Error("tenant_limit");
  };
}

describe("records in PostgreSQL", function () {
  let url: string;
  let a: RecordsStore;
  let b: RecordsStore;

  before(async () => {
    url = await freshDatabase("records");
    // Two "processes" migrating one empty database at once.
    [a, b] = await Promise.all([RecordsStore.open(url), RecordsStore.open(url)]);
  });
  after(async () => {
    await a?.close();
    await b?.close();
  });

  it("migrates idempotently: a third start changes nothing", async () => {
    const c = await RecordsStore.open(url);
    const { rows } = await c.pool.query<{ version: number }>("select version from odoo_saas.migrations order by version");
    await c.close();
    expect(rows.map((r) => r.version)).to.deep.equal([1, 2, 3, 4, 5]);
  });

  it("accepts one of 12 concurrent signups for one id from two pools, and queues exactly one job", async () => {
    const results = await Promise.allSettled(Array.from({ length: 12 }, (_, i) => {
      const { tenant, op } = signup("same-id", `owner-${i}`);
      return (i % 2 === 0 ? a : b).createSignup(tenant, op, rules(3));
    }));
    const accepted = results.filter((r) => r.status === "fulfilled");
    expect(accepted).to.have.length(1);
    for (const r of results) if (r.status === "rejected") expect((r.reason as Error).message).to.equal("id_taken");
    const jobs = await a.pool.query<{ n: string }>("select count(*) as n from graphile_worker.jobs where queue_name = 'tenant:same-id'");
    expect(Number(jobs.rows[0]?.n)).to.equal(1);
    const ops = await a.pool.query<{ n: string }>("select count(*) as n from odoo_saas.operations where tenant_id = 'same-id'");
    expect(Number(ops.rows[0]?.n)).to.equal(1);
  });

  it("holds the per-owner limit under 10 concurrent signups of different ids from two pools", async () => {
    const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => {
      const { tenant, op } = signup(`limited-${i}`, "owner-limited");
      return (i % 2 === 0 ? a : b).createSignup(tenant, op, rules(3));
    }));
    expect(results.filter((r) => r.status === "fulfilled")).to.have.length(3);
    expect(await a.ownedCount("owner-limited")).to.equal(3);
    const jobs = await a.pool.query<{ n: string }>("select count(*) as n from graphile_worker.jobs where queue_name like 'tenant:limited-%'");
    expect(Number(jobs.rows[0]?.n)).to.equal(3);
  });

  it("writes nothing when the check refuses", async () => {
    const { tenant, op } = signup("refused-one", "owner-r");
    let thrown: unknown;
    try {
      await a.createSignup(tenant, op, () => {
        throw new Error("no");
      });
    } catch (err) {
      thrown = err;
    }
    expect((thrown as Error).message).to.equal("no");
    expect(await a.tenant("refused-one")).to.equal(undefined);
    expect(await a.operation(op.id)).to.equal(undefined);
  });

  it("delivers progress appended through one pool to a subscriber on the other, in order, with the history first", async () => {
    const { tenant, op } = signup("events-one", "owner-e");
    await a.createSignup(tenant, op, rules(3));
    const writer = new PgOperationEvents(a.pool, quiet);
    const reader = new PgOperationEvents(b.pool, quiet, 60_000); // no polling: notices alone must deliver
    await reader.start();
    const seen: ProgressEntry[] = [];
    const done = new Promise<void>((resolve) => {
      reader.subscribe(op.id, 0, (entry) => {
        seen.push(entry);
        if (entry.event.type === "succeeded") resolve();
      });
    });
    await writer.append(op.id, { type: "started", attempt: 1 });
    await writer.append(op.id, { type: "diagnostic", severity: "warning", message: "careful" });
    await writer.append(op.id, { type: "succeeded" });
    await writer.append(op.id, { type: "failed", error: { code: "late", message: "after the end" } });
    await done;
    await reader.stop();
    expect(seen.map((e) => [e.seq, e.event.type])).to.deep.equal([[1, "queued"], [2, "started"], [3, "diagnostic"], [4, "succeeded"]]);
    expect((await writer.history(op.id, 2)).map((e) => e.seq)).to.deep.equal([3, 4]);
  });

  it("purge forgets a retired tenant and frees its id; any other state is refused", async () => {
    const { tenant, op } = signup("purge-me", "owner-purge");
    await a.createSignup(tenant, op, rules(3));
    expect(await a.forgetRetired("purge-me"), "a pending tenant is kept").to.equal(false);
    await a.pool.query("update odoo_saas.tenants set state = 'retired' where id = $1", ["purge-me"]);
    expect(await b.forgetRetired("purge-me")).to.equal(true);
    expect(await a.tenant("purge-me")).to.equal(undefined);
    expect(await a.operation(op.id)).to.equal(undefined);
    const again = signup("purge-me", "someone-else");
    expect((await a.createSignup(again.tenant, again.op, rules(3))).ownerId).to.equal("someone-else");
  });

  it("lets two pools take at most 5 backup requests a day for a tenant, racing for the last places", async () => {
    const ra = new BackupRequests(a);
    const rb = new BackupRequests(b);
    const now = new Date("2026-12-02T10:00:00Z");
    const results = await Promise.all(Array.from({ length: 9 }, (_, i) => (i % 2 ? ra : rb).take("some-tenant", new Date(now.getTime() + i), `user-${i}`, 5)));
    expect(results.filter(Boolean)).to.have.length(5);
    expect(await ra.usedOn("some-tenant", now)).to.equal(5);
    expect(await ra.usedOn("some-tenant", new Date("2026-12-03T00:00:00Z"))).to.equal(0);
  });

  describe("import of signups.json", () => {
    let dir: string;
    let store: RecordsStore;

    beforeEach(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), "odoo-saas-import-"));
      store = await RecordsStore.open(await freshDatabase("import"));
    });
    afterEach(async () => {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    function legacyDocument(): Record<string, unknown> {
      const t = (id: string, state: string, last: string) => ({
        id, ownerId: "u1", adminEmail: "u1@example.com", plan: "starter", odooVersion: "17.0", suspended: false, state,
        createdAt: "2026-11-01T10:00:00.000Z", updatedAt: "2026-11-01T10:05:00.000Z", lastOperationId: last,
      });
      const op = (id: string, tenantId: string, status: string, kind = "create") => ({
        id, kind, tenantId, ownerId: "u1", requestedBy: "u1", status, createdAt: "2026-11-01T10:00:00.000Z", attempts: 1,
        ...(status === "failed" ? { error: { code: "provisioning_failed", message: "boom" } } : {}),
      });
      return {
        version: 1, nextUpdateId: 3, updates: [],
        tenants: { "old-shop": t("old-shop", "active", "op_a1"), "old-fail": t("old-fail", "failed", "op_a2"), "old-wait": t("old-wait", "pending", "op_a3") },
        operations: { op_a1: op("op_a1", "old-shop", "succeeded"), op_a2: op("op_a2", "old-fail", "failed"), op_a3: op("op_a3", "old-wait", "running") },
        backupRequests: { "old-shop": [{ at: "2026-11-01T11:00:00.000Z", requestedBy: "u1", reference: "old-shop-backup-1" }] },
      };
    }

    it("imports tenants, operations and backup requests once, queues the unfinished ones, renames the file", async () => {
      fs.writeFileSync(path.join(dir, "signups.json"), JSON.stringify(legacyDocument()));
      const result = await importLegacyStore(store, dir, quiet);
      expect(result).to.deep.equal({ type: "imported", tenants: 3, operations: 3 });
      expect(fs.existsSync(path.join(dir, "signups.json"))).to.equal(false);
      expect(fs.existsSync(path.join(dir, "signups.json.imported"))).to.equal(true);
      expect((await store.tenants()).map((t) => [t.id, t.state])).to.have.deep.members([["old-shop", "active"], ["old-fail", "failed"], ["old-wait", "pending"]]);
      expect((await store.operation("op_a2"))?.error).to.deep.equal({ code: "provisioning_failed", message: "boom" });
      expect((await store.operation("op_a3"))?.status).to.equal("queued");
      const jobs = await store.pool.query<{ key: string; queue_name: string }>("select key, queue_name from graphile_worker.jobs");
      expect(jobs.rows).to.deep.equal([{ key: "op_a3", queue_name: "tenant:old-wait" }]);
      expect(await new BackupRequests(store).references("old-shop")).to.deep.equal(["old-shop-backup-1"]);
      // The file is gone; a second start has nothing to import.
      expect(await importLegacyStore(store, dir, quiet)).to.deep.equal({ type: "none" });
    });

    it("leaves a file alone whose tenants are partly in the database already", async () => {
      const { tenant, op } = signup("old-shop", "u1");
      await store.createSignup(tenant, op, rules(3));
      fs.writeFileSync(path.join(dir, "signups.json"), JSON.stringify(legacyDocument()));
      expect(await importLegacyStore(store, dir, quiet)).to.deep.equal({ type: "conflict", present: 1, total: 3 });
      expect(fs.existsSync(path.join(dir, "signups.json"))).to.equal(true);
      expect((await store.tenants()).map((t) => t.id)).to.deep.equal(["old-shop"]);
    });
  });
});

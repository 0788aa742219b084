/**
 * The work queue with the real graphile-worker on a real PostgreSQL, and a recording runner
 * in place of the engine: one tenant's operations in order, different tenants in parallel up
 * to the worker count, retries with backoff for retryable failures (and behind them the
 * tenant's later operations), none for refusals, a worker process killed mid-operation
 * recovered by another with the operation applied once, two worker processes sharing work.
 */
import { expect } from "chai";
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { jsonLogger, Redactor } from "../../automation/log";
import type { RunResult } from "../../automation/operation-runner";
import { OperationQueue } from "../../automation/queue/operation-queue";
import { PgOperationEvents } from "../../automation/records/event-log";
import { RecordsStore } from "../../automation/records/records-store";
import { newOperationId, type OperationKind, type OperationRecord } from "../../automation/records/types";
import { readJournal, RecordingRunner, type RecordedCall } from "../support/recording-runner";
import { freshDatabase } from "../support/test-postgres";
import { signup } from "./records.test";

const quiet = jsonLogger(new Redactor(), { quiet: true });
const ok: RunResult = { ok: true, changes: { create: 1 }, outputs: { url: "http://x.odoo-saas.test" } };

interface Rig {
  store: RecordsStore;
  events: PgOperationEvents;
  queue: OperationQueue;
  failed: OperationRecord[];
}

async function rig(url: string, runner: RecordingRunner, concurrency: number, maxAttempts?: number): Promise<Rig> {
  const store = await RecordsStore.open(url, maxAttempts !== undefined ? { maxAttempts } : {});
  const events = new PgOperationEvents(store.pool, quiet);
  const failed: OperationRecord[] = [];
  const queue = new OperationQueue({ store, events, runner, log: quiet, concurrency, pollIntervalMs: 200, heartbeatMs: 200, staleAfterMs: 1_500, onFailed: (op) => failed.push(op) });
  await queue.start();
  return { store, events, queue, failed };
}

async function stopRig(r: Rig | undefined): Promise<void> {
  if (!r) return;
  await r.queue.stop();
  await r.store.close();
}

async function create(store: RecordsStore, id: string): Promise<string> {
  const { tenant, op } = signup(id, `owner-${id}`);
  await store.createSignup(tenant, op, () => undefined);
  return op.id;
}

async function request(store: RecordsStore, tenantId: string, kind: OperationKind): Promise<string> {
  const op: OperationRecord = { id: newOperationId(), kind, tenantId, ownerId: `owner-${tenantId}`, requestedBy: "x", status: "queued", createdAt: new Date().toISOString(), attempts: 0 };
  await store.request(op, () => undefined);
  return op.id;
}

async function finished(store: RecordsStore, ids: readonly string[], timeoutMs = 60_000): Promise<OperationRecord[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ops = await Promise.all(ids.map((id) => store.operation(id)));
    if (ops.every((op) => op?.status === "succeeded" || op?.status === "failed")) return ops as OperationRecord[];
    if (Date.now() > deadline) throw new Error(`not finished: ${ops.map((op) => `${op?.id} ${op?.status}`).join(", ")}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function maxOverlap(calls: readonly RecordedCall[]): number {
  const points = calls.flatMap((c) => [[c.startedAt, 1], [c.endedAt ?? Infinity, -1]] as Array<[number, number]>).sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  let current = 0;
  let max = 0;
  for (const [, delta] of points) max = Math.max(max, (current += delta));
  return max;
}

describe("operation queue (graphile-worker)", function () {
  let r: Rig | undefined;
  afterEach(async () => {
    await stopRig(r);
    r = undefined;
  });

  it("runs one tenant's operations in order and different tenants in parallel, at most the worker count at once", async () => {
    const runner = new RecordingRunner(() => ok, 500);
    r = await rig(await freshDatabase("order"), runner, 2);
    const ids = [await create(r.store, "t-one"), await create(r.store, "t-two"), await create(r.store, "t-three")];
    ids.push(await request(r.store, "t-one", "suspend"), await request(r.store, "t-one", "resume"), await request(r.store, "t-one", "delete"));
    const ops = await finished(r.store, ids);
    expect(ops.map((op) => op.status)).to.deep.equal(Array(6).fill("succeeded"));
    const one = runner.calls.filter((c) => c.tenantId === "t-one");
    expect(one.map((c) => c.kind)).to.deep.equal(["create", "suspend", "resume", "delete"]);
    expect(maxOverlap(one), "one tenant's operations never overlap").to.equal(1);
    expect(maxOverlap(runner.calls), "two workers").to.equal(2);
    expect(runner.calls).to.have.length(6);
    const tenant = await r.store.tenant("t-one");
    expect(tenant).to.include({ state: "retired", suspended: false, url: "http://x.odoo-saas.test" });
  });

  it("retries a retryable failure after graphile-worker's backoff, and keeps the tenant's next operation behind it", async () => {
    const runner = new RecordingRunner((run) => (run.operation.kind === "create" && run.attempt === 1
      ? { ok: false, retryable: true, error: { code: "stack_locked", message: "the stack is locked" } }
      : ok));
    r = await rig(await freshDatabase("retry"), runner, 2);
    const createId = await create(r.store, "t-retry");
    const suspendId = await request(r.store, "t-retry", "suspend");
    const [created, suspended] = await finished(r.store, [createId, suspendId]);
    expect(created).to.include({ status: "succeeded", attempts: 2 });
    expect(suspended).to.include({ status: "succeeded", attempts: 1 });
    expect(runner.calls.map((c) => `${c.kind}#${c.attempt}`)).to.deep.equal(["create#1", "create#2", "suspend#1"]);
    const [first, second] = runner.calls;
    // graphile-worker's first backoff is exp(1) s.
    expect((second?.startedAt ?? 0) - (first?.endedAt ?? 0)).to.be.greaterThan(2_000);
    const types = (await r.events.history(createId)).map((e) => e.event.type);
    expect(types).to.deep.equal(["queued", "started", "step", "retrying", "started", "step", "succeeded"]);
    expect(await r.store.tenant("t-retry")).to.include({ state: "active", suspended: true });
  });

  it("fails a refusal at once, without retrying: a failed create leaves the tenant failed", async () => {
    const runner = new RecordingRunner(() => ({ ok: false, retryable: false, error: { code: "provisioning_failed", message: "quota exceeded" }, details: ["raw engine text"] }));
    r = await rig(await freshDatabase("refuse"), runner, 2);
    const id = await create(r.store, "t-refused");
    const [op] = await finished(r.store, [id]);
    await new Promise((res) => setTimeout(res, 3_500)); // past the first backoff: nothing runs again
    expect(runner.calls).to.have.length(1);
    expect(op).to.deep.include({ status: "failed", error: { code: "provisioning_failed", message: "quota exceeded" }, details: ["raw engine text"] });
    expect(await r.store.tenant("t-refused")).to.include({ state: "failed" });
    expect(r.failed.map((f) => f.id)).to.deep.equal([id]);
    const jobs = await r.store.pool.query("select 1 from graphile_worker.jobs");
    expect(jobs.rowCount).to.equal(0);
  });

  it("fails a retryable failure once the job's attempts are used up", async () => {
    const runner = new RecordingRunner(() => ({ ok: false, retryable: true, error: { code: "api_unreachable", message: "the API server did not answer" } }));
    r = await rig(await freshDatabase("exhaust"), runner, 1, 2);
    const id = await create(r.store, "t-exhaust");
    const [op] = await finished(r.store, [id]);
    expect(runner.calls.map((c) => c.attempt)).to.deep.equal([1, 2]);
    expect(op).to.deep.include({ status: "failed", attempts: 2, error: { code: "api_unreachable", message: "the API server did not answer" } });
  });

  describe("worker processes", () => {
    const children: ChildProcess[] = [];
    let dir: string;
    beforeEach(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), "odoo-saas-queue-"));
    });
    afterEach(() => {
      for (const child of children.splice(0)) {
        if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
      }
      fs.rmSync(dir, { recursive: true, force: true });
    });

    async function worker(url: string, journal: string, delayMs: number): Promise<ChildProcess> {
      const child = spawn(process.execPath, [path.join(__dirname, "..", "support", "queue-worker-main.js")], {
        env: { ...process.env, DATABASE_URL: url, QUEUE_JOURNAL: journal, QUEUE_DELAY_MS: String(delayMs) },
        detached: true,
        stdio: ["ignore", "pipe", "pipe"],
      });
      children.push(child);
      let output = "";
      child.stderr?.on("data", (c: Buffer) => (output += c.toString()));
      await new Promise<void>((resolve, reject) => {
        child.stdout?.on("data", (c: Buffer) => {
          if (c.toString().includes("queue worker ready")) resolve();
        });
        child.once("exit", (code) => reject(new Error(`queue worker exited (${String(code)}): ${output}`)));
      });
      return child;
    }

    async function until(check: () => boolean, timeoutMs = 30_000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (!check()) {
        if (Date.now() > deadline) throw new Error("timed out");
        await new Promise((res) => setTimeout(res, 50));
      }
    }

    it("recovers an operation whose worker process was killed (SIGKILL) mid-run: another worker runs it, applied once", async () => {
      const url = await freshDatabase("kill");
      const journal = path.join(dir, "journal.log");
      const store = await RecordsStore.open(url);
      const id = await create(store, "t-killed");
      const doomed = await worker(url, journal, 600_000);
      await until(() => readJournal(journal).some((e) => e.event === "start" && e.operationId === id));
      process.kill(-(doomed.pid as number), "SIGKILL");
      await new Promise((res) => doomed.once("exit", res));
      const runner = new RecordingRunner(() => ok, 0, journal);
      r = await rig(url, runner, 2);
      const [op] = await finished(r.store, [id], 30_000);
      await store.close();
      const entries = readJournal(journal).filter((e) => e.operationId === id);
      expect(entries.map((e) => `${e.event}@${e.pid === process.pid ? "survivor" : "killed"}#${e.attempt}`)).to.deep.equal(["start@killed#1", "start@survivor#2", "applied@survivor#2"]);
      expect(op).to.include({ status: "succeeded", attempts: 2 });
      const types = (await r.events.history(id)).map((e) => e.event.type).filter((t) => t !== "step");
      expect(types).to.deep.equal(["queued", "started", "recovering", "started", "succeeded"]);
      // Its rows go at the sweep that finds each stale (a worker created last may be a beat younger).
      const survivor: Rig = r;
      const nodes = async (): Promise<string[]> => (await survivor.store.pool.query<{ node_id: string }>("select distinct node_id from odoo_saas.workers")).rows.map((w) => w.node_id);
      const deadline = Date.now() + 5_000;
      while ((await nodes()).length > 1 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 100));
      expect(await nodes(), "the dead worker left the registry").to.deep.equal([survivor.queue.nodeId]);
    });

    it("shares the work of two worker processes on one database: each of 12 operations runs exactly once", async () => {
      const url = await freshDatabase("share");
      const journal = path.join(dir, "journal.log");
      await worker(url, journal, 300);
      await worker(url, journal, 300);
      const store = await RecordsStore.open(url);
      const ids: string[] = [];
      for (let i = 0; i < 12; i++) ids.push(await create(store, `t-share-${i}`));
      const ops = await finished(store, ids, 60_000);
      await store.close();
      expect(ops.map((op) => op.status)).to.deep.equal(Array(12).fill("succeeded"));
      const applied = readJournal(journal).filter((e) => e.event === "applied");
      expect(applied.map((e) => e.operationId).sort()).to.deep.equal([...ids].sort());
      expect(new Set(applied.map((e) => e.pid)).size, "both processes worked").to.equal(2);
    });
  });
});

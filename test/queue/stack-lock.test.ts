/**
 * One engine per stack, with the real queue on a real PostgreSQL: the stack's lock
 * (automation/engine/stack-lock.ts) is exclusive across connections and tells its holder when its
 * connection is lost; results are fenced by attempt and worker (records/run-records.ts); and a
 * worker process stopped (SIGSTOP) past the heartbeat timeout, then continued, never runs its
 * stack at the same time as the worker that took its job over, and its late result is refused:
 * the operation ends exactly once.
 */
import { expect } from "chai";
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PgOperationEvents } from "../../automation/records/event-log";
import { jsonLogger, Redactor } from "../../automation/log";
import { RecordsStore } from "../../automation/records/records-store";
import { RunRecords } from "../../automation/records/run-records";
import { StackLocks } from "../../automation/engine/stack-lock";
import { readJournal } from "../support/recording-runner";
import { freshDatabase } from "../support/test-postgres";
import { signup } from "./records.test";

const quiet = jsonLogger(new Redactor(), { quiet: true });

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((res) => setTimeout(res, 50));
  }
}

describe("one engine per stack: the stack's lock and fenced results", function () {
  it("the lock is exclusive across connections, free again on release, and its holder hears at once when its connection is lost", async () => {
    const url = await freshDatabase("stacklock");
    const a = new StackLocks({ connectionString: url });
    const b = new StackLocks({ connectionString: url });
    const lost: string[] = [];
    const held = await a.tryAcquire("dev-tenant-one", (reason) => lost.push(reason));
    expect(held, "taken").to.not.equal(undefined);
    expect(await b.tryAcquire("dev-tenant-one", () => undefined), "held elsewhere").to.equal(undefined);
    const other = await b.tryAcquire("dev-tenant-two", () => undefined);
    expect(other, "another stack is free").to.not.equal(undefined);
    await other?.release();
    await held?.release();
    const again = await b.tryAcquire("dev-tenant-one", (reason) => lost.push(reason));
    expect(again, "free after release").to.not.equal(undefined);
    expect(lost).to.deep.equal([]);
    // The database ends the lock's session (as a failover or an administrator would).
    const store = await RecordsStore.open(url);
    await store.pool.query("select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'odoo-saas stack lock'");
    await until(() => lost.length > 0, 5_000);
    expect(again?.lost).to.match(/database connection/);
    expect(await a.tryAcquire("dev-tenant-one", () => undefined).then(async (l) => { await l?.release(); return l !== undefined; }), "free once its session ended").to.equal(true);
    await again?.release();
    await store.close();
  });

  it("refuses a stale run's result writes: after another worker claimed the operation, the first run's retry, success and failure write nothing", async () => {
    const url = await freshDatabase("fence");
    const store = await RecordsStore.open(url);
    const runs = new RunRecords(store);
    const { tenant, op } = signup("t-fence", "owner-fence");
    await store.createSignup(tenant, op, () => undefined);
    const first = await runs.claim(op.id, "worker-p1");
    const second = await runs.claim(op.id, "worker-p2"); // P1 taken for dead, its job released
    if (first.type !== "run" || second.type !== "run") throw new Error("not claimed");
    const error = { code: "update_failed", message: "late" };
    expect(await runs.retrying(first.operation, { attempt: first.attempt, workerId: "worker-p1" }, error), "stale retry").to.equal(false);
    expect(await runs.succeeded(first.operation, { url: "http://stale" }, { attempt: first.attempt, workerId: "worker-p1" }), "stale success").to.equal(false);
    expect(await runs.failed(first.operation, { attempt: first.attempt, workerId: "worker-p1" }, error), "stale failure").to.equal(false);
    expect(await runs.succeeded(second.operation, { url: "http://x" }, { attempt: second.attempt, workerId: "worker-p1" }), "right attempt, wrong worker").to.equal(false);
    expect(await store.operation(op.id)).to.include({ status: "running", attempts: 2 });
    expect(await runs.succeeded(second.operation, { url: "http://x" }, { attempt: second.attempt, workerId: "worker-p2" })).to.equal(true);
    expect(await store.operation(op.id)).to.include({ status: "succeeded" });
    const events = new PgOperationEvents(store.pool, quiet);
    const types = (await events.history(op.id)).map((e) => e.event.type);
    expect(types.filter((t) => t === "succeeded" || t === "failed" || t === "retrying")).to.deep.equal(["succeeded"]);
    expect(await store.tenant("t-fence")).to.include({ state: "active", url: "http://x" });
    await store.close();
  });

  describe("a stalled worker process", () => {
    const children: ChildProcess[] = [];
    let dir: string;
    beforeEach(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), "odoo-saas-stall-"));
    });
    afterEach(() => {
      for (const child of children.splice(0)) {
        if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
          process.kill(-child.pid, "SIGCONT");
          process.kill(-child.pid, "SIGKILL");
        }
      }
      fs.rmSync(dir, { recursive: true, force: true });
    });

    async function worker(url: string, journal: string): Promise<{ child: ChildProcess; output: () => string }> {
      const child = spawn(process.execPath, [path.join(__dirname, "..", "support", "queue-worker-main.js")], {
        env: { ...process.env, DATABASE_URL: url, QUEUE_JOURNAL: journal, QUEUE_DELAY_MS: "3000", QUEUE_STACK_LOCK: "1" },
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
      return { child, output: () => output };
    }

    it("SIGSTOP past the heartbeat timeout, then SIGCONT: the runs on the stack never overlap, the late result is refused, the operation ends exactly once", async () => {
      const url = await freshDatabase("stall");
      const journal = path.join(dir, "journal.log");
      const workers = [await worker(url, journal), await worker(url, journal)];
      const store = await RecordsStore.open(url);
      const { tenant, op } = signup("t-stall", "owner-stall");
      await store.createSignup(tenant, op, () => undefined);
      await until(() => readJournal(journal).some((e) => e.event === "start"));
      const firstPid = readJournal(journal).find((e) => e.event === "start")?.pid;
      const stalled = workers.find((w) => w.child.pid === firstPid);
      if (!stalled || firstPid === undefined) throw new Error("no first run");
      process.kill(firstPid, "SIGSTOP");
      // The other server releases the stalled worker's job (heartbeat 1.5 s), claims it, and finds the stack's lock held.
      await until(() => readJournal(journal).some((e) => e.event === "busy" && e.pid !== firstPid), 20_000);
      process.kill(firstPid, "SIGCONT");
      const deadline = Date.now() + 60_000;
      await until(async () => ["succeeded", "failed"].includes((await store.operation(op.id))?.status ?? ""), 60_000);
      const done = await store.operation(op.id);
      const entries = readJournal(journal);
      // Each run on the stack: from its start to its end, never two at once.
      const runs = entries.filter((e) => e.event === "start").map((s) => ({ s, end: entries.find((e) => e.event === "applied" && e.pid === s.pid && e.attempt === s.attempt) }));
      expect(runs.every((r) => r.end !== undefined), "every run ended").to.equal(true);
      const sorted = runs.map((r) => [r.s.startedAt, r.end?.endedAt ?? Infinity]).sort((x, y) => (x[0] ?? 0) - (y[0] ?? 0));
      for (let i = 1; i < sorted.length; i++) expect(sorted[i]?.[0], "a run started before the previous one ended").to.be.at.least(sorted[i - 1]?.[1] ?? Infinity);
      expect(runs.length, "the stalled run and the one that finished the operation").to.be.at.least(2);
      expect(entries.some((e) => e.event === "lost"), "no lock lost").to.equal(false);
      expect(done).to.include({ status: "succeeded" });
      const last = runs[runs.length - 1];
      expect(done?.attempts, "recorded by the last run").to.equal(last?.s.attempt);
      expect(last?.s.attempt).to.be.greaterThan(runs[0]?.s.attempt ?? Infinity);
      const events = new PgOperationEvents(store.pool, quiet);
      const types = (await events.history(op.id)).map((e) => e.event.type);
      expect(types.filter((t) => t === "succeeded" || t === "failed")).to.deep.equal(["succeeded"]);
      await until(() => stalled.output().includes("stale run's result was refused"), Math.max(1_000, deadline - Date.now()));
      await store.close();
    });
  });
});

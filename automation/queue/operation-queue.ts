/**
 * The work queue: graphile-worker runs each operation's job (queue/enqueue.ts) with up to
 * `concurrency` jobs at once in this process; several processes on one database share the
 * jobs. A job claims its operation in the records, lets the OperationRunner apply it to the
 * tenant's stack, and records the result:
 * - ok: succeeded, the tenant's state, suspension and url follow;
 * - not ok, retryable, attempts left: queued again, and the job throws so graphile-worker
 *   runs it again after its exponential backoff;
 * - otherwise: failed at once (a failed create leaves the tenant "failed").
 * A job whose result is already recorded (its worker died in between) does nothing; one
 * whose earlier run never finished (a dead worker) gets a "recovering" event and runs again:
 * the runner clears the stack's lock and pending operations on attempt > 1. Results are
 * fenced (records/run-records.ts): a run taken for dead whose operation was claimed again
 * (its server stalled past the heartbeat timeout) records nothing.
 */
import * as crypto from "node:crypto";
import * as os from "node:os";
import { performance } from "node:perf_hooks";
import { EventEmitter } from "node:events";
import { Logger as WorkerLogger, run, type JobHelpers, type Runner, type WorkerEvents } from "graphile-worker";
import { withLogContext, type Logger } from "../log";
import type { ServerMetrics } from "../metrics";
import type { OperationRunner, RunResult } from "../operation-runner";
import type { PgOperationEvents } from "../records/event-log";
import type { RecordsStore } from "../records/records-store";
import { RunRecords, type Claim } from "../records/run-records";
import type { OperationRecord } from "../records/types";
import { OPERATION_TASK } from "./enqueue";
import { PhaseTimer } from "../engine/phase-timer";
import { WorkerRegistry } from "./worker-registry";

export interface OperationQueueOptions {
  store: RecordsStore;
  events: PgOperationEvents;
  runner: OperationRunner;
  log: Logger;
  concurrency: number;
  /** How often idle workers look for jobs that became due (retries); new jobs arrive by LISTEN. Default 1 s. */
  pollIntervalMs?: number;
  heartbeatMs?: number;
  staleAfterMs?: number;
  /** Told of every operation that failed for good (the failure webhook). */
  onFailed?: (op: OperationRecord) => void;
  /** Operations by kind and outcome, phase durations, runs in flight. */
  metrics?: ServerMetrics;
}

/** Thrown to graphile-worker so it runs the job again after its backoff. */
class RetryLater extends Error {}

/** Thrown when this run's result was refused (fencing): graphile-worker then leaves the job to its holder. */
class StaleRun extends Error {}

function operationIdOf(payload: unknown): string | undefined {
  if (typeof payload !== "object" || payload === null) return undefined;
  const id: unknown = Reflect.get(payload, "operationId");
  return typeof id === "string" && /^op_[A-Za-z0-9_-]{1,64}$/.test(id) ? id : undefined;
}

export class OperationQueue {
  readonly nodeId = `${os.hostname()}-${process.pid}-${crypto.randomBytes(3).toString("hex")}`;
  private readonly runs: RunRecords;
  private readonly registry: WorkerRegistry;
  private runner: Runner | undefined;

  constructor(private readonly options: OperationQueueOptions) {
    this.runs = new RunRecords(options.store);
    this.registry = new WorkerRegistry({
      pool: options.store.pool,
      runs: this.runs,
      log: options.log,
      nodeId: this.nodeId,
      heartbeatMs: options.heartbeatMs ?? 5_000,
      staleAfterMs: options.staleAfterMs ?? 30_000,
      onFailed: (op) => {
        options.metrics?.operations.inc({ kind: op.kind, outcome: "failed" });
        options.onFailed?.(op);
      },
    });
  }

  async start(): Promise<void> {
    const { log } = this.options;
    const events: WorkerEvents = new EventEmitter();
    const registering: Array<Promise<void>> = [];
    const register = (id: string): void => {
      registering.push(this.registry.register(id).catch((err: unknown) => log.log("warn", `worker registry: ${(err as Error).message}`)));
    };
    // Jobs are locked by the pool's id (graphile-worker 0.17 fetches for the pool) or a worker's: both are recorded.
    events.on("pool:create", ({ workerPool }) => register(workerPool.id));
    events.on("worker:create", ({ worker }) => register(worker.workerId));
    // Released before any job of this process can be taken: the previous process's, if it died.
    await this.registry.start();
    this.runner = await run({
      pgPool: this.options.store.pool,
      concurrency: this.options.concurrency,
      noHandleSignals: true,
      pollInterval: this.options.pollIntervalMs ?? 1_000,
      events,
      logger: workerLogger(log),
      taskList: { [OPERATION_TASK]: (payload, helpers) => this.perform(payload, helpers) },
    });
    await Promise.all(registering);
    log.log("info", "work queue started", { workers: this.options.concurrency, node: this.nodeId });
  }

  /** Lets running operations finish; queued ones stay in the database for any process. */
  async stop(): Promise<void> {
    const runner = this.runner;
    this.runner = undefined;
    if (runner) await runner.stop();
    await this.registry.stop();
  }

  /** For tests: release dead workers' jobs now. */
  sweep(): Promise<string[]> {
    return this.registry.sweep();
  }

  private async perform(payload: unknown, helpers: JobHelpers): Promise<void> {
    const { log } = this.options;
    const id = operationIdOf(payload);
    if (id === undefined) {
      log.log("error", "a queued job has no operation id; dropped", { job: helpers.job.id });
      return;
    }
    const workerId = helpers.job.locked_by ?? "unknown";
    const claim = await this.runs.claim(id, workerId);
    if (claim.type === "missing" || claim.type === "finished") return;
    if (claim.type === "behind") {
      await this.runs.deferBehind({ id, tenantId: claim.tenantId }, claim.earlier);
      return;
    }
    // Every line of this run, the engine's included, carries the request id of the request that asked for it.
    const context = { operation: id, ...(claim.operation.requestId !== undefined ? { requestId: claim.operation.requestId } : {}) };
    await withLogContext(context, () => this.runClaimed(claim, workerId, helpers));
  }

  private async runClaimed(claim: Extract<Claim, { type: "run" }>, workerId: string, helpers: JobHelpers): Promise<void> {
    const { events, log, metrics } = this.options;
    const { operation, tenant, attempt } = claim;
    const id = operation.id;
    const kind = operation.kind;
    const fence = { attempt, workerId };
    // The first claim's wait only: a retry's includes its backoff.
    if (attempt === 1 && operation.startedAt !== undefined) metrics?.observePhase("queue_wait", kind, (Date.parse(operation.startedAt) - Date.parse(operation.createdAt)) / 1000);
    if (claim.interrupted) {
      await events.append(id, { type: "recovering", message: "the server running this operation stopped; it runs again" });
    }
    await events.append(id, { type: "started", attempt });
    log.log("info", "operation started", { operation: id, tenant: tenant.id, kind: operation.kind, attempt, job: helpers.job.id });
    const timer = new PhaseTimer(id);
    // From the request's record to its run: the queue's wait, the claim and the "started" event.
    timer.record("queue pickup", performance.now() - Math.max(0, Date.now() - Date.parse(operation.createdAt)));
    let result: RunResult;
    const engineStarted = process.hrtime.bigint();
    metrics?.engineRunsInFlight.inc();
    try {
      result = await this.options.runner.run({ operation, tenant, attempt, progress: (event) => void events.append(id, event) });
    } catch (err) {
      // The runner itself broke (not an engine result): worth another attempt, with the reason for admins.
      result = {
        ok: false, retryable: true, details: [(err as Error).message.split("\n")[0] ?? ""],
        error: { code: "update_failed", message: "the platform could not apply this change; an operator has been notified" },
      };
    } finally {
      metrics?.engineRunsInFlight.dec();
      metrics?.observePhase("engine_run", kind, secondsSince(engineStarted));
    }
    const writing = performance.now();
    await events.flush(id);
    const writeStarted = process.hrtime.bigint();
    const written = (outcome: "succeeded" | "failed" | "retrying"): void => {
      metrics?.observePhase("status_write", kind, secondsSince(writeStarted));
      metrics?.operations.inc({ kind, outcome });
      if (outcome !== "retrying") metrics?.observePhase("total", kind, (Date.now() - Date.parse(operation.createdAt)) / 1000);
    };
    const stale = (): never => {
      metrics?.operations.inc({ kind, outcome: "stale" });
      log.log("warn", "a stale run's result was refused: another worker took this operation over", { operation: id, tenant: tenant.id, attempt });
      // Not completed: completing deletes the job another worker may hold; a failure is only
      // recorded by graphile-worker for the job's current holder, so this changes nothing.
      throw new StaleRun(`attempt ${attempt} of ${id} was taken over`);
    };
    if (result.ok) {
      if (!(await this.runs.succeeded(operation, result.outputs, fence))) stale();
      written("succeeded");
      timer.record("status write", writing);
      log.log("info", "operation succeeded", { operation: id, tenant: tenant.id, kind: operation.kind });
      return;
    }
    if (result.retryable && helpers.job.attempts < helpers.job.max_attempts) {
      if (!(await this.runs.retrying(operation, fence, result.error, result.details))) stale();
      written("retrying");
      log.log("warn", "operation failed; it runs again after a pause", { operation: id, tenant: tenant.id, code: result.error.code, attempt });
      throw new RetryLater(`${result.error.code}: ${result.error.message}`);
    }
    if (!(await this.runs.failed(operation, fence, result.error, result.details))) stale();
    written("failed");
    log.log("warn", "operation failed", { operation: id, tenant: tenant.id, code: result.error.code, attempt });
    this.options.onFailed?.({ ...operation, status: "failed", error: result.error });
  }
}

function secondsSince(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e9;
}

/** graphile-worker's own messages into our log: warnings and errors only. */
function workerLogger(log: Logger): WorkerLogger {
  return new WorkerLogger(() => (level, message) => {
    // A task that failed is expected (a retryable failure throws on purpose): warn, not error.
    if (level === "error" || level === "warning") log.log(level === "error" && !message.startsWith("Failed task") ? "error" : "warn", `graphile-worker: ${message}`);
  });
}

/**
 * Which graphile-worker workers are alive: each process records its workers and refreshes
 * their heartbeat; at start and periodically any process releases the jobs (and tenant
 * queues) of workers whose heartbeat is stale (killed, powered off) with graphile-worker's
 * force_unlock_workers (what WorkerUtils.forceUnlockWorkers runs), so another worker runs
 * them again; also locks held for longer than that by a worker no process ever recorded
 * (killed between taking a job and recording itself). An operation whose job used its last
 * attempt in a dead worker is failed, so nothing waits behind it forever.
 */
import type { Pool } from "pg";
import type { Logger } from "../log";
import type { RunRecords } from "../records/run-records";
import { withTransaction } from "../records/transaction";
import type { OperationRecord } from "../records/types";
import { OPERATION_COLUMNS, operationFromRow, type OperationRow } from "../records/rows";
import { OPERATION_TASK } from "./enqueue";
import { SerialTicker } from "../serial-ticker";

export interface WorkerRegistryOptions {
  pool: Pool;
  runs: RunRecords;
  log: Logger;
  /** This process, in the log. */
  nodeId: string;
  heartbeatMs: number;
  /** A heartbeat older than this means the worker is dead (several heartbeats: a busy event loop is not death). */
  staleAfterMs: number;
  /** Told of each operation failed here (the failure webhook). */
  onFailed?: (op: OperationRecord) => void;
}

export class WorkerRegistry {
  private readonly workers = new Set<string>();
  private readonly ticker: SerialTicker;

  constructor(private readonly options: WorkerRegistryOptions) {
    this.ticker = new SerialTicker(() => this.tick(), options.heartbeatMs);
  }

  async register(workerId: string): Promise<void> {
    this.workers.add(workerId);
    await this.options.pool.query(
      "insert into odoo_saas.workers (worker_id, node_id) values ($1, $2) on conflict (worker_id) do update set heartbeat_at = now()",
      [workerId, this.options.nodeId],
    );
  }

  async start(): Promise<void> {
    await this.sweep();
    this.ticker.start();
  }

  async stop(): Promise<void> {
    await this.ticker.stop();
    await this.options.pool.query("delete from odoo_saas.workers where worker_id = any($1::text[])", [[...this.workers]]).catch(() => undefined);
  }

  private async tick(): Promise<void> {
    try {
      // Upsert: a row removed while this process stalled comes back.
      await this.options.pool.query(
        `insert into odoo_saas.workers (worker_id, node_id) select unnest($1::text[]), $2
         on conflict (worker_id) do update set heartbeat_at = now()`,
        [[...this.workers], this.options.nodeId],
      );
      await this.sweep();
    } catch (err) {
      this.options.log.log("warn", `worker registry: ${(err as Error).message}`);
    }
  }

  /** Releases dead workers' jobs; returns their worker ids. */
  async sweep(): Promise<string[]> {
    const { pool, log } = this.options;
    const stale = `${Math.ceil(this.options.staleAfterMs)} milliseconds`;
    const released = await withTransaction(pool, async (client) => {
      const dead = await client.query<{ worker_id: string }>(
        "delete from odoo_saas.workers where heartbeat_at < now() - $1::interval returning worker_id",
        [stale],
      );
      const orphans = await client.query<{ locked_by: string }>(
        `select distinct j.locked_by from graphile_worker.jobs j
         where j.locked_by is not null and j.locked_at < now() - $1::interval
           and not exists (select 1 from odoo_saas.workers w where w.worker_id = j.locked_by)`,
        [stale],
      );
      const ids = [...new Set([...dead.rows.map((r) => r.worker_id), ...orphans.rows.map((r) => r.locked_by)])];
      if (ids.length > 0) await client.query("select graphile_worker.force_unlock_workers($1::text[])", [ids]);
      return ids;
    });
    if (released.length > 0) log.log("warn", "released the jobs of stopped workers; they run again", { workers: released.join(","), node: this.options.nodeId });
    await this.failExhausted();
    return released;
  }

  /** Operations whose job has no attempt left and no worker: failed (a job only ends so after a kill on its last attempt). */
  private async failExhausted(): Promise<void> {
    const { rows } = await this.options.pool.query<OperationRow & { job_id: string }>(
      `select ${OPERATION_COLUMNS.split(", ").map((c) => `o.${c}`).join(", ")}, j.id as job_id
       from graphile_worker.jobs j join odoo_saas.operations o on o.id = j.key
       where j.task_identifier = $1 and j.locked_by is null and j.attempts >= j.max_attempts and o.status in ('queued', 'running')`,
      [OPERATION_TASK],
    );
    for (const row of rows) {
      const op = operationFromRow(row);
      const error = { code: "update_failed", message: `the server running this operation stopped ${row.attempts} times; it was not tried again` };
      // Fenced on the attempt read here: a worker that claimed it meanwhile wins.
      const failed = await this.options.runs.failed(op, { attempt: op.attempts }, error);
      await this.options.pool.query("select graphile_worker.complete_jobs(array[$1::bigint])", [row.job_id]);
      if (failed) this.options.onFailed?.({ ...op, status: "failed", error });
    }
  }
}

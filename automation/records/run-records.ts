/**
 * The queue's writes to the records: an operation claimed by a worker, and its result. Each
 * result write carries the run's fencing token (the attempt and the worker that claimed it)
 * and checks it with the status in the same statement: a run whose worker was taken for dead
 * (a stalled server) and whose operation another worker claimed since writes nothing, and a
 * job that runs again after its result was recorded changes nothing.
 */
import type { AppliedOutputs } from "../operation-runner";
import { enqueueOperation } from "../queue/enqueue";
import { appendEvent } from "./event-log";
import type { RecordsStore } from "./records-store";
import { OPERATION_COLUMNS, operationFromRow, TENANT_COLUMNS, tenantFromRow, type OperationRow, type TenantRow } from "./rows";
import type { OperationError, OperationRecord, TenantRecord } from "./types";

export type Claim =
  | { type: "finished" }
  | { type: "missing" }
  /** An earlier operation of the tenant is not finished (it waits for a retry): run after it. */
  | { type: "behind"; earlier: string; tenantId: string }
  /** interrupted: a previous run of this operation started and never recorded a result. */
  | { type: "run"; operation: OperationRecord; tenant: TenantRecord; attempt: number; interrupted: boolean };

const MAX_DETAIL = 1_000;

/** Which run may write a result: the attempt it claimed, and (when known) its worker. */
export interface Fence {
  attempt: number;
  workerId?: string;
}

/** `and <fence>` for a statement whose $2 and $3 are the fence's attempt and worker. */
const FENCED = "attempts = $2 and ($3::text is null or worker_id = $3::text)";

export class RunRecords {
  constructor(private readonly store: RecordsStore) {}

  /** Marks the operation running for `workerId`, unless it finished already or must wait for an earlier one. */
  async claim(operationId: string, workerId: string): Promise<Claim> {
    return this.store.transaction(async (client) => {
      const found = await client.query<OperationRow>(`select ${OPERATION_COLUMNS} from odoo_saas.operations where id = $1 for update`, [operationId]);
      if (!found.rows[0]) return { type: "missing" };
      const op = operationFromRow(found.rows[0]);
      if (op.status === "succeeded" || op.status === "failed") return { type: "finished" };
      // A retry waiting out its backoff does not hold the tenant's queue: later operations wait for it here.
      const earlier = await client.query<{ id: string }>(
        `select o.id from odoo_saas.operations o where o.tenant_id = $1 and o.status in ('queued', 'running')
           and (o.created_at, o.id) < ($2::timestamptz, $3::text)
           -- only one that will still run (a job with attempts left); a stuck one is failed by the worker registry
           and exists (select 1 from graphile_worker.jobs j where j.key = o.id and j.attempts < j.max_attempts)
           order by o.created_at, o.id limit 1`,
        [op.tenantId, op.createdAt, op.id],
      );
      if (earlier.rows[0]) return { type: "behind", earlier: earlier.rows[0].id, tenantId: op.tenantId };
      const updated = await client.query<OperationRow>(
        `update odoo_saas.operations set status = 'running', started_at = now(), attempts = attempts + 1, worker_id = $2
         where id = $1 returning ${OPERATION_COLUMNS}`,
        [operationId, workerId],
      );
      const tenant = await client.query<TenantRow>(`select ${TENANT_COLUMNS} from odoo_saas.tenants where id = $1`, [op.tenantId]);
      const operation = operationFromRow(updated.rows[0] as OperationRow);
      return { type: "run", operation, tenant: tenantFromRow(tenant.rows[0] as TenantRow), attempt: operation.attempts, interrupted: op.status === "running" };
    });
  }

  /** Queues the operation again to run after `earlier`'s next attempt (its current job then completes). */
  async deferBehind(op: { id: string; tenantId: string }, earlier: string): Promise<void> {
    await this.store.transaction(async (client) => {
      const next = await client.query<{ run_at: Date }>("select run_at from graphile_worker.jobs where key = $1", [earlier]);
      const after = next.rows[0]?.run_at ?? new Date();
      await enqueueOperation(client, op, this.store.maxAttempts, new Date(Math.max(after.getTime(), Date.now()) + 1_000));
    });
  }

  /** Applied: the tenant's state follows the operation; `url` is the stack's (non-secret) output. */
  async succeeded(op: Readonly<OperationRecord>, outputs: AppliedOutputs | undefined, fence: Fence): Promise<boolean> {
    return this.store.transaction(async (client) => {
      const done = await client.query(
        `update odoo_saas.operations set status = 'succeeded', finished_at = now(), error = null where id = $1 and status = 'running' and ${FENCED}`,
        [op.id, fence.attempt, fence.workerId ?? null],
      );
      if (done.rowCount === 0) return false;
      const url = outputs?.url ?? null;
      const change = {
        create: "state = 'active', url = coalesce($2, url)",
        suspend: "suspended = true, url = coalesce($2, url)",
        resume: "suspended = false, url = coalesce($2, url)",
        delete: "state = 'retired', retired_at = now(), url = coalesce($2, url)",
      }[op.kind];
      await client.query(`update odoo_saas.tenants set ${change}, updated_at = now() where id = $1`, [op.tenantId, url]);
      await appendEvent(client, op.id, { type: "succeeded" });
      return true;
    });
  }

  /** Failed for good: a failed create leaves the tenant "failed" (its id stays reserved for its owner). */
  async failed(op: Readonly<OperationRecord>, fence: Fence, error: OperationError, details: readonly string[] = []): Promise<boolean> {
    return this.store.transaction(async (client) => {
      const done = await client.query(
        `update odoo_saas.operations set status = 'failed', finished_at = now(), error = $4::jsonb, details = $5::jsonb
         where id = $1 and status in ('queued', 'running') and ${FENCED}`,
        [op.id, fence.attempt, fence.workerId ?? null, JSON.stringify(clip(error)), JSON.stringify(details.map((d) => d.slice(0, MAX_DETAIL)))],
      );
      if (done.rowCount === 0) return false;
      if (op.kind === "create") {
        await client.query("update odoo_saas.tenants set state = 'failed', updated_at = now() where id = $1 and state = 'pending'", [op.tenantId]);
      }
      await appendEvent(client, op.id, { type: "failed", error: clip(error) });
      return true;
    });
  }

  /** A retryable failure: queued again (graphile-worker runs the job after its backoff). False: a stale run, nothing written. */
  async retrying(op: Readonly<OperationRecord>, fence: Fence, error: OperationError, details: readonly string[] = []): Promise<boolean> {
    return this.store.transaction(async (client) => {
      const done = await client.query(
        `update odoo_saas.operations set status = 'queued', error = $4::jsonb, details = $5::jsonb where id = $1 and status = 'running' and ${FENCED}`,
        [op.id, fence.attempt, fence.workerId ?? null, JSON.stringify(clip(error)), JSON.stringify(details.map((d) => d.slice(0, MAX_DETAIL)))],
      );
      if (done.rowCount === 0) return false;
      await appendEvent(client, op.id, { type: "retrying", attempt: fence.attempt, error: clip(error) });
      return true;
    });
  }
}

function clip(error: OperationError): OperationError {
  return { code: error.code, message: error.message.slice(0, MAX_DETAIL) };
}

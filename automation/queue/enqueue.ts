/**
 * How an operation becomes a graphile-worker job: one job per operation, in the tenant's
 * own named queue (`tenant:<id>`: one tenant's jobs run one at a time, different tenants'
 * in parallel), keyed by the operation id (the same operation is never queued twice). Called
 * inside the transaction that records the operation, so a request is queued if and only if
 * it was recorded.
 */
import type { ClientBase } from "pg";

export const OPERATION_TASK = "odoo_saas_operation";
/** Attempts per job (each kill or retryable failure is one), then the operation fails. */
export const DEFAULT_MAX_ATTEMPTS = 5;

export function tenantQueueName(tenantId: string): string {
  return `tenant:${tenantId}`;
}

export async function enqueueOperation(
  client: ClientBase,
  op: { id: string; tenantId: string },
  maxAttempts: number,
  runAt?: Date,
): Promise<void> {
  await client.query(
    "select graphile_worker.add_job($1::text, json_build_object('operationId', $2::text), queue_name => $3::text, max_attempts => $4::int, job_key => $2::text, run_at => $5::timestamptz)",
    [OPERATION_TASK, op.id, tenantQueueName(op.tenantId), maxAttempts, runAt ?? null],
  );
}

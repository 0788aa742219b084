/**
 * The seam between the work queue and the engine: the queue decides when an operation runs
 * (in order per tenant, in parallel across tenants), a runner applies it to that tenant's own
 * stack and says what happened. automation/engine/tenant-stack-runner.ts is the real runner (the
 * engine, one stack per self-service tenant); queue tests may pass their own.
 */
import type { ProgressEvent } from "./operation-events";
import type { OperationError, OperationRecord, TenantRecord } from "./records/types";

export interface OperationRun {
  operation: Readonly<OperationRecord>;
  /** The tenant as recorded before this operation applies. */
  tenant: Readonly<TenantRecord>;
  /** 1 on the first try; more after a retry or a worker that died mid-run. */
  attempt: number;
  /** Progress for the operation's subscribers (only this tenant's own steps). */
  progress: (event: ProgressEvent) => void;
}

/** What the stack reported for the tenant after a successful update (no secrets). */
export interface AppliedOutputs {
  url?: string;
}

export type RunResult =
  | { ok: true; changes: Record<string, number>; outputs?: AppliedOutputs }
  /** retryable: worth another attempt with backoff (a lock, the API server away), not a refusal. */
  | { ok: false; error: OperationError; retryable: boolean; details?: string[] };

export interface OperationRunner {
  run(run: OperationRun): Promise<RunResult>;
  /** The tenant's credentials, read from its own stack, for its owner (secrets: never logged). */
  credentials(tenantId: string): Promise<{ url: string; login: string; password: string } | undefined>;
}

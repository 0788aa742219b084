/**
 * The signup server's records: self-service tenants, their operations and on-demand backup
 * requests, as the HTTP layer, the queue and the runner read them. Stored in PostgreSQL
 * (records-store.ts); these are the shapes, without storage.
 */
import * as crypto from "node:crypto";

export type OperationKind = "create" | "suspend" | "resume" | "delete";
export const OPERATION_KINDS: readonly OperationKind[] = ["create", "suspend", "resume", "delete"];
export type OperationStatus = "queued" | "running" | "succeeded" | "failed";
/**
 * pending: signup accepted, not yet applied; active: its stack has it; failed: its create
 * failed; retired: deleted (data kept, id stays reserved until purged).
 */
export type TenantState = "pending" | "active" | "failed" | "retired";

export interface TenantRecord {
  id: string;
  /** Supabase user id (`sub`) of the owner. */
  ownerId: string;
  adminEmail: string;
  plan: string;
  odooVersion: string;
  /** Applied value: changes only when a suspend/resume operation succeeded. */
  suspended: boolean;
  state: TenantState;
  /** The last applied URL (the stack's non-secret output), so listings never open stacks. */
  url?: string;
  createdAt: string;
  updatedAt: string;
  retiredAt?: string;
  lastOperationId: string;
  /**
   * The plan's storage (database + files, bytes) when it was signed up: volumes keep their
   * size, so this is what stays kept after a delete, until purge. Absent on older records.
   */
  storageBytes?: number;
}

export interface OperationError {
  code: string;
  message: string;
}

export interface OperationRecord {
  id: string;
  kind: OperationKind;
  tenantId: string;
  /** Owner of the tenant at the time of the request (ownership checks use it). */
  ownerId: string;
  /** `sub` of the caller (the owner, or an admin). */
  requestedBy: string;
  status: OperationStatus;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  /** Runs started (more than 1 after a retry or a worker that died mid-run). */
  attempts: number;
  error?: OperationError;
  /** Engine details for administrators (sanitised), never for customers. */
  details?: string[];
  /** The X-Request-Id of the request that asked for it (log.ts), so its log lines can be joined. */
  requestId?: string;
}

/** An owner's (or admin's) "back up now", kept for the per-tenant daily limit. */
export interface BackupRequestRecord {
  at: string;
  requestedBy: string;
  /** What the cluster was given (set once it accepted the request). */
  reference?: string;
}

export function newOperationId(): string {
  return `op_${crypto.randomBytes(12).toString("base64url")}`;
}

/** PostgreSQL rows to records: timestamps as ISO strings, jsonb checked for its shape. */
import type { OperationError, OperationKind, OperationRecord, OperationStatus, TenantRecord, TenantState } from "./types";

export interface TenantRow {
  id: string;
  owner_id: string;
  admin_email: string;
  plan: string;
  odoo_version: string;
  suspended: boolean;
  state: string;
  url: string | null;
  created_at: Date;
  updated_at: Date;
  retired_at: Date | null;
  last_operation_id: string;
  /** bigint: node-postgres returns it as text. */
  storage_bytes: string | null;
}

export interface OperationRow {
  id: string;
  kind: string;
  tenant_id: string;
  owner_id: string;
  requested_by: string;
  status: string;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  attempts: number;
  error: unknown;
  details: unknown;
  request_id: string | null;
}

export const TENANT_COLUMNS = "id, owner_id, admin_email, plan, odoo_version, suspended, state, url, created_at, updated_at, retired_at, last_operation_id, storage_bytes";
export const OPERATION_COLUMNS = "id, kind, tenant_id, owner_id, requested_by, status, created_at, started_at, finished_at, attempts, error, details, request_id";

export function tenantFromRow(row: TenantRow): TenantRecord {
  return {
    id: row.id,
    ownerId: row.owner_id,
    adminEmail: row.admin_email,
    plan: row.plan,
    odooVersion: row.odoo_version,
    suspended: row.suspended,
    // The table's check constraint allows only TenantState values.
    state: row.state as TenantState,
    ...(row.url !== null ? { url: row.url } : {}),
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    ...(row.retired_at !== null ? { retiredAt: row.retired_at.toISOString() } : {}),
    lastOperationId: row.last_operation_id,
    ...(row.storage_bytes !== null ? { storageBytes: Number(row.storage_bytes) } : {}),
  };
}

function errorOf(value: unknown): OperationError | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const code: unknown = Reflect.get(value, "code");
  const message: unknown = Reflect.get(value, "message");
  return typeof code === "string" && typeof message === "string" ? { code, message } : undefined;
}

function detailsOf(value: unknown): string[] | undefined {
  return Array.isArray(value) ? value.filter((d): d is string => typeof d === "string") : undefined;
}

export function operationFromRow(row: OperationRow): OperationRecord {
  const error = errorOf(row.error);
  const details = detailsOf(row.details);
  return {
    id: row.id,
    kind: row.kind as OperationKind,
    tenantId: row.tenant_id,
    ownerId: row.owner_id,
    requestedBy: row.requested_by,
    status: row.status as OperationStatus,
    createdAt: row.created_at.toISOString(),
    ...(row.started_at !== null ? { startedAt: row.started_at.toISOString() } : {}),
    ...(row.finished_at !== null ? { finishedAt: row.finished_at.toISOString() } : {}),
    attempts: row.attempts,
    ...(error !== undefined ? { error } : {}),
    ...(details !== undefined && details.length > 0 ? { details } : {}),
    ...(row.request_id !== null ? { requestId: row.request_id } : {}),
  };
}

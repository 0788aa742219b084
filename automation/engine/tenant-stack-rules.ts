/**
 * The rules of a tenant's stack runs that need no engine: what the config lists after an
 * operation, which failures are worth another attempt, and how outputs are read (by own key).
 */
import { ConcurrentUpdateError, type OutputMap } from "@pulumi/pulumi/automation";
import type { TenantInput } from "../../tenants/schema";
import type { OperationKind, TenantRecord } from "../records/types";

export const FAILURE_CODE: ReadonlyMap<OperationKind, string> = new Map([
  ["create", "provisioning_failed"], ["suspend", "suspend_failed"], ["resume", "resume_failed"], ["delete", "delete_failed"],
]);

/** Engine failures worth another attempt later: a lock, or the API server away for a moment. */
export const TRANSIENT = /currently locked|another update is currently in progress|connection refused|i\/o timeout|no such host|context deadline exceeded|tls handshake timeout|server is currently unable|etcdserver: request timed out|too many requests/i;

export function isLockError(err: unknown): boolean {
  return err instanceof ConcurrentUpdateError || (err instanceof Error && /currently locked|another update is currently in progress/i.test(err.message));
}

/** The tenant as the program's config lists it after `kind` applies (undefined: not deployed). */
export function tenantAfter(tenant: Readonly<TenantRecord>, kind: OperationKind): TenantInput | undefined {
  if (kind === "delete") return undefined;
  return {
    id: tenant.id,
    adminEmail: tenant.adminEmail,
    plan: tenant.plan,
    odooVersion: tenant.odooVersion as TenantInput["odooVersion"],
    suspended: kind === "suspend" ? true : kind === "resume" ? false : tenant.suspended,
    ownerId: tenant.ownerId,
  };
}

export function tenantOutput(outputs: OutputMap, id: string): Record<string, unknown> | undefined {
  const all: unknown = outputs.tenants?.value;
  if (typeof all !== "object" || all === null || !Object.hasOwn(all, id)) return undefined;
  const entry: unknown = (all as Record<string, unknown>)[id];
  return typeof entry === "object" && entry !== null ? (entry as Record<string, unknown>) : undefined;
}

export function text(record: Record<string, unknown> | undefined, key: string): string | undefined {
  if (!record || !Object.hasOwn(record, key)) return undefined;
  const value = record[key];
  return typeof value === "string" ? value : undefined;
}


/**
 * The one owner/visibility rule of the signup server, for tenants, backups, uploads and
 * operations: a tenant belongs to the `sub` that signed it up; its owner and administrators
 * (a claim in app_metadata) see and act on it; anyone else gets 404, exactly as for a missing
 * one, so a name says nothing about whether it exists. A deleted (retired) tenant is 404 to
 * everyone here. A few things are the owner's alone (the Odoo admin password): administrators
 * get 404 there too. Administrators read raw details; everyone else reads customer words.
 */
import { ApiError, notFound } from "./api-error";
import type { Caller } from "./auth";
import type { RecordsStore } from "./records/records-store";
import type { OperationRecord, TenantRecord } from "./records/types";

export type Audience = "customer" | "admin";

/** Who reads: administrators the raw derivation and engine details, everyone else customer words. */
export function audienceOf(caller: Caller): Audience {
  return caller.isAdmin ? "admin" : "customer";
}

/** The rule itself. `ownerOnly`: not even administrators (the Odoo admin password). */
export function maySeeTenant(caller: Caller, tenant: Pick<TenantRecord, "ownerId" | "state">, ownerOnly = false): boolean {
  if (tenant.state === "retired") return false;
  return tenant.ownerId === caller.sub || (caller.isAdmin && !ownerOnly);
}

/** An operation is seen by whoever may see its tenant's owner's things: the owner, or an administrator. */
export function maySeeOperation(caller: Caller, op: Pick<OperationRecord, "ownerId">): boolean {
  return op.ownerId === caller.sub || caller.isAdmin;
}

/** The administrators' routes (overview, ids, raw event streams): 403, they are known to exist. */
export function requireAdmin(caller: Caller): void {
  if (!caller.isAdmin) throw new ApiError(403, "forbidden", "administrators only");
}

export class TenantAccess {
  constructor(private readonly records: Pick<RecordsStore, "tenant" | "operation">) {}

  /** The tenant if the caller may see it; otherwise 404, as if missing. */
  async tenant(caller: Caller, id: string, options: { ownerOnly?: boolean } = {}): Promise<TenantRecord> {
    const tenant = await this.records.tenant(id);
    if (!tenant || !maySeeTenant(caller, tenant, options.ownerOnly)) throw notFound(`tenant "${id}"`);
    return tenant;
  }

  /**
   * The tenant of a data route (backups, downloads, uploads): visible as above, and created in
   * the cluster, else 409 with `notReady` (customer words: what is not there yet).
   */
  async created(caller: Caller, id: string, notReady: string): Promise<TenantRecord> {
    const tenant = await this.tenant(caller, id);
    if (tenant.state !== "active") throw new ApiError(409, "not_ready", notReady);
    return tenant;
  }

  /** The operation if the caller may see it; otherwise 404, as if missing. */
  async operation(caller: Caller, id: string): Promise<OperationRecord> {
    const op = await this.records.operation(id);
    if (!op || !maySeeOperation(caller, op)) throw notFound(`operation "${id}"`);
    return op;
  }
}

/**
 * Tenants and operations as callers read them: the one customer status (customer-status.ts)
 * from the records and the cluster's observation, the URL the tenant's stack last reported
 * (kept in its record, so a listing never opens a stack), customer words for customers and
 * the raw derivation for administrators. Listings read the records with one query per kind
 * and the cluster with one list when the reader can (hundreds of tenants stay fast).
 */
import type { Caller } from "./auth";
import type { ClusterObservation, ClusterStatusReader } from "./cluster-status";
import { customerError, type CustomerError } from "./customer-messages";
import { customerStatus, type CustomerStatus } from "./customer-status";
import type { FleetPlatform } from "./fleet-platform";
import { audienceOf } from "./tenant-access";
import type { RecordsStore } from "./records/records-store";
import type { OperationKind, OperationRecord, TenantRecord } from "./records/types";

export interface TenantView {
  id: string;
  url: string;
  host: string;
  plan: string;
  odooVersion: string;
  suspended: boolean;
  state: TenantRecord["state"];
  /** The one customer-facing status (customer-status.ts). */
  status: CustomerStatus;
  /** Customer words. */
  statusReason: string;
  /** When failed: the reference an administrator looks up (an operation id). */
  reference?: string;
  createdAt: string;
  cluster: { reachable: boolean; reason?: string };
  lastOperation: OperationView | null;
  /** Admins only. */
  ownerId?: string;
  /** Admins only. */
  ownerEmail?: string;
  /** Admins only: the operator's own derivation, with the raw reason. */
  detail?: { status: string; reason: string };
}

export interface OperationView {
  id: string;
  kind: OperationKind;
  tenantId: string;
  status: OperationRecord["status"];
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  attempts: number;
  /** Customers get the fixed customer message and a reference; administrators the raw one. */
  error: CustomerError | { code: string; message: string } | null;
  /** Administrators only: the engine's details of a failure. */
  details?: string[];
  events: string;
}

/** The operation as `audience` may read it: engine text for administrators only. */
export function operationView(op: Readonly<OperationRecord>, audience: "customer" | "admin" = "customer"): OperationView {
  return {
    id: op.id,
    kind: op.kind,
    tenantId: op.tenantId,
    status: op.status,
    createdAt: op.createdAt,
    startedAt: op.startedAt ?? null,
    finishedAt: op.finishedAt ?? null,
    attempts: op.attempts,
    // A queued operation may carry the error of a try that will be retried: customers see errors of failed ones only.
    error: op.error === undefined || (audience === "customer" && op.status !== "failed") ? null : audience === "admin" ? op.error : customerError(op),
    ...(audience === "admin" && op.details !== undefined ? { details: op.details } : {}),
    events: `/api/operations/${op.id}/events`,
  };
}

const NOT_CHECKED: ClusterObservation = { reachable: false, reason: "not checked" };

export class TenantViews {
  constructor(
    private readonly records: RecordsStore,
    private readonly platform: FleetPlatform,
    private readonly cluster: ClusterStatusReader,
  ) {}

  /** One tenant, its cluster observed (nothing to read before it was applied). */
  async one(caller: Caller, tenant: Readonly<TenantRecord>, observe = true): Promise<TenantView> {
    const [last, pending] = await Promise.all([this.records.operation(tenant.lastOperationId), this.records.pendingOperations([tenant.id])]);
    const cluster = !observe ? NOT_CHECKED : tenant.state === "active" ? await this.cluster.observe(tenant.id) : { reachable: false as const, reason: "not deployed yet" };
    return this.view(caller, tenant, cluster, pending.get(tenant.id) ?? [], last);
  }

  async many(caller: Caller, tenants: readonly Readonly<TenantRecord>[]): Promise<TenantView[]> {
    const [last, pending, observed] = await Promise.all([
      this.records.operations(tenants.map((t) => t.lastOperationId)),
      this.records.pendingOperations(tenants.map((t) => t.id)),
      this.observeMany(tenants.filter((t) => t.state === "active").map((t) => t.id)),
    ]);
    return tenants.map((t) => this.view(
      caller, t, observed.get(t.id) ?? { reachable: false, reason: "not deployed yet" }, pending.get(t.id) ?? [], last.get(t.lastOperationId),
    ));
  }

  private async observeMany(ids: readonly string[]): Promise<Map<string, ClusterObservation>> {
    if (ids.length === 0) return new Map();
    if (this.cluster.observeMany) return this.cluster.observeMany(ids);
    const result = new Map<string, ClusterObservation>();
    let unreachable: ClusterObservation | undefined;
    // A few reads at a time; once the cluster did not answer, do not wait for it again.
    for (let i = 0; i < ids.length; i += 8) {
      const chunk = ids.slice(i, i + 8);
      const observed = await Promise.all(chunk.map((id) => unreachable ?? this.cluster.observe(id)));
      chunk.forEach((id, j) => {
        const observation = observed[j] as ClusterObservation;
        if (!observation.reachable) unreachable ??= observation;
        result.set(id, observation);
      });
    }
    return result;
  }

  private view(caller: Caller, tenant: Readonly<TenantRecord>, cluster: ClusterObservation, pending: readonly OperationRecord[], last: OperationRecord | undefined): TenantView {
    const derived = customerStatus({ tenant, pending, ...(last ? { lastOperation: last } : {}), cluster });
    const audience = audienceOf(caller);
    const admin = audience === "admin";
    const address = this.platform.address(tenant.id);
    return {
      id: tenant.id,
      // The component's own URL once its stack reported it; before, the same rule it uses.
      url: tenant.url ?? address.url,
      host: address.host,
      plan: tenant.plan,
      odooVersion: tenant.odooVersion,
      suspended: tenant.suspended,
      state: tenant.state,
      status: derived.status,
      statusReason: derived.reason,
      ...(derived.reference !== undefined ? { reference: derived.reference } : {}),
      createdAt: tenant.createdAt,
      // The reason names operator things (kubeconfig, API server): administrators only.
      cluster: cluster.reachable ? { reachable: true } : admin ? { reachable: false, reason: cluster.reason } : { reachable: false },
      lastOperation: last ? operationView(last, audience) : null,
      ...(admin ? { ownerId: tenant.ownerId, ownerEmail: tenant.adminEmail, detail: derived.detail } : {}),
    };
  }
}

/**
 * What administrators read, without HTTP: the ids and hosts self-service tenants own (for
 * `check:tenants --taken`), the overview of every tenant in the cluster, and the recent
 * operations with the engine's details. All from the records and one cluster snapshot:
 * no stack is opened, so hundreds of tenants stay fast.
 */
import { tenantHost } from "../tenants/validate";
import { buildOverview, readyWithoutRecords, type AdminOverview, type ClusterAdminReader } from "./admin-overview";
import type { Caller } from "./auth";
import type { Logger } from "./log";
import type { FleetPlatform } from "./fleet-platform";
import { checkAddresses, UncheckedAddresses, type AddressChecker } from "./ingress-health";
import type { RecordsStore } from "./records/records-store";
import { requireAdmin } from "./tenant-access";
import { operationView, type OperationView, type TenantViews } from "./tenant-views";

export interface AdminServiceOptions {
  records: RecordsStore;
  views: TenantViews;
  platform: FleetPlatform;
  /** Cluster-wide reads for the overview; absent when no cluster is configured. */
  admin?: ClusterAdminReader;
  /** Whether a tenant's public address answers (the one the customer status uses); absent: not checked. */
  addresses?: AddressChecker;
  /** The stack of one self-service tenant (the runner's naming). */
  stackNameOf: (tenantId: string) => string;
  log: Logger;
}

/** A failed pause, resume or delete can be sent again as it was; a failed create needs its owner. */
function retryable(op: OperationView | null): op is OperationView & { kind: "suspend" | "resume" | "delete" } {
  return op !== null && op.status === "failed" && op.kind !== "create";
}

export class AdminService {
  constructor(private readonly options: AdminServiceOptions) {}

  /** Ids and hosts self-service tenants own (every state: retired and failed ids stay reserved). */
  async tenantIds(caller: Caller): Promise<{ stack: string; ids: string[]; hosts: string[] }> {
    requireAdmin(caller);
    const config = this.options.platform.config();
    const ids = await this.options.records.tenantIds();
    // One stack per tenant: `stack` names the pattern, as check:tenants prints it.
    return { stack: this.options.stackNameOf("<id>"), ids, hosts: ids.map((id) => tenantHost(config, id)) };
  }

  /** Every tenant in the cluster (self-service and pull-request), with node, usage and the distribution. */
  async overview(caller: Caller): Promise<AdminOverview> {
    requireAdmin(caller);
    // Every self-service tenant, deleted ones included (the "deleted" filter shows them), owners by e-mail.
    const all = await this.options.views.many(caller, await this.options.records.tenants());
    const selfService = all.map((t) => ({
      id: t.id, ownerId: t.ownerId ?? "", ownerEmail: t.ownerEmail ?? "", plan: t.plan, status: t.status,
      statusReason: t.detail?.reason ?? t.statusReason, ...(t.reference !== undefined ? { reference: t.reference } : {}),
      canSuspend: t.state === "active" && !t.suspended && (t.status === "ready" || t.status === "starting"),
      ...(retryable(t.lastOperation) ? { retry: t.lastOperation.kind } : {}),
    }));
    const opsIds = this.options.platform.tenantIds();
    if (this.options.admin === undefined) return buildOverview(selfService, { unreachable: "no cluster configured (KUBECONFIG)" }, opsIds);
    try {
      const snapshot = await this.options.admin.snapshot();
      // Pull-request tenants are "ready" by the customers' rule: a Ready pod whose address answered.
      const config = this.options.platform.config();
      const hosts = new Map(readyWithoutRecords(snapshot, selfService).map((id) => [id, tenantHost(config, id)]));
      const addresses = await checkAddresses(this.options.addresses ?? new UncheckedAddresses(), hosts);
      return buildOverview(selfService, snapshot, opsIds, addresses);
    } catch (err) {
      this.options.log.log("warn", "admin overview: cluster not readable", { error: (err as Error).message.split("\n")[0] ?? "" });
      return buildOverview(selfService, { unreachable: "the cluster could not be read; see the server log" }, opsIds);
    }
  }

  /** The last 100 operations of every tenant, newest first, with errors and the engine's details. */
  async operations(caller: Caller): Promise<{ operations: OperationView[] }> {
    requireAdmin(caller);
    return { operations: (await this.options.records.recentOperations(100)).map((op) => operationView(op, "admin")) };
  }
}

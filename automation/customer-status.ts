/**
 * The one status a customer sees, in the API, the progress panel and the list:
 *
 *   creating ─► starting ─► ready ◄─► suspended        any ─► deleting ─► deleted
 *      │            │                                   any ─► failed (with a reference)
 *      └────────────┴─► failed                          any ─► unknown (with a reason)
 *
 * creating: the signup is recorded, not yet applied. starting: applied, but Odoo has not
 * been observed answering its health check (the Odoo pod's Ready condition, which is its
 * /web/health probe). ready: observed so, never assumed. unknown: the cluster could not be
 * read, so nothing is claimed. The operator's own derivation (cluster-status.ts) stays the
 * source; this maps it to customer words and keeps its raw reason for administrators.
 */
import { deriveTenantStatus, type StatusInput } from "./cluster-status";
import { customerError } from "./customer-messages";
import type { OperationRecord, TenantRecord } from "./records/types";

export const CUSTOMER_STATUSES = ["creating", "starting", "ready", "suspended", "failed", "deleting", "deleted", "unknown"] as const;
export type CustomerStatus = (typeof CUSTOMER_STATUSES)[number];

export interface CustomerStatusView {
  status: CustomerStatus;
  /** Customer words: no object names, no engine text. */
  reason: string;
  /** Set when failed: what an administrator looks up (the operation id). */
  reference?: string;
  /** The operator's derivation, for administrators only. */
  detail: { status: string; reason: string };
}

export interface CustomerStatusInput extends StatusInput {
  tenant: Pick<TenantRecord, "state" | "suspended" | "lastOperationId">;
  lastOperation?: Pick<OperationRecord, "id" | "kind" | "status" | "error">;
}

const REASONS: Readonly<Record<Exclude<CustomerStatus, "failed">, string>> = {
  creating: "We are creating your instance.",
  starting: "Odoo is starting. It is ready once it answers.",
  ready: "Odoo is running and answering.",
  suspended: "Paused. Your data is kept; resume it at any time.",
  deleting: "We are deleting your instance.",
  deleted: "Deleted. Its data is kept until it is permanently removed, and the name stays with it until then.",
  unknown: "We cannot check on your instance right now.",
};

function view(status: Exclude<CustomerStatus, "failed">, detail: CustomerStatusView["detail"]): CustomerStatusView {
  return { status, reason: REASONS[status], detail };
}

export function customerStatus(input: CustomerStatusInput): CustomerStatusView {
  const { tenant, lastOperation, cluster } = input;
  if (tenant.state === "retired") return view("deleted", { status: "retired", reason: "removed from the stack; data kept until purged" });
  const derived = deriveTenantStatus(input);
  const detail = { status: derived.status as string, reason: derived.reason };
  switch (derived.status as string) {
    case "deleting":
      return view("deleting", detail);
    case "error": {
      // A failed operation has its own fixed message; a pod that cannot start has one too.
      const failedOp = lastOperation?.status === "failed" ? lastOperation : undefined;
      if (failedOp || tenant.state === "failed") {
        const error = customerError(failedOp ?? { id: tenant.lastOperationId, kind: "create", error: { code: "provisioning_failed", message: "" } });
        return { status: "failed", reason: error.message, reference: error.reference, detail };
      }
      return { status: "failed", reason: "Odoo could not start. Your data is safe.", reference: tenant.lastOperationId, detail };
    }
    case "provisioning":
      return view(tenant.state === "pending" ? "creating" : "starting", detail);
    case "suspended":
      return view("suspended", detail);
    case "ready":
      // "ready" without a cluster reading is an inference from the last operation: not observed.
      return cluster.reachable ? view("ready", detail) : view("unknown", detail);
    default:
      return view("unknown", detail);
  }
}

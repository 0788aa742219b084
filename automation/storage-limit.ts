/**
 * The per-user storage limit. A deleted instance keeps its volumes until an operator purges
 * it, so without a limit create and delete could repeat forever, each round leaving storage
 * behind. Every instance that holds storage counts: pending, active, and deleted-but-kept
 * (retired, not purged); a failed create holds none (its create was rolled back).
 *
 * An instance counts its plan's storage in the customer's unit, whole GB of database plus
 * files as the plan cards show it (storageGigabytes), at the size it was created with
 * (volumes never shrink or grow with a plan change). Older records without that size count
 * their plan's current size, and a plan no longer offered counts as the largest plan.
 */
import type { Plan } from "../tenants/schema";
import { quantityValue } from "../tenants/quantity";
import { planDisplayName, storageGigabytes } from "./plan-words";
import type { TenantRecord } from "./records/types";

/**
 * ODOO_SAAS_STORAGE_LIMIT_GB's default: three instances of the largest default plan (42 GB
 * each, as many as ODOO_SAAS_TENANT_LIMIT's default allows) plus two deleted small ones kept.
 */
export const DEFAULT_STORAGE_LIMIT_GB = 150;

type Plans = Readonly<Record<string, Plan>>;

/** States whose tenant holds storage (as records-store's HOLDING). */
export const HOLDS_STORAGE: ReadonlySet<TenantRecord["state"]> = new Set(["pending", "active", "retired"]);

/** Bytes of database plus files of a plan: what its volumes hold. */
export function planStorageBytes(plan: Pick<Plan, "databaseStorage" | "filestoreStorage">): number {
  return quantityValue(plan.databaseStorage) + quantityValue(plan.filestoreStorage);
}

function planOf(plans: Plans, name: string): Plan | undefined {
  return Object.hasOwn(plans, name) ? plans[name] : undefined;
}

/** GB one instance holds (see the module comment for records without a size). */
export function heldGigabytes(tenant: Pick<TenantRecord, "plan" | "storageBytes">, plans: Plans): number {
  if (tenant.storageBytes !== undefined) return Math.floor(tenant.storageBytes / 1e9);
  const plan = planOf(plans, tenant.plan);
  if (plan !== undefined) return storageGigabytes(plan);
  return Math.max(0, ...Object.values(plans).map((p) => storageGigabytes(p)));
}

export interface StorageUse {
  usedGb: number;
  /** Of usedGb: deleted instances whose data is kept until purge. */
  keptGb: number;
  maxGb: number;
}

export function storageUse(holding: readonly Pick<TenantRecord, "plan" | "storageBytes" | "state">[], plans: Plans, maxGb: number): StorageUse {
  let usedGb = 0;
  let keptGb = 0;
  for (const tenant of holding) {
    const gb = heldGigabytes(tenant, plans);
    usedGb += gb;
    if (tenant.state === "retired") keptGb += gb;
  }
  return { usedGb, keptGb, maxGb };
}

/**
 * Why a new instance of `planName` does not fit the owner's storage limit, in customer words,
 * or undefined when it fits. `holding` excludes the id being signed up.
 */
export function storageLimitProblem(use: StorageUse, planName: string, plans: Plans): string | undefined {
  const plan = planOf(plans, planName);
  if (plan === undefined) return undefined; // the schema refuses an unknown plan first
  const needGb = storageGigabytes(plan);
  if (use.usedGb + needGb <= use.maxGb) return undefined;
  const head = `the ${planDisplayName(planName, plan)} plan needs ${needGb} GB of storage, but your instances already hold ${use.usedGb} GB `
    + `of the ${use.maxGb} GB one account may keep`;
  if (use.keptGb > 0) {
    return `${head}, ${use.keptGb} GB of it by instances you deleted: their data is kept until it is permanently removed. `
      + "Ask support to permanently remove a deleted instance you no longer need to free its space, or choose a smaller plan";
  }
  return `${head}. Choose a smaller plan, or delete an instance you no longer need and ask support to permanently remove its data`;
}

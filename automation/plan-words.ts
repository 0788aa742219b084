/**
 * Plans in customer words: a display name, one sentence, storage in GB. The platform config
 * may set `displayName` and `description` per plan (tenants/schema.ts); otherwise both are
 * derived from the plan's key and sizes.
 */
import type { Plan } from "../tenants/schema";
import { quantityValue } from "../tenants/quantity";

/** Database plus files, in whole GB (10^9 bytes), rounded down: never more than the plan gives. */
export function storageGigabytes(plan: Pick<Plan, "databaseStorage" | "filestoreStorage">): number {
  return Math.floor((quantityValue(plan.databaseStorage) + quantityValue(plan.filestoreStorage)) / 1e9);
}

/** "business-plus" -> "Business plus" unless the config names it. */
export function planDisplayName(key: string, plan: Pick<Plan, "displayName">): string {
  if (plan.displayName !== undefined) return plan.displayName;
  const words = key.split("-").join(" ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

export function planDescription(plan: Pick<Plan, "description" | "workers" | "databaseStorage" | "filestoreStorage">): string {
  if (plan.description !== undefined) return plan.description;
  return plan.workers > 0 ? "For teams using Odoo all day." : "For getting started and small teams.";
}

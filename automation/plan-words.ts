/**
 * Plans in customer words: a display name, one sentence, storage in GB. The platform config
 * may set `displayName` and `description` per plan (tenants/schema.ts); otherwise both are
 * derived from the plan's key and sizes.
 */
import type { Plan } from "../tenants/schema";
import { quantityValue } from "../tenants/quantity";
import { formatSize } from "./upload-receiver";

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

/**
 * What a plan gives, in customer words, with the one size format of the page and the API
 * (formatSize: decimal GB, one decimal, as the upload limit is written): storage, Odoo's CPU and
 * memory, and backups.
 */
export function planFacts(plan: Pick<Plan, "databaseStorage" | "filestoreStorage" | "odoo">, backupsPerDay: number): { storage: string; resources: string; backups: string } {
  const cpu = quantityValue(plan.odoo.cpu.limit);
  const cpuText = `${Number(cpu.toFixed(2))} CPU`;
  return {
    storage: formatSize(quantityValue(plan.databaseStorage) + quantityValue(plan.filestoreStorage)),
    resources: `${cpuText}, ${formatSize(quantityValue(plan.odoo.memory.limit))} memory`,
    backups: `daily backups, ${backupsPerDay} more on request a day`,
  };
}

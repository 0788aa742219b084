/**
 * Per-tenant counts of what an engine run (preview or up) does, from its events: what a
 * reviewer of a pull request, or an operator after `npm start`, needs to see first.
 * A resource belongs to the OdooTenant component whose name (the tenant id) is the longest
 * prefix `<id>-` of its own name; everything else is "platform".
 */
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { ODOO_TENANT_TYPE } from "../../components/odoo-tenant";
import { parseUrn, tenantByName } from "./engine-events";

export type ChangeKind = "create" | "update" | "replace" | "delete" | "same";
export type ChangeCounts = Record<ChangeKind, number>;

export interface TenantChangeSummary {
  /** Tenant id -> counts, in first-seen order. */
  tenants: Map<string, ChangeCounts>;
  /** Replaced or deleted resources per tenant: the changes a reviewer must not miss. */
  destructive: Map<string, string[]>;
  failed: Map<string, string[]>;
}

/** A replacement shows as create-replacement, replace and delete-replaced: count it once. */
const KIND_OF_OP = new Map<string, ChangeKind>([
  ["create", "create"],
  ["update", "update"],
  ["replace", "replace"],
  ["delete", "delete"],
  ["same", "same"],
]);

export const PLATFORM = "(platform)";

function emptyCounts(): ChangeCounts {
  return { create: 0, update: 0, replace: 0, delete: 0, same: 0 };
}

export function summarizeChanges(events: readonly EngineEvent[]): TenantChangeSummary {
  const steps: Array<{ urn: string; op: string; failed: boolean }> = [];
  const tenantIds = new Set<string>();
  for (const event of events) {
    const step = event.resourcePreEvent ?? event.resOpFailedEvent;
    if (!step) continue;
    const { urn, op, type } = step.metadata;
    if (type === ODOO_TENANT_TYPE) tenantIds.add(parseUrn(urn).name);
    if (type === "pulumi:pulumi:Stack" || type.startsWith("pulumi:providers:")) continue;
    steps.push({ urn, op, failed: event.resOpFailedEvent !== undefined });
  }
  const summary: TenantChangeSummary = { tenants: new Map(), destructive: new Map(), failed: new Map() };
  const add = (map: Map<string, string[]>, tenant: string, item: string): void => {
    map.set(tenant, [...(map.get(tenant) ?? []), item]);
  };
  for (const { urn, op, failed } of steps) {
    const { name, type } = parseUrn(urn);
    const tenant = (type === ODOO_TENANT_TYPE ? name : tenantByName(name, tenantIds)) ?? PLATFORM;
    const label = `${name} (${type.split(":").pop() ?? type})`;
    if (failed) {
      add(summary.failed, tenant, label);
      continue;
    }
    const kind = KIND_OF_OP.get(op);
    if (kind === undefined) continue;
    const counts = summary.tenants.get(tenant) ?? emptyCounts();
    // The component itself is bookkeeping: count only the objects it makes.
    if (type !== ODOO_TENANT_TYPE) counts[kind] += 1;
    summary.tenants.set(tenant, counts);
    if ((kind === "replace" || kind === "delete") && type !== ODOO_TENANT_TYPE) add(summary.destructive, tenant, `${kind} ${label}`);
  }
  return summary;
}

export function hasChanges(summary: TenantChangeSummary): boolean {
  for (const counts of summary.tenants.values()) {
    if (counts.create + counts.update + counts.replace + counts.delete > 0) return true;
  }
  return summary.failed.size > 0;
}

/** A Markdown table (a PR comment renders it; a terminal reads it as text). */
export function formatChangeTable(summary: TenantChangeSummary): string {
  const rows = [...summary.tenants.entries()].sort(([a], [b]) => (a === PLATFORM ? 1 : b === PLATFORM ? -1 : a.localeCompare(b)));
  const lines = [
    "| tenant | create | update | replace | delete | unchanged |",
    "| --- | ---: | ---: | ---: | ---: | ---: |",
    ...rows.map(([tenant, c]) => `| ${tenant} | ${c.create} | ${c.update} | ${c.replace} | ${c.delete} | ${c.same} |`),
  ];
  for (const [tenant, items] of summary.destructive) {
    lines.push("", `**${tenant}**: ${items.join(", ")}`);
  }
  for (const [tenant, items] of summary.failed) {
    lines.push("", `**${tenant}** failed: ${items.join(", ")}`);
  }
  return lines.join("\n");
}

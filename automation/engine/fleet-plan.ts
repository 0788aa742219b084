/**
 * Which tenants a change of `Pulumi.<stack>.yaml` touches, without engine or cluster: the
 * base and head files are parsed by the one schema and each tenant is compared by what its
 * stack is actually given (the resolved OdooTenant arguments: its own entry plus its plan,
 * images, domain, ingress, backup and network settings), and by the file's keys of other
 * namespaces (e.g. `kubernetes:*`), which reach every tenant's stack.
 * A change of a plan touches exactly the tenants on that plan; a comment or reordering, none.
 */
import { resolveTenantArgs } from "../../components/tenant-args";
import { PROJECT_NAME, projectConfig } from "../../tenants/config-source";
import type { StackConfig } from "../../tenants/schema";
import { formatIssues, parseStackConfig } from "../../tenants/validate";

export interface FleetPlan {
  /** In head and new or different: their stacks are updated (created when new). */
  changed: string[];
  /** In base, not in head: their stacks are retired (objects removed, data kept) and removed. */
  removed: string[];
  /** In both and identical: not run at all. */
  unchanged: number;
  /** Head's parsed config (the one schema's values). */
  head: StackConfig;
}

export class FleetConfigError extends Error {}

/** JSON with object keys sorted: equal values give equal text, whatever the key order. */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(",")}]`;
  if (typeof value === "object" && value !== null) {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/** The config map's keys outside this project's namespace (e.g. `kubernetes:context`). */
function foreignKeys(configMap: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(configMap).filter(([key]) => !key.startsWith(`${PROJECT_NAME}:`)));
}

/** Tenant id -> what its stack is given, as comparable text. */
export function tenantFingerprints(configMap: Readonly<Record<string, unknown>>, config: StackConfig): Map<string, string> {
  const foreign = stableJson(foreignKeys(configMap));
  return new Map(config.tenants.map((tenant) => [tenant.id, `${foreign}|${stableJson(resolveTenantArgs(config, tenant))}`]));
}

export function parseConfigMap(configMap: Readonly<Record<string, unknown>>, label: string): StackConfig {
  const parsed = parseStackConfig(projectConfig(configMap));
  if (!parsed.ok) throw new FleetConfigError(`${label} is invalid; nothing would be changed:\n${formatIssues(parsed.issues)}`);
  return parsed.config;
}

/**
 * The plan from base (undefined: every tenant of head is new to this run, e.g. the first
 * run or a full convergence) to head. Head must be valid; an invalid base (a broken main)
 * is an error too: nothing can be said about what changed.
 */
export function planFleet(base: Readonly<Record<string, unknown>> | undefined, head: Readonly<Record<string, unknown>>): FleetPlan {
  const headConfig = parseConfigMap(head, "the head stack file");
  const after = tenantFingerprints(head, headConfig);
  const before = base === undefined ? new Map<string, string>() : tenantFingerprints(base, parseConfigMap(base, "the base stack file"));
  const changed = [...after.entries()].filter(([id, print]) => before.get(id) !== print).map(([id]) => id);
  const removed = [...before.keys()].filter((id) => !after.has(id));
  return { changed, removed, unchanged: after.size - changed.length, head: headConfig };
}

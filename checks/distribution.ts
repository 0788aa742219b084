/**
 * Node distribution of tenants' Odoo pods. The rule: with T running tenants and N schedulable
 * nodes, no node may hold more than ceil(T / N) tenants' Odoo pods (an even spread), and every
 * running tenant's Odoo pod must be scheduled. Suspended tenants (0 replicas) are not counted.
 */
import type { TenantPod } from "./cluster-view";

export interface DistributionInput {
  /** Schedulable, Ready nodes. */
  nodes: string[];
  /** Tenants whose Odoo Deployment wants a pod. */
  runningTenants: string[];
  odooPods: TenantPod[];
}

export interface DistributionReport {
  limit: number;
  perNode: Array<{ node: string; tenants: string[] }>;
  unscheduled: string[];
  overloaded: Array<{ node: string; count: number }>;
  ok: boolean;
}

export function distribution(input: DistributionInput): DistributionReport {
  const wanted = new Set(input.runningTenants);
  const limit = input.nodes.length === 0 ? 0 : Math.ceil(wanted.size / input.nodes.length);
  const perNode = new Map<string, Set<string>>(input.nodes.map((n) => [n, new Set<string>()]));
  const scheduled = new Set<string>();
  for (const pod of input.odooPods) {
    if (!wanted.has(pod.tenant) || pod.node === undefined) continue;
    scheduled.add(pod.tenant);
    if (!perNode.has(pod.node)) perNode.set(pod.node, new Set());
    perNode.get(pod.node)?.add(pod.tenant);
  }
  const unscheduled = [...wanted].filter((t) => !scheduled.has(t)).sort();
  const rows = [...perNode].map(([node, tenants]) => ({ node, tenants: [...tenants].sort() })).sort((a, b) => a.node.localeCompare(b.node));
  const overloaded = rows.filter((r) => r.tenants.length > limit).map((r) => ({ node: r.node, count: r.tenants.length }));
  return { limit, perNode: rows, unscheduled, overloaded, ok: unscheduled.length === 0 && overloaded.length === 0 };
}

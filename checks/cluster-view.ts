/** Read-only views of tenants in the cluster, shared by the main job and the operations checks. */
import * as k8s from "@kubernetes/client-node";
import { PART_OF, TENANT_LABEL } from "../components/labels";

export interface TenantPod {
  tenant: string;
  component: string;
  name: string;
  namespace: string;
  node: string | undefined;
  phase: string;
  ready: boolean;
}

export async function tenantPods(kc: k8s.KubeConfig): Promise<TenantPod[]> {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const list = await core.listPodForAllNamespaces({ labelSelector: `app.kubernetes.io/part-of=${PART_OF},${TENANT_LABEL}` });
  return list.items.map((pod) => ({
    tenant: pod.metadata?.labels?.[TENANT_LABEL] ?? "?",
    component: pod.metadata?.labels?.["app.kubernetes.io/name"] ?? "?",
    name: pod.metadata?.name ?? "?",
    namespace: pod.metadata?.namespace ?? "?",
    node: pod.spec?.nodeName,
    phase: pod.status?.phase ?? "Unknown",
    ready: pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false,
  }));
}

/** Waits until every pod matching `want` is Running and Ready, or the deadline passes. */
export async function waitForPods(kc: k8s.KubeConfig, want: (pods: TenantPod[]) => boolean, timeoutMs: number, onTick?: (pods: TenantPod[]) => void): Promise<TenantPod[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pods = await tenantPods(kc);
    onTick?.(pods);
    if (want(pods)) return pods;
    if (Date.now() > deadline) return pods;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

export function table(headers: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join("  ").trimEnd();
  return [line(headers), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

/** Tenant id -> its namespace, for every tenant namespace in the cluster (retired ones too). */
export async function tenantNamespaces(kc: k8s.KubeConfig): Promise<Map<string, string>> {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const list = await core.listNamespace({ labelSelector: `app.kubernetes.io/part-of=${PART_OF},${TENANT_LABEL}` });
  const result = new Map<string, string>();
  for (const ns of list.items) {
    const id = ns.metadata?.labels?.[TENANT_LABEL];
    if (id !== undefined && ns.metadata?.name !== undefined) result.set(id, ns.metadata.name);
  }
  return result;
}

/**
 * Configured ids that this stack does not manage but whose namespace exists: a retired
 * tenant (its data kept) or another stack's. Deploying them would overwrite the kept
 * credentials with new ones the kept database does not know, so they are refused first.
 */
export async function idsHeldOutsideStack(kc: k8s.KubeConfig, configured: readonly string[], inState: ReadonlySet<string>): Promise<Array<{ id: string; namespace: string }>> {
  const namespaces = await tenantNamespaces(kc);
  return configured.flatMap((id) => {
    const namespace = namespaces.get(id);
    return namespace !== undefined && !inState.has(id) ? [{ id, namespace }] : [];
  });
}

export function heldOutsideStackMessage(held: ReadonlyArray<{ id: string; namespace: string }>): string {
  return held.map(({ id, namespace }) =>
    `tenant "${id}": namespace ${namespace} already exists outside this stack (a retired tenant's kept data, or another stack's tenant); `
    + `purge it first (npm run tenant:purge -- ${id} --confirm ${id}) or choose another id. Nothing was changed.`).join("\n");
}

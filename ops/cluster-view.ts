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

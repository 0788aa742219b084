/**
 * Per-tenant resource usage: live CPU and memory from metrics.k8s.io (when a metrics server
 * runs), quota used against hard limits from ResourceQuota status, and requested storage.
 * Quantities are parsed fully (tenants/quantity.ts), whatever unit the cluster reports.
 */
import * as k8s from "@kubernetes/client-node";
import { tenantNames } from "../components/naming";
import { quantityValue } from "../tenants/quantity";
import { tenantNamespaces } from "./cluster-view";
import { httpStatus } from "./kube";

export interface TenantUsage {
  tenant: string;
  namespace: string;
  /** Cores and bytes in use now; undefined without a metrics API. */
  cpu?: number;
  memory?: number;
  quota: Record<string, { used: number; hard: number }>;
  storageRequested: number;
  pods: number;
}

export interface UsageReport {
  metricsAvailable: boolean;
  metricsMessage?: string;
  tenants: TenantUsage[];
}

/** Total CPU (cores) and memory (bytes) of pod metrics, whatever units they come in. */
export function sumPodMetrics(items: ReadonlyArray<{ containers: ReadonlyArray<{ usage: { cpu: string; memory: string } }> }>): { cpu: number; memory: number } {
  let cpu = 0;
  let memory = 0;
  for (const pod of items) {
    for (const c of pod.containers) {
      cpu += quantityValue(c.usage.cpu);
      memory += quantityValue(c.usage.memory);
    }
  }
  return { cpu, memory };
}

/** Asks API discovery, rather than guessing from a failed request's error text. */
export async function metricsApiServed(kc: k8s.KubeConfig): Promise<boolean> {
  const groups = await kc.makeApiClient(k8s.ApisApi).getAPIVersions();
  return groups.groups.some((g) => g.name === "metrics.k8s.io");
}

export async function collectUsage(kc: k8s.KubeConfig): Promise<UsageReport> {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const metrics = new k8s.Metrics(kc);
  const metricsAvailable = await metricsApiServed(kc);
  const metricsMessage = metricsAvailable ? undefined
    : "metrics.k8s.io is not served by this cluster (no metrics-server): live CPU and memory are not shown; quota and storage are.";
  const tenants: TenantUsage[] = [];
  for (const [tenant, namespace] of [...(await tenantNamespaces(kc))].sort(([a], [b]) => a.localeCompare(b))) {
    const usage: TenantUsage = { tenant, namespace, quota: {}, storageRequested: 0, pods: 0 };
    if (metricsAvailable) {
      Object.assign(usage, sumPodMetrics((await metrics.getPodMetrics(namespace)).items));
    }
    try {
      const quota = await core.readNamespacedResourceQuota({ name: tenantNames(tenant).quota, namespace });
      for (const [resource, hard] of Object.entries(quota.status?.hard ?? {})) {
        const used = quota.status?.used;
        usage.quota[resource] = { hard: quantityValue(hard), used: quantityValue(used !== undefined && Object.hasOwn(used, resource) ? used[resource] ?? "0" : "0") };
      }
    } catch (err) {
      if (httpStatus(err) !== 404) throw err; // a retired tenant has no quota any more
    }
    const claims = await core.listNamespacedPersistentVolumeClaim({ namespace });
    usage.storageRequested = claims.items.reduce((sum, c) => sum + quantityValue(c.spec?.resources?.requests?.storage ?? "0"), 0);
    usage.pods = (await core.listNamespacedPod({ namespace })).items.length;
    tenants.push(usage);
  }
  return { metricsAvailable, ...(metricsMessage !== undefined ? { metricsMessage } : {}), tenants };
}

/** Human units: cores with millicores, bytes in binary units. */
export function formatCores(cores: number | undefined): string {
  if (cores === undefined) return "n/a";
  return cores < 1 ? `${Math.round(cores * 1000)}m` : `${cores.toFixed(2).replace(/\.?0+$/, "")}`;
}

export function formatBytes(bytes: number | undefined): string {
  if (bytes === undefined) return "n/a";
  const units = ["B", "Ki", "Mi", "Gi", "Ti"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value >= 10 || unit === 0 ? 0 : 1)}${units[unit]}`;
}

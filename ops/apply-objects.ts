/**
 * Applies rendered objects (ops/render-stack.ts) to a cluster with server-side apply, in
 * dependency order, and retires tenants that left the config following the component's
 * data-protection rule: workloads go, the namespace, its Secrets and volumes stay.
 * The stand-in for `pulumi up` on machines without the Kubernetes provider plugin.
 */
import * as k8s from "@kubernetes/client-node";
import { PART_OF, TENANT_LABEL } from "../components/labels";
import { fromWire, isNotFound } from "./kube";
import type { RenderedObject } from "./render-stack";

export const FIELD_MANAGER = "odoo-saas";

/** Namespaces first, then what pods reference, then the workloads. */
const ORDER = ["Namespace", "ServiceAccount", "Secret", "ConfigMap", "PersistentVolumeClaim", "ResourceQuota", "LimitRange",
  "NetworkPolicy", "Service", "StatefulSet", "Deployment", "CronJob", "Ingress"];

/**
 * Created once, then left alone: generated credentials are kept (as Pulumi's state keeps
 * them), and a claim's spec is immutable but for its size, which the component never changes.
 */
const CREATE_ONLY = new Set(["Secret", "PersistentVolumeClaim"]);

export interface ApplyReport {
  created: string[];
  updated: string[];
  unchanged: string[];
}

/** Copies the live value at a dotted path into the body (Pulumi's ignoreChanges). */
function keepLiveValue(body: Record<string, unknown>, live: Record<string, unknown>, dotted: string): void {
  const keys = dotted.split(".");
  let target: Record<string, unknown> = body;
  let source: unknown = live;
  for (const [i, key] of keys.entries()) {
    source = typeof source === "object" && source !== null ? (source as Record<string, unknown>)[key] : undefined;
    if (i === keys.length - 1) {
      if (source !== undefined) target[key] = source;
      return;
    }
    const next = target[key];
    if (typeof next !== "object" || next === null) return;
    target = next as Record<string, unknown>;
  }
}

function describe(o: { kind: string; metadata: { name?: string; namespace?: string } }): string {
  return `${o.kind} ${o.metadata.namespace !== undefined ? `${o.metadata.namespace}/` : ""}${o.metadata.name ?? "?"}`;
}

export async function applyObjects(kc: k8s.KubeConfig, objects: readonly RenderedObject[], log: (line: string) => void = () => {}): Promise<ApplyReport> {
  const client = k8s.KubernetesObjectApi.makeApiClient(kc);
  const report: ApplyReport = { created: [], updated: [], unchanged: [] };
  const sorted = [...objects].sort((a, b) => ORDER.indexOf(a.kind) - ORDER.indexOf(b.kind));
  for (const object of sorted) {
    const header = { apiVersion: object.apiVersion, kind: object.kind, metadata: { name: object.metadata.name, ...(object.metadata.namespace !== undefined ? { namespace: object.metadata.namespace } : {}) } };
    let live: k8s.KubernetesObject | undefined;
    try {
      live = await client.read(header);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    const before = live?.metadata?.resourceVersion;
    const what = describe(object);
    if (CREATE_ONLY.has(object.kind) && before !== undefined) {
      report.unchanged.push(what);
      continue;
    }
    const body = structuredClone(object.body);
    if (live !== undefined) {
      for (const dotted of object.ignoreChanges) keepLiveValue(body, live as unknown as Record<string, unknown>, dotted);
    }
    // The client re-serialises bodies through its models, which drop wire names they rename
    // (NetworkPolicy `from` is `_from` there): hand it the model form, not the wire form.
    const model = fromWire<k8s.KubernetesObject>(body, `V1${object.kind}`);
    const applied = await client.patch(model, undefined, undefined, FIELD_MANAGER, true, k8s.PatchStrategy.ServerSideApply);
    const after = applied.metadata?.resourceVersion;
    if (before === undefined) {
      report.created.push(what);
      log(`created ${what}`);
    } else if (before !== after) {
      report.updated.push(what);
      log(`updated ${what}`);
    } else {
      report.unchanged.push(what);
    }
  }
  return report;
}

export interface RetireReport {
  tenant: string;
  deleted: string[];
  kept: string[];
}

/** What a retired tenant loses: everything that runs or routes. Data kinds are kept. */
const RETIRED_KINDS: ReadonlyArray<{ apiVersion: string; kind: string }> = [
  { apiVersion: "networking.k8s.io/v1", kind: "Ingress" },
  { apiVersion: "batch/v1", kind: "CronJob" },
  { apiVersion: "apps/v1", kind: "Deployment" },
  { apiVersion: "apps/v1", kind: "StatefulSet" },
  { apiVersion: "v1", kind: "Service" },
  { apiVersion: "v1", kind: "ConfigMap" },
  { apiVersion: "v1", kind: "ServiceAccount" },
  { apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy" },
  { apiVersion: "v1", kind: "ResourceQuota" },
  { apiVersion: "v1", kind: "LimitRange" },
];

/** Foreground deletion finishes asynchronously; wait for it as `pulumi up` waits for deletes. */
async function waitUntilGone(client: k8s.KubernetesObjectApi, namespace: string, id: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let remaining = 0;
    for (const { apiVersion, kind } of RETIRED_KINDS) {
      remaining += (await client.list(apiVersion, kind, namespace, undefined, undefined, undefined, undefined, `${TENANT_LABEL}=${id}`)).items.length;
    }
    if (remaining === 0) return;
    if (Date.now() > deadline) throw new Error(`retiring tenant ${id}: ${remaining} object(s) still being deleted after ${timeoutMs / 1000}s`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Tenants whose namespace exists in the cluster (retired ones included). */
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

export async function retireRemovedTenants(kc: k8s.KubeConfig, configured: ReadonlySet<string>, log: (line: string) => void = () => {}): Promise<RetireReport[]> {
  const client = k8s.KubernetesObjectApi.makeApiClient(kc);
  const reports: RetireReport[] = [];
  for (const [id, namespace] of await tenantNamespaces(kc)) {
    if (configured.has(id)) continue;
    const report: RetireReport = { tenant: id, deleted: [], kept: [] };
    for (const { apiVersion, kind } of RETIRED_KINDS) {
      const list = await client.list(apiVersion, kind, namespace, undefined, undefined, undefined, undefined, `${TENANT_LABEL}=${id}`);
      for (const item of list.items) {
        await client.delete({ apiVersion, kind, metadata: { name: item.metadata?.name, namespace } }, undefined, undefined, undefined, undefined, "Foreground");
        report.deleted.push(describe({ kind, metadata: item.metadata ?? {} }));
      }
    }
    await waitUntilGone(client, namespace, id);
    report.kept.push(`Namespace ${namespace} with its Secrets and PersistentVolumeClaims (purge with npm run tenant:purge)`);
    log(`retired tenant ${id}: ${report.deleted.length} objects deleted, data kept in ${namespace}`);
    reports.push(report);
  }
  return reports;
}

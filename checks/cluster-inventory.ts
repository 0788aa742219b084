/** Reads, from a live cluster, what the isolation analyser needs. */
import * as k8s from "@kubernetes/client-node";
import { PART_OF, TENANT_LABEL } from "../components/labels";
import { tenantNames } from "../components/naming";
import type { TenantEndpoints } from "./isolation-analysis";
import { isNotFound, toWire } from "./kube";
import type { NetworkPolicyLike } from "./network-policy-eval";

async function orUndefined<T>(read: Promise<T>): Promise<T | undefined> {
  try {
    return await read;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** Every tenant namespace with the pod labels of its workloads (from their templates, so suspended tenants count too). */
export async function tenantEndpoints(kc: k8s.KubeConfig): Promise<TenantEndpoints[]> {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const apps = kc.makeApiClient(k8s.AppsV1Api);
  const batch = kc.makeApiClient(k8s.BatchV1Api);
  const namespaces = await core.listNamespace({ labelSelector: `app.kubernetes.io/part-of=${PART_OF},${TENANT_LABEL}` });
  const result: TenantEndpoints[] = [];
  for (const ns of namespaces.items) {
    const id = ns.metadata?.labels?.[TENANT_LABEL];
    const namespace = ns.metadata?.name;
    if (id === undefined || namespace === undefined) continue;
    const names = tenantNames(id);
    const deployment = await orUndefined(apps.readNamespacedDeployment({ name: names.odoo, namespace }));
    const statefulSet = await orUndefined(apps.readNamespacedStatefulSet({ name: names.postgres, namespace }));
    const cronJob = await orUndefined(batch.readNamespacedCronJob({ name: names.backup, namespace }));
    const odoo = deployment?.spec?.template.metadata?.labels;
    const postgres = statefulSet?.spec?.template.metadata?.labels;
    const backup = cronJob?.spec?.jobTemplate.spec?.template.metadata?.labels;
    result.push({
      id, namespace, namespaceLabels: ns.metadata?.labels ?? {},
      ...(odoo ? { odoo } : {}), ...(postgres ? { postgres } : {}), ...(backup ? { backup } : {}),
    });
  }
  return result.sort((a, b) => a.id.localeCompare(b.id));
}

export async function allNetworkPolicies(kc: k8s.KubeConfig): Promise<NetworkPolicyLike[]> {
  const list = await kc.makeApiClient(k8s.NetworkingV1Api).listNetworkPolicyForAllNamespaces();
  // Back to the wire format: the client's models rename reserved words (`from` is `_from`),
  // and reading them as-is would turn every "from" rule into "from anywhere".
  return list.items.map((p) => toWire<NetworkPolicyLike>(p, "V1NetworkPolicy"));
}

/** Reads nodes, Odoo Deployments and pods from a cluster and applies the distribution rule. */
import * as k8s from "@kubernetes/client-node";
import { PART_OF } from "../components/labels";
import { tenantPods } from "./cluster-view";
import { distribution, type DistributionReport } from "./distribution";

export async function gatherDistribution(kc: k8s.KubeConfig): Promise<DistributionReport> {
  const nodes = (await kc.makeApiClient(k8s.CoreV1Api).listNode()).items
    .filter((n) => !n.spec?.unschedulable && n.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"))
    .map((n) => n.metadata?.name ?? "?");
  const deployments = await kc.makeApiClient(k8s.AppsV1Api).listDeploymentForAllNamespaces({ labelSelector: `app.kubernetes.io/part-of=${PART_OF},app.kubernetes.io/name=odoo` });
  const runningTenants = deployments.items.filter((d) => (d.spec?.replicas ?? 1) > 0).map((d) => d.metadata?.labels?.["app.kubernetes.io/instance"] ?? "?");
  const odooPods = (await tenantPods(kc)).filter((p) => p.component === "odoo");
  return distribution({ nodes, runningTenants, odooPods });
}

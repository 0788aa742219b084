/**
 * `npm run check:distribution`: tenants' Odoo pods per node. Exit 1 when a node holds more
 * tenants than an even spread allows (ceil(running tenants / schedulable nodes)) or a
 * running tenant's Odoo pod is unscheduled.
 */
import * as k8s from "@kubernetes/client-node";
import { table, tenantPods } from "../ops/cluster-view";
import { distribution } from "../ops/distribution";
import { loadKubeConfig } from "../ops/kube";
import { PART_OF } from "../components/labels";

export async function gatherDistribution(kc: k8s.KubeConfig): Promise<ReturnType<typeof distribution>> {
  const nodes = (await kc.makeApiClient(k8s.CoreV1Api).listNode()).items
    .filter((n) => !n.spec?.unschedulable && n.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"))
    .map((n) => n.metadata?.name ?? "?");
  const deployments = await kc.makeApiClient(k8s.AppsV1Api).listDeploymentForAllNamespaces({ labelSelector: `app.kubernetes.io/part-of=${PART_OF},app.kubernetes.io/name=odoo` });
  const runningTenants = deployments.items.filter((d) => (d.spec?.replicas ?? 1) > 0).map((d) => d.metadata?.labels?.["app.kubernetes.io/instance"] ?? "?");
  const odooPods = (await tenantPods(kc)).filter((p) => p.component === "odoo");
  return distribution({ nodes, runningTenants, odooPods });
}

async function main(): Promise<number> {
  const report = await gatherDistribution(loadKubeConfig());
  console.log(table(["NODE", "TENANTS", "ODOO PODS OF"], report.perNode.map((r) => [r.node, String(r.tenants.length), r.tenants.join(", ")])));
  console.log(`\nrule: at most ${report.limit} tenant(s) per node (ceil(running tenants / schedulable nodes))`);
  for (const o of report.overloaded) console.log(`OVERLOADED: ${o.node} holds ${o.count} tenants`);
  if (report.unscheduled.length > 0) console.log(`UNSCHEDULED: ${report.unscheduled.join(", ")}`);
  console.log(report.ok ? "OK: tenants are spread evenly" : "FAIL");
  return report.ok ? 0 : 1;
}

if (require.main === module) {
  main().then((code) => { process.exitCode = code; }, (err: unknown) => {
    console.error(`check:distribution failed: ${(err as Error).message}`);
    process.exitCode = 2;
  });
}

/**
 * The main job on the embedded default (`npm start`): validates Pulumi.<stack>.yaml, starts
 * the local simulated cluster, puts the stack's objects into it and shows where each
 * tenant's pods were scheduled.
 *
 * SIMULATED: the API server, scheduler and controllers are real; the nodes are KWOK fakes, so
 * pods are scheduled and reported Running but no container (and so no Odoo) ever starts.
 * The objects are those the OdooTenant component registers, applied with server-side apply
 * because the Kubernetes provider plugin for `pulumi up` cannot be built on this machine.
 * On a real cluster, run `pulumi up` with your kubeconfig instead.
 */
import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { repoRoot } from "../automation/engine-env";
import { applyObjects, retireRemovedTenants } from "../ops/apply-objects";
import { table, waitForPods, type TenantPod } from "../ops/cluster-view";
import { loadKubeConfig } from "../ops/kube";
import { renderStack } from "../ops/render-stack";
import { rawConfigFromStackFile, stackArgument, stackFilePath } from "../tenants/config-source";
import { formatIssues, parseStackConfig, tenantHost } from "../tenants/validate";

const BANNER = "SIMULATED CLUSTER: real kube-apiserver, scheduler and controllers; KWOK fake nodes. Pods are scheduled and reported Running, but no container runs: Odoo does not actually start.";

async function main(argv: string[]): Promise<number> {
  const stack = stackArgument(argv);
  const root = repoRoot();
  const file = stackFilePath(root, stack);
  const parsed = parseStackConfig(rawConfigFromStackFile(file));
  if (!parsed.ok) {
    console.error(`${path.basename(file)} is invalid; nothing deployed:\n${formatIssues(parsed.issues)}`);
    return 1;
  }
  const { config } = parsed;
  console.log(`\n${BANNER}\n`);
  console.log("==> starting the local cluster (scripts/local-cluster up)");
  execFileSync(path.join(root, "scripts", "local-cluster"), ["up"], { stdio: "inherit" });
  const kubeconfig = path.join(process.env.ODOO_SAAS_CLUSTER_DIR ?? path.join(root, ".cluster"), "kubeconfig");
  const kc = loadKubeConfig(kubeconfig);

  console.log(`==> rendering ${config.tenants.length} tenant(s) of stack "${stack}" with the OdooTenant component`);
  const objects = await renderStack(config);
  console.log(`==> applying ${objects.length} objects (server-side apply)`);
  const report = await applyObjects(kc, objects, (line) => console.log(`    ${line}`));
  const retired = await retireRemovedTenants(kc, new Set(config.tenants.map((t) => t.id)), (line) => console.log(`    ${line}`));
  console.log(`    ${report.created.length} created, ${report.updated.length} updated, ${report.unchanged.length} unchanged, ${retired.length} tenant(s) retired`);

  const expected = config.tenants.filter((t) => !t.suspended).length * 2 + config.tenants.filter((t) => t.suspended).length;
  console.log("==> waiting for pods to be scheduled and reported Running by the fake nodes");
  const pods = await waitForPods(kc, (p) => p.length >= expected && p.every((x) => x.ready), 120_000);

  for (const tenant of config.tenants) {
    const mine = objects.filter((o) => o.metadata.labels?.["odoo-saas.io/tenant"] === tenant.id);
    const kinds = new Map<string, number>();
    for (const o of mine) kinds.set(o.kind, (kinds.get(o.kind) ?? 0) + 1);
    console.log(`\ntenant ${tenant.id}  (${[tenantHost(config, tenant.id), ...tenant.customDomains].join(", ")}; plan ${tenant.plan}; Odoo ${tenant.odooVersion}${tenant.suspended ? "; suspended" : ""})`);
    console.log(`  objects: ${[...kinds].map(([k, n]) => `${n} ${k}`).join(", ")}`);
  }
  const rows = pods
    .sort((a, b) => a.tenant.localeCompare(b.tenant) || a.component.localeCompare(b.component))
    .map((p: TenantPod) => [p.tenant, p.component, p.name, p.node ?? "(unscheduled)", p.phase, p.ready ? "yes" : "no"]);
  console.log(`\n${table(["TENANT", "COMPONENT", "POD", "NODE", "PHASE", "READY"], rows)}`);
  console.log(`\n${BANNER}\nKUBECONFIG=${kubeconfig}   stop with: scripts/local-cluster down`);
  const allReady = pods.length >= expected && pods.every((p) => p.ready);
  if (!allReady) console.error("some pods did not become ready in time (see the table above)");
  return allReady ? 0 : 1;
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (err: unknown) => {
  console.error(`deploy-local failed: ${(err as Error).stack ?? String(err)}`);
  process.exitCode = 1;
});

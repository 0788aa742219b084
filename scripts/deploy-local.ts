/**
 * The main job on the embedded default (`npm start [-- --stack NAME]`): `pulumi up` of the
 * real program through the engine, on the local simulated cluster. The program is the one
 * index.ts runs, inline through the Automation API (this machine has no Node language host).
 *
 * SIMULATED: the API server, scheduler and controllers are real; the nodes are KWOK fakes, so
 * pods are scheduled and reported Running but no container (and so no Odoo) ever starts.
 * On a real cluster, run `pulumi up` with your kubeconfig instead.
 */
import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { formatChangeTable, hasChanges } from "../automation/engine/change-summary";
import { deployStack } from "../automation/engine/deploy";
import { repoRoot } from "../automation/engine/engine-env";
import { table, waitForPods, type TenantPod } from "../checks/cluster-view";
import { loadKubeConfig } from "../checks/kube";
import { projectConfig, readStackConfigMap, stackArgument, stackFilePath } from "../tenants/config-source";
import { formatIssues, parseStackConfig, tenantHost } from "../tenants/validate";

const BANNER = "SIMULATED CLUSTER: real kube-apiserver, scheduler and controllers; KWOK fake nodes. Pods are scheduled and reported Running, but no container runs: Odoo does not actually start.";

const say = (line: string): void => console.log(`==> ${line}`);

async function main(argv: string[]): Promise<number> {
  const stackName = stackArgument(argv);
  const root = repoRoot();
  const file = stackFilePath(root, stackName);
  const configMap = readStackConfigMap(file);
  const parsed = parseStackConfig(projectConfig(configMap));
  if (!parsed.ok) {
    console.error(`${path.basename(file)} is invalid; nothing deployed:\n${formatIssues(parsed.issues)}`);
    return 1;
  }
  const { config } = parsed;
  console.log(`\n${BANNER}\n`);
  say("starting the local cluster (scripts/local-cluster up)");
  execFileSync(path.join(root, "scripts", "local-cluster"), ["up"], { stdio: "inherit" });
  const kubeconfig = path.join(process.env.ODOO_SAAS_CLUSTER_DIR ?? path.join(root, ".cluster"), "kubeconfig");
  const kc = loadKubeConfig(kubeconfig);

  say(`pulumi up of stack "${stackName}" (${config.tenants.length} tenant(s)) through the engine, local backend`);
  const started = Date.now();
  const outcome = await deployStack({
    stackName, config: configMap, kubeconfig, kc, root, progress: say,
    onOutput: (text) => process.stdout.write(text),
  });
  if (outcome.summary) console.log(`\n${formatChangeTable(outcome.summary)}\n`);
  if (!outcome.ok) {
    console.error(outcome.failure === "engine" ? `pulumi up failed (run npm start again once fixed: it resumes):\n${outcome.message}` : outcome.message);
    return 1;
  }
  const counts = outcome.result.summary.resourceChanges ?? {};
  if (!hasChanges(outcome.summary)) say(`no changes: all ${counts.same ?? 0} resources were already as configured`);
  else say(`done in ${Math.round((Date.now() - started) / 1000)} s: ${Object.entries(counts).map(([op, n]) => `${n} ${op}`).join(", ")}`);

  const running = config.tenants.filter((t) => !t.suspended).length;
  const expected = running * 2 + (config.tenants.length - running);
  say("waiting for pods to be scheduled and reported Running by the fake nodes");
  const pods = await waitForPods(kc, (p) => p.length >= expected && p.every((x) => x.ready), 120_000);
  for (const tenant of config.tenants) {
    console.log(`tenant ${tenant.id}  (${[tenantHost(config, tenant.id), ...tenant.customDomains].join(", ")}; plan ${tenant.plan}; Odoo ${tenant.odooVersion}${tenant.suspended ? "; suspended" : ""})`);
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
  console.error(`npm start failed: ${(err as Error).message}`);
  process.exitCode = 1;
});

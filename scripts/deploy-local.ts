/**
 * The main job on the embedded default (`npm start [-- --stack NAME]`): `pulumi up` of the
 * real program through the engine, on the local cluster with its real node
 * (LOCAL_CLUSTER_REAL_NODES=1 unless set otherwise). The program is the one index.ts runs,
 * inline through the Automation API. It ends when every running tenant's /web/health answered
 * 200 through the ingress (Traefik) by its host name, reached through the forwarder on
 * 127.0.0.1 into the node's namespace. Odoo's pod runs a STAND-IN (Odoo cannot be had here);
 * everything around it is real. With LOCAL_CLUSTER_REAL_NODES=0 the nodes are KWOK fakes and
 * the banner says nothing runs. On a real cluster, run `pulumi up` with your kubeconfig.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { formatChangeTable, hasChanges } from "../automation/engine/change-summary";
import { deployStack } from "../automation/engine/deploy";
import { repoRoot } from "../automation/engine/engine-env";
import { table, waitForPods, type TenantPod } from "../checks/cluster-view";
import { loadKubeConfig } from "../checks/kube";
import { IngressHealthChecker } from "../automation/ingress-health";
import { projectConfig, readStackConfigMap, stackArgument, stackFilePath } from "../tenants/config-source";
import { formatIssues, parseStackConfig, tenantHost } from "../tenants/validate";
import type { StackConfig } from "../tenants/schema";

const SIMULATED = "SIMULATED CLUSTER: real kube-apiserver, scheduler and controllers; KWOK fake nodes. Pods are scheduled and reported Running, but no container runs: Odoo does not actually start.";
const REAL = "LOCAL CLUSTER WITH A REAL NODE: real kube-apiserver, scheduler, controllers, kubelet, containerd, kube-proxy, NetworkPolicy (kube-router), CoreDNS and Traefik; PostgreSQL 15 and the backup image really run. NOT real: Odoo (its pod runs a stand-in, images/odoo-standin) and the KWOK nodes (kept, tainted, for scale runs).";

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
  const wantReal = (process.env.LOCAL_CLUSTER_REAL_NODES ?? "1") === "1";
  console.log(`\n${wantReal ? REAL : SIMULATED}\n`);
  say(`starting the local cluster (scripts/local-cluster up${wantReal ? ", with its real node" : ""})`);
  execFileSync(path.join(root, "scripts", "local-cluster"), ["up"], { stdio: "inherit", env: { ...process.env, LOCAL_CLUSTER_REAL_NODES: wantReal ? "1" : "0" } });
  const stateDir = process.env.ODOO_SAAS_CLUSTER_DIR ?? path.join(root, ".cluster");
  const kubeconfig = path.join(stateDir, "kubeconfig");
  const kc = loadKubeConfig(kubeconfig);
  // A cluster keeps the mode it was started in: what runs is what the state dir says.
  const real = fs.existsSync(path.join(stateDir, "real-node"));
  const banner = real ? REAL : SIMULATED;

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
  say(real ? "waiting for the pods to become Ready through their own probes on the real node" : "waiting for pods to be scheduled and reported Running by the fake nodes");
  const pods = await waitForPods(kc, (p) => p.length >= expected && p.every((x) => x.ready), real ? 300_000 : 120_000);
  for (const tenant of config.tenants) {
    console.log(`tenant ${tenant.id}  (${[tenantHost(config, tenant.id), ...tenant.customDomains].join(", ")}; plan ${tenant.plan}; Odoo ${tenant.odooVersion}${tenant.suspended ? "; suspended" : ""})`);
  }
  const rows = pods
    .sort((a, b) => a.tenant.localeCompare(b.tenant) || a.component.localeCompare(b.component))
    .map((p: TenantPod) => [p.tenant, p.component, p.name, p.node ?? "(unscheduled)", p.phase, p.ready ? "yes" : "no"]);
  console.log(`\n${table(["TENANT", "COMPONENT", "POD", "NODE", "PHASE", "READY"], rows)}`);
  const allReady = pods.length >= expected && pods.every((p) => p.ready);
  if (!allReady) console.error("some pods did not become ready in time (see the table above)");
  const answered = real && allReady ? await healthThroughIngress(stateDir, config) : !real;
  console.log(`\n${banner}`);
  if (real) console.log("Odoo is a STAND-IN on this machine: /web/health and /web/login above are answered by images/odoo-standin, not by Odoo.");
  console.log(`KUBECONFIG=${kubeconfig}   stop with: scripts/local-cluster down`);
  return allReady && answered ? 0 : 1;
}

/** Every running tenant's host names, GET /web/health through the ingress forwarder until 200 (a new route takes Traefik a moment). */
async function healthThroughIngress(stateDir: string, config: StackConfig): Promise<boolean> {
  const port = /^INGRESS_PORT=(\d+)$/m.exec(fs.readFileSync(path.join(stateDir, "ports.env"), "utf8"))?.[1];
  if (port === undefined) {
    console.error("the cluster has no ingress forwarder (ports.env has no INGRESS_PORT): restart it with scripts/local-cluster down");
    return false;
  }
  const ingress = new IngressHealthChecker(`http://127.0.0.1:${port}`);
  say(`GET /web/health of each tenant by its host name through the ingress (Traefik), at http://127.0.0.1:${port}`);
  const rows: string[][] = [];
  for (const tenant of config.tenants.filter((t) => !t.suspended)) {
    for (const host of [tenantHost(config, tenant.id), ...tenant.customDomains]) {
      const deadline = Date.now() + 120_000;
      let result = await ingress.check(host);
      while (!(result.checked && result.answered) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 1_000));
        result = await ingress.check(host);
      }
      rows.push([tenant.id, host, result.checked && result.answered ? "200 (stand-in)" : result.reason]);
    }
  }
  console.log(`\n${table(["TENANT", "HOST", "/web/health THROUGH THE INGRESS"], rows)}`);
  const ok = rows.every((r) => r[2] === "200 (stand-in)");
  if (!ok) console.error("some tenants did not answer through the ingress (see the table above)");
  return ok;
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (err: unknown) => {
  console.error(`npm start failed: ${(err as Error).message}`);
  process.exitCode = 1;
});

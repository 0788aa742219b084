/**
 * `npm run check:policies [-- --stack NAME]`: the isolation analyser on the NetworkPolicies
 * stored in the cluster (KUBECONFIG). Prints the connection matrix ("allow!"/"deny!" mark a
 * broken rule) and exits 1 on any violation. Works on any cluster, CNI or not, because it
 * reads the policies rather than sending traffic (see check:isolation for that).
 */
import { allNetworkPolicies, tenantEndpoints } from "../checks/cluster-inventory";
import { table } from "../checks/cluster-view";
import { analyse, matrix } from "../checks/isolation-analysis";
import { loadKubeConfig } from "../checks/kube";
import { rawConfigFromStackFile, stackArgument, stackFilePath } from "../tenants/config-source";
import { requireStackConfig } from "../tenants/validate";

async function main(argv: string[]): Promise<number> {
  const config = requireStackConfig(rawConfigFromStackFile(stackFilePath(process.cwd(), stackArgument(argv))));
  const kc = loadKubeConfig();
  const tenants = await tenantEndpoints(kc);
  const analysis = analyse({
    tenants,
    policies: await allNetworkPolicies(kc),
    ingressNamespace: config.ingress.controllerNamespace,
    dnsNamespace: config.network.dnsNamespace,
  });
  const { headers, rows } = matrix(analysis);
  console.log(`NetworkPolicy analysis of ${tenants.length} tenant(s) (ingress controller: ${config.ingress.controllerNamespace}, DNS: ${config.network.dnsNamespace})\n`);
  console.log(table(headers, rows));
  if (analysis.violations.length === 0) {
    console.log(`\nOK: ${analysis.results.length} paths checked, no violation`);
    return 0;
  }
  console.log(`\n${analysis.violations.length} violation(s):`);
  for (const v of analysis.violations) {
    console.log(`  - ${v.rule}: ${v.from.name} -> ${v.to.name}:${v.conn.port} is ${v.allowed ? "ALLOWED" : "DENIED"} (${v.reason})`);
  }
  return 1;
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (err: unknown) => {
  console.error(`check:policies failed: ${(err as Error).message}`);
  process.exitCode = 2;
});

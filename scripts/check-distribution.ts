/**
 * `npm run check:distribution`: tenants' Odoo pods per node. Exit 1 when a node holds more
 * tenants than an even spread allows (ceil(running tenants / schedulable nodes)) or a
 * running tenant's Odoo pod is unscheduled.
 */
import { table } from "../checks/cluster-view";
import { gatherDistribution } from "../checks/gather-distribution";
import { loadKubeConfig } from "../checks/kube";

async function main(): Promise<number> {
  const report = await gatherDistribution(loadKubeConfig());
  console.log(table(["NODE", "TENANTS", "ODOO PODS OF"], report.perNode.map((r) => [r.node, String(r.tenants.length), r.tenants.join(", ")])));
  console.log(`\nrule: at most ${report.limit} tenant(s) per node (ceil(running tenants / schedulable nodes))`);
  for (const o of report.overloaded) console.log(`OVERLOADED: ${o.node} holds ${o.count} tenants`);
  if (report.unscheduled.length > 0) console.log(`UNSCHEDULED: ${report.unscheduled.join(", ")}`);
  console.log(report.ok ? "OK: tenants are spread evenly" : "FAIL");
  return report.ok ? 0 : 1;
}

main().then((code) => { process.exitCode = code; }, (err: unknown) => {
  console.error(`check:distribution failed: ${(err as Error).message}`);
  process.exitCode = 2;
});

/** `npm run tenants:usage`: per-tenant CPU and memory (metrics API), quota used/hard, storage. */
import { table } from "../checks/cluster-view";
import { loadKubeConfig } from "../checks/kube";
import { collectUsage, formatBytes, formatCores } from "../checks/usage";

async function main(): Promise<number> {
  const report = await collectUsage(loadKubeConfig());
  if (!report.metricsAvailable) console.log(`note: ${report.metricsMessage}\n`);
  const pair = (q: { used: number; hard: number } | undefined, fmt: (n: number) => string): string => (q ? `${fmt(q.used)} / ${fmt(q.hard)}` : "n/a");
  console.log(table(
    ["TENANT", "CPU NOW", "MEMORY NOW", "QUOTA CPU (limits)", "QUOTA MEMORY (limits)", "STORAGE REQUESTED / QUOTA", "PODS"],
    report.tenants.map((t) => [
      t.tenant,
      formatCores(t.cpu),
      formatBytes(t.memory),
      pair(t.quota["limits.cpu"], formatCores),
      pair(t.quota["limits.memory"], formatBytes),
      `${formatBytes(t.storageRequested)} / ${t.quota["requests.storage"] ? formatBytes(t.quota["requests.storage"].hard) : "n/a"}`,
      `${t.pods}${t.quota.pods ? ` / ${t.quota.pods.hard}` : ""}`,
    ]),
  ));
  return 0;
}

main().then((code) => { process.exitCode = code; }, (err: unknown) => {
  console.error(`tenants:usage failed: ${(err as Error).message}`);
  process.exitCode = 2;
});

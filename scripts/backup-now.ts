// Usage: node dist/scripts/backup-now.js <tenant-id> [--wait]
// Starts an on-demand backup Job from the tenant's backup CronJob (kubeconfig from KUBECONFIG).
import { startOnDemandBackup } from "../backup/k8s";
import { assertTenantId } from "../tenants/tenant-id";
import { loadKubeConfig } from "../checks/kube";

async function main(): Promise<number> {
  const [tenant, flag] = process.argv.slice(2);
  if (tenant === undefined || (flag !== undefined && flag !== "--wait")) {
    process.stderr.write("usage: backup-now <tenant-id> [--wait]\n");
    return 2;
  }
  assertTenantId(tenant);
  const kc = loadKubeConfig();
  const result = await startOnDemandBackup(kc, tenant, { wait: flag === "--wait" });
  process.stdout.write(`${JSON.stringify(result)}\n`);
  return result.outcome === undefined || result.outcome.succeeded ? 0 : 1;
}

main().then(
  (code) => (process.exitCode = code),
  (err: Error) => {
    process.stderr.write(`error: ${err.message}\n`);
    process.exitCode = 1;
  },
);

// Usage: node dist/scripts/backup-list.js <tenant-id>
// Lists the tenant's backups (newest first) by running a short `list` Job in its namespace.
import { listTenantBackups } from "../backup/k8s";
import { assertTenantId } from "../tenants/tenant-id";
import { loadKubeConfig } from "../checks/kube";

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  if (args.length !== 1) {
    process.stderr.write("usage: backup-list <tenant-id>\n");
    return 2;
  }
  const tenant = assertTenantId(args[0]!);
  const kc = loadKubeConfig();
  const backups = await listTenantBackups(kc, tenant);
  process.stdout.write(`${JSON.stringify({ tenant, backups }, null, 2)}\n`);
  return 0;
}

main().then(
  (code) => (process.exitCode = code),
  (err: Error) => {
    process.stderr.write(`error: ${err.message}\n`);
    process.exitCode = 1;
  },
);

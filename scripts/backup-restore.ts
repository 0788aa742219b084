// Usage: node dist/scripts/backup-restore.js <tenant-id> <backup-name> [--no-safety-backup]
// Confirms the backup exists and is complete (refused otherwise, before anything is stopped),
// stops the tenant's Odoo, takes a safety backup, restores the named backup in a Job, and starts
// Odoo again (also when the restore failed). Prints a JSON report.
import { restoreTenant, RestoreRefusedError } from "../backup/k8s";
import { assertTenantId } from "../tenants/tenant-id";
import { loadKubeConfig } from "../checks/kube";

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const safety = !args.includes("--no-safety-backup");
  const positional = args.filter((a) => a !== "--no-safety-backup");
  if (positional.length !== 2) {
    process.stderr.write("usage: backup-restore <tenant-id> <backup-name> [--no-safety-backup]\n");
    return 2;
  }
  const tenant = assertTenantId(positional[0]!);
  const kc = loadKubeConfig();
  const report = await restoreTenant(kc, tenant, positional[1]!, {
    safetyBackup: safety,
    log: (line) => process.stderr.write(`${new Date().toISOString()} ${line}\n`),
  });
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  return report.ok ? 0 : 1;
}

main().then(
  (code) => (process.exitCode = code),
  (err: Error) => {
    process.stderr.write(`${err instanceof RestoreRefusedError ? "refused" : "error"}: ${err.message}\n`);
    process.exitCode = 1;
  },
);

// The CronJob hands the retention rule to the backup job by environment variables: what the
// platform config resolves for a tenant must be exactly what the backup CLI reads back.
import { expect } from "chai";
import { readBackupConfig } from "../../backup/config";
import { backupEnv } from "../../components/specs/backup";
import type { TenantInput } from "../../tenants/schema";
import { argsFor } from "../support/tenant-args";

/** The variables with literal values; secret references are resolved by Kubernetes, not here. */
function literalEnv(entries: ReturnType<typeof backupEnv>): Record<string, string> {
  const env: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const entry of entries) {
    if (typeof entry.name === "string" && typeof entry.value === "string") env[entry.name] = entry.value;
  }
  return env;
}

describe("backup retention: spec -> env -> backup config", () => {
  const cases: { title: string; tenant: Partial<TenantInput>; platform: Record<string, unknown>; expected: object }[] = [
    { title: "defaults", tenant: {}, platform: {}, expected: { daily: 7, weekly: 4, monthly: 3, onDemand: 5 } },
    { title: "platform override", tenant: {}, platform: { backup: { retention: { daily: 10, onDemand: 2 } } }, expected: { daily: 10, weekly: 4, monthly: 3, onDemand: 2 } },
    {
      title: "tenant override over platform override",
      tenant: { backup: { retention: { weekly: 0, monthly: 24 } } },
      platform: { backup: { retention: { daily: 10, onDemand: 2 } } },
      expected: { daily: 10, weekly: 0, monthly: 24, onDemand: 2 },
    },
    { title: "zeros and the upper bound", tenant: { backup: { retention: { daily: 0, weekly: 0, monthly: 1000, onDemand: 0 } } }, platform: {}, expected: { daily: 0, weekly: 0, monthly: 1000, onDemand: 0 } },
    {
      title: "an S3 store",
      tenant: { backup: { retention: { daily: 1 } } },
      platform: { backup: { store: { type: "s3", endpoint: "https://s3.example.com", bucket: "odoo-backups", credentialsSecret: "backup-s3" } } },
      expected: { daily: 1, weekly: 4, monthly: 3, onDemand: 5 },
    },
  ];
  for (const c of cases) {
    it(c.title, () => {
      const args = argsFor({ id: "acme", ...c.tenant }, c.platform);
      expect(args.backup.retention).to.deep.equal(c.expected);
      const env = literalEnv(backupEnv(args));
      expect(Object.keys(env).filter((name) => name.startsWith("BACKUP_RETENTION_")).sort()).to.deep.equal(
        ["BACKUP_RETENTION_DAILY", "BACKUP_RETENTION_MONTHLY", "BACKUP_RETENTION_ON_DEMAND", "BACKUP_RETENTION_WEEKLY"],
      );
      expect(Object.hasOwn(env, "BACKUP_KEEP")).to.equal(false);
      const config = readBackupConfig(env);
      expect(config.tenant).to.equal("acme");
      expect(config.retention).to.deep.equal(c.expected);
    });
  }
});

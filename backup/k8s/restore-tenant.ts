// Restore orchestration from outside the tenant: confirm the backup exists (a read-only list
// Job), stop Odoo (odoo-stopped.ts), (optionally) take a safety backup, run the restore Job, and
// start Odoo again whatever happened. The data-level work and its
// safety rule live in backup/restore/restore-backup.ts, inside the Job.
import { AppsV1Api, BatchV1Api, CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { parseBackupName } from "../backup-name";
import { listTenantBackups } from "./backup-jobs";
import { jobFromCronJob } from "./job-from-cronjob";
import { jobLog, waitForJob } from "./kube-wait";
import { jobName, tenantObjects } from "./names";
import { withOdooStopped } from "./odoo-stopped";

export interface RestoreTenantOptions {
  /**
   * Take an on-demand backup (without pruning) after Odoo stopped and before restoring, so the
   * state being replaced can itself be restored. Default true.
   */
  safetyBackup?: boolean;
  scaleDownTimeoutMs?: number;
  jobTimeoutMs?: number;
  readyTimeoutMs?: number;
  pollMs?: number;
  /** How long the read-only list Job that confirms the backup exists may take. */
  listTimeoutMs?: number;
  log?: (line: string) => void;
  now?: () => Date;
}

export interface RestoreTenantReport {
  tenant: string;
  backup: string;
  ok: boolean;
  previousReplicas?: number;
  safetyBackupJob?: string;
  restoreJob?: string;
  /** What went wrong, with the tail of the failing Job's log where there is one. */
  error?: string;
  /** Set when Odoo could not be brought back: needs a person. */
  scaleBackError?: string;
}

/** The restore was refused before anything was stopped or changed. */
export class RestoreRefusedError extends Error {
  override readonly name = "RestoreRefusedError";
}

export async function restoreTenant(kc: KubeConfig, tenant: string, backupName: string, options: RestoreTenantOptions = {}): Promise<RestoreTenantReport> {
  const objects = tenantObjects(tenant);
  if (!parseBackupName(tenant, backupName)) throw new Error(`${JSON.stringify(backupName)} is not a backup name of tenant ${tenant}`);
  const { namespace } = objects;
  const apps = kc.makeApiClient(AppsV1Api);
  const batch = kc.makeApiClient(BatchV1Api);
  const core = kc.makeApiClient(CoreV1Api);
  const log = options.log ?? (() => undefined);
  const now = options.now ?? (() => new Date());
  const pollMs = options.pollMs ?? 3000;
  const report: RestoreTenantReport = { tenant, backup: backupName, ok: false };

  // The store is read the way a backup Job reads it (the tenant's own volume or S3 credentials),
  // by a short read-only list Job; nothing is stopped unless the backup is there and complete.
  let listed;
  try {
    listed = await listTenantBackups(kc, tenant, { pollMs, now: now(), ...(options.listTimeoutMs !== undefined ? { timeoutMs: options.listTimeoutMs } : {}) });
  } catch (err) {
    throw new RestoreRefusedError(`cannot confirm that ${backupName} exists in ${tenant}'s backup store (${(err as Error).message.split("\n")[0]}); nothing was stopped or changed`);
  }
  const found = listed.find((b) => b.name === backupName);
  if (found === undefined) {
    throw new RestoreRefusedError(`${backupName} does not exist in ${tenant}'s backup store (${listed.length} backup(s) there${listed[0] ? `, newest ${listed[0].name}` : ""}); nothing was stopped or changed`);
  }
  if (found.status !== "complete") {
    throw new RestoreRefusedError(`${backupName} is incomplete (its upload never finished); nothing was stopped or changed`);
  }
  log(`${backupName} is in the store (${found.size} bytes, complete)`);

  const cronJob = await batch.readNamespacedCronJob({ name: objects.cronJob, namespace });
  const runJob = async (action: "backup" | "restore", args: string[], env?: Record<string, string>): Promise<string> => {
    const name = jobName(objects.cronJob, action, now());
    const body = jobFromCronJob(cronJob, { name, action, args, backoffLimit: 0, writableVolumes: action === "restore", ...(env ? { env } : {}) });
    await batch.createNamespacedJob({ namespace, body });
    log(`started Job ${namespace}/${name}: ${args.join(" ")}`);
    const outcome = await waitForJob(batch, namespace, name, { timeoutMs: options.jobTimeoutMs ?? 6 * 3600_000, pollMs });
    if (!outcome.succeeded) {
      const tail = await jobLog(core, namespace, name, 30);
      throw new Error(`Job ${name} failed (${outcome.reason})${tail ? `:\n${tail}` : ""}`);
    }
    return name;
  };

  // Odoo comes back in every case: after a failure the restore left the previous data in place.
  const stopped = await withOdooStopped({ apps, core }, objects, async () => {
    if (options.safetyBackup ?? true) {
      report.safetyBackupJob = await runJob("backup", ["backup", "--kind", "on-demand", "--no-prune"], { BACKUP_KIND: "on-demand" });
    }
    report.restoreJob = await runJob("restore", ["restore", backupName]);
  }, {
    pollMs, log,
    ...(options.scaleDownTimeoutMs !== undefined ? { stopTimeoutMs: options.scaleDownTimeoutMs } : {}),
    ...(options.readyTimeoutMs !== undefined ? { readyTimeoutMs: options.readyTimeoutMs } : {}),
  });
  report.previousReplicas = stopped.replicas;
  report.ok = stopped.outcome.ok && stopped.scaleBackError === undefined;
  if (!stopped.outcome.ok) {
    report.error = stopped.outcome.error.message;
    log(`restore failed: ${report.error}`);
  }
  if (stopped.scaleBackError !== undefined) report.scaleBackError = stopped.scaleBackError;
  return report;
}

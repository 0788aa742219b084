// On-demand backup and listing, both as Jobs made from the tenant's backup CronJob, so they run
// with exactly the scheduled backup's image, volumes, Secrets and service account, inside the
// tenant's namespace. The caller only needs rights on Jobs, CronJobs and pod logs there.
//
// Listing runs a short `list --json` Job rather than reading the store from here: the API host
// has neither the tenant's backup volume (a PVC may be attached elsewhere) nor its S3 credentials,
// and should not need them.
import { BatchV1Api, CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { jobFromCronJob } from "./job-from-cronjob";
import { jobLog, JobOutcome, waitForJob } from "./kube-wait";
import { LIST_FORMAT } from "../list-backups";
import { jobName, tenantObjects } from "./names";

export interface BackupJobOptions {
  /** Wait for the Job to finish (default true for list, false for backups). */
  wait?: boolean;
  timeoutMs?: number;
  pollMs?: number;
  now?: Date;
}

export interface OnDemandBackupResult {
  namespace: string;
  jobName: string;
  /** Known when waited for and successful: the archive's name from the Job's output. */
  backupName?: string;
  outcome?: JobOutcome;
}

/** `kubectl create job --from=cronjob/<tenant>-backup` with BACKUP_KIND=on-demand. */
export async function startOnDemandBackup(kc: KubeConfig, tenant: string, options: BackupJobOptions = {}): Promise<OnDemandBackupResult> {
  const objects = tenantObjects(tenant);
  const batch = kc.makeApiClient(BatchV1Api);
  const cronJob = await batch.readNamespacedCronJob({ name: objects.cronJob, namespace: objects.namespace });
  const name = jobName(objects.cronJob, "backup", options.now ?? new Date());
  const job = jobFromCronJob(cronJob, { name, action: "backup", env: { BACKUP_KIND: "on-demand" } });
  await batch.createNamespacedJob({ namespace: objects.namespace, body: job });
  const result: OnDemandBackupResult = { namespace: objects.namespace, jobName: name };
  if (!options.wait) return result;

  result.outcome = await waitForJob(batch, objects.namespace, name, { timeoutMs: options.timeoutMs ?? 6 * 3600_000, pollMs: options.pollMs ?? 5000 });
  if (result.outcome.succeeded) {
    const log = await jobLog(kc.makeApiClient(CoreV1Api), objects.namespace, name);
    const match = new RegExp(`^(${tenant}-\\d{8}T\\d{6}Z-on-demand\\.zip)$`, "m").exec(log);
    if (match) result.backupName = match[1];
  }
  return result;
}

export interface ListedBackup {
  name: string;
  kind: "scheduled" | "on-demand";
  created: string;
  size: number;
  status: "complete" | "incomplete";
  modified: string;
}

/** Finds the CLI's `list --json` line in a pod log (which also holds stderr). */
export function parseListOutput(log: string): ListedBackup[] {
  const prefix = `{"format":"${LIST_FORMAT}"`;
  const line = log.split("\n").reverse().find((l) => l.startsWith(prefix));
  if (line === undefined) throw new Error("the list Job printed no backup list");
  return (JSON.parse(line) as { backups: ListedBackup[] }).backups;
}

/** The tenant's backups, newest first, read from the store by a short Job. */
export async function listTenantBackups(kc: KubeConfig, tenant: string, options: BackupJobOptions = {}): Promise<ListedBackup[]> {
  const objects = tenantObjects(tenant);
  const batch = kc.makeApiClient(BatchV1Api);
  const cronJob = await batch.readNamespacedCronJob({ name: objects.cronJob, namespace: objects.namespace });
  const name = jobName(objects.cronJob, "list", options.now ?? new Date());
  const job = jobFromCronJob(cronJob, { name, action: "list", args: ["list", "--json"], backoffLimit: 0, ttlSecondsAfterFinished: 600, activeDeadlineSeconds: 300 });
  await batch.createNamespacedJob({ namespace: objects.namespace, body: job });
  try {
    const outcome = await waitForJob(batch, objects.namespace, name, { timeoutMs: options.timeoutMs ?? 5 * 60_000, pollMs: options.pollMs ?? 1000 });
    const log = await jobLog(kc.makeApiClient(CoreV1Api), objects.namespace, name);
    if (!outcome.succeeded) throw new Error(`listing backups failed (${outcome.reason}): ${log.split("\n").slice(-10).join("\n")}`);
    return parseListOutput(log);
  } finally {
    await batch.deleteNamespacedJob({ name, namespace: objects.namespace, propagationPolicy: "Background" }).catch(() => undefined);
  }
}

/**
 * The tenants' scheduled backups as Kubernetes recorded them on their CronJobs: one list call,
 * no Job started. The admin overview shows each one's last success; the metrics scrape counts
 * the last runs by outcome, so an operator is alerted when scheduled backups fail or stop.
 */
import * as k8s from "@kubernetes/client-node";
import { PART_OF, TENANT_LABEL } from "../components/labels";

/** What a CronJob's status says of its last run. */
export type LastRun = "succeeded" | "failed" | "running" | "not_run_yet";
export const LAST_RUNS: readonly LastRun[] = ["succeeded", "failed", "running", "not_run_yet"];

export interface BackupCronJob {
  tenant: string;
  /** A Job of it runs now. */
  active: boolean;
  lastSchedule: Date | undefined;
  lastSuccess: Date | undefined;
}

export interface ScheduledBackupsReading {
  byLastRun: Map<LastRun, number>;
  /** Seconds since the oldest of the last successes (undefined: none has succeeded yet). */
  oldestSuccessAgeSeconds: number | undefined;
}

/** Every tenant's backup CronJob, with the status fields that say how its runs went. */
export async function listBackupCronJobs(kc: k8s.KubeConfig): Promise<BackupCronJob[]> {
  const list = await kc.makeApiClient(k8s.BatchV1Api).listCronJobForAllNamespaces({ labelSelector: `app.kubernetes.io/part-of=${PART_OF},app.kubernetes.io/name=backup` });
  return list.items.map((c) => ({
    tenant: c.metadata?.labels?.[TENANT_LABEL] ?? "?",
    active: (c.status?.active ?? []).length > 0,
    lastSchedule: c.status?.lastScheduleTime ? new Date(c.status.lastScheduleTime) : undefined,
    lastSuccess: c.status?.lastSuccessfulTime ? new Date(c.status.lastSuccessfulTime) : undefined,
  }));
}

/** A run that was scheduled after the last success and is no longer active did not succeed. */
export function lastRunOf(job: Omit<BackupCronJob, "tenant">): LastRun {
  if (job.active) return "running";
  if (job.lastSchedule === undefined) return job.lastSuccess === undefined ? "not_run_yet" : "succeeded";
  if (job.lastSuccess !== undefined && job.lastSuccess.getTime() >= job.lastSchedule.getTime()) return "succeeded";
  return "failed";
}

export function summarizeBackups(jobs: readonly Omit<BackupCronJob, "tenant">[], nowMs: number): ScheduledBackupsReading {
  const byLastRun = new Map<LastRun, number>(LAST_RUNS.map((r) => [r, 0]));
  let oldest: number | undefined;
  for (const job of jobs) {
    const run = lastRunOf(job);
    byLastRun.set(run, (byLastRun.get(run) ?? 0) + 1);
    if (job.lastSuccess !== undefined) oldest = Math.min(oldest ?? Infinity, job.lastSuccess.getTime());
  }
  return { byLastRun, oldestSuccessAgeSeconds: oldest === undefined ? undefined : Math.max(0, (nowMs - oldest) / 1000) };
}

/**
 * BackupAccess through the tenant's own backup CronJob, for the PVC store (the API host cannot
 * mount a tenant's volume). List and "back up now" are the existing Jobs (backup/k8s). A
 * download starts a short-lived reader Job from the same pod template with every volume
 * mounted read-only, waits for its pod, and streams `cli.js cat <name>` over the pods/exec API:
 * exec carries stdout byte for byte, where a pod log would not (the container runtime splits
 * and re-frames long lines). The reader Job is deleted when the download ends or is cut short.
 *
 * A name is looked up in the tenant's listing first (shared and briefly reused), so an unknown
 * name, a HEAD or a link request starts no Job; each download's Job has its own name.
 *
 * The exec streaming (exec-stream.ts, with back-pressure) is tested against a local WebSocket
 * server speaking the exec protocol (test/unit/exec-stream.test.ts), and for real on the node
 * suite's real node: a reader pod streams a scheduled backup with the SHA-256 `sha256sum` reads on
 * the volume (test/node/backups.test.ts). On the KWOK-only cluster, the Job for "back up now" and
 * that list and download fail with a clear error and leave no reader Job
 * (test/cluster/operations.test.ts); `cat` itself (test/backup/cli-cat.test.ts); the reader Job's
 * spec (test/backup/job-from-cronjob.test.ts); the HTTP streaming of a store (test/api/backups.test.ts).
 */
import { BatchV1Api, CoreV1Api, type KubeConfig, type V1CronJob, type V1Job } from "@kubernetes/client-node";
import { createHash, randomBytes } from "node:crypto";
import { listTenantBackups, startOnDemandBackup } from "../backup/k8s";
import { backupContainer, jobFromCronJob } from "../backup/k8s/job-from-cronjob";
import { BACKUP_CLI_COMMAND, tenantObjects } from "../backup/k8s/names";
import type { BackupAccess, BackupDownload, BackupEntry, DownloadMode } from "./backup-access";
import { execStream } from "./exec-stream";

/** The reader's main process only waits; the work is the exec'd `cat`. */
const IDLE_COMMAND = ["node", "-e", "setInterval(() => {}, 1 << 30)"];

/**
 * `<cronjob>-download-<12 hex>`: derived from the backup's name and a per-download id, cut to
 * 63 characters (a Job's name becomes a label value on its pods).
 */
export function readerJobName(cronJobName: string, backup: string, downloadId: string): string {
  const suffix = `-download-${createHash("sha256").update(`${backup}\n${downloadId}`).digest("hex").slice(0, 12)}`;
  return `${cronJobName.slice(0, 63 - suffix.length).replace(/-+$/, "")}${suffix}`;
}

/** The reader Job: the CronJob's pod template, idle, read-only volumes, bounded lifetime. */
export function readerJob(cronJob: Parameters<typeof jobFromCronJob>[0], name: string): V1Job {
  const job = jobFromCronJob(cronJob, { name, action: "download", backoffLimit: 0, ttlSecondsAfterFinished: 60, activeDeadlineSeconds: 6 * 3600 });
  const pod = job.spec?.template.spec;
  if (!pod) throw new Error("the CronJob's Job has no pod spec");
  const container = backupContainer(pod.containers);
  container.command = [...IDLE_COMMAND];
  container.args = [];
  for (const mount of container.volumeMounts ?? []) mount.readOnly = true;
  for (const volume of pod.volumes ?? []) if (volume.persistentVolumeClaim) volume.persistentVolumeClaim.readOnly = true;
  return job;
}

export interface KubernetesBackupAccessOptions {
  /** How long the reader pod may take to start (default 2 min). */
  startTimeoutMs?: number;
  pollMs?: number;
  /** How long `cat` may take to send its first byte (default 2 min). */
  firstByteTimeoutMs?: number;
  /** How long one listing is reused (default 15 s). */
  listCacheMs?: number;
}

export class KubernetesBackupAccess implements BackupAccess {
  /** Each listing is a Job: pages open at once share one, and its answer is reused briefly. */
  private readonly listings = new Map<string, { at: number; result: Promise<BackupEntry[]> }>();

  constructor(private readonly kc: KubeConfig, private readonly options: KubernetesBackupAccessOptions = {}) {}

  list(tenant: string): Promise<BackupEntry[]> {
    const cached = this.listings.get(tenant);
    if (cached && Date.now() - cached.at < (this.options.listCacheMs ?? 15_000)) return cached.result;
    const result = listTenantBackups(this.kc, tenant).then((listed) =>
      listed.map((b) => ({ name: b.name, createdAt: b.created, kind: b.kind, size: b.size, status: b.status })));
    this.listings.set(tenant, { at: Date.now(), result });
    result.catch(() => this.listings.delete(tenant));
    return result;
  }

  async requestBackup(tenant: string): Promise<{ reference: string }> {
    this.listings.delete(tenant);
    const started = await startOnDemandBackup(this.kc, tenant);
    return { reference: started.jobName };
  }

  async download(tenant: string, name: string, mode: DownloadMode): Promise<BackupDownload | undefined> {
    // The (shared, briefly reused) listing decides first: an unknown or unfinished name, a HEAD
    // and a link request start no Job.
    const entry = (await this.list(tenant)).find((b) => b.name === name && b.status === "complete");
    if (entry === undefined) return undefined;
    if (mode === "head") return { type: "available", size: entry.size };
    if (mode === "link") return { type: "through-server" };
    const objects = tenantObjects(tenant);
    const { namespace } = objects;
    const batch = this.kc.makeApiClient(BatchV1Api);
    const core = this.kc.makeApiClient(CoreV1Api);
    const cronJob = await batch.readNamespacedCronJob({ name: objects.cronJob, namespace });
    const reader = await this.createReader(batch, namespace, cronJob, name);
    let cleaned = false;
    const cleanUp = (): void => {
      if (cleaned) return;
      cleaned = true;
      void batch.deleteNamespacedJob({ name: reader, namespace, propagationPolicy: "Background" }).catch(() => undefined);
    };
    try {
      const pod = await this.runningPod(core, namespace, reader);
      const container = backupContainer(cronJob.spec?.jobTemplate.spec?.template.spec?.containers ?? []).name;
      const body = await execStream(this.kc, { namespace, pod, container }, [...BACKUP_CLI_COMMAND, "cat", name], {
        firstByteTimeoutMs: this.options.firstByteTimeoutMs ?? 120_000,
        onEnd: cleanUp,
      });
      // `cat` refused before writing anything (removed since the listing): not there.
      return body === undefined ? undefined : { type: "stream", body, size: entry.size };
    } catch (err) {
      cleanUp();
      throw err;
    }
  }

  /**
   * One reader Job per download, named from the backup and a random id: two downloads in one
   * second no longer collide; a name taken all the same (409 AlreadyExists) is drawn again.
   */
  private async createReader(batch: BatchV1Api, namespace: string, cronJob: V1CronJob, backup: string): Promise<string> {
    for (let attempt = 1; ; attempt++) {
      const name = readerJobName(cronJob.metadata?.name ?? "backup", backup, randomBytes(8).toString("hex"));
      try {
        await batch.createNamespacedJob({ namespace, body: readerJob(cronJob, name) });
        return name;
      } catch (err) {
        if ((err as { code?: number }).code !== 409 || attempt >= 3) throw err;
      }
    }
  }

  private async runningPod(core: CoreV1Api, namespace: string, job: string): Promise<string> {
    const deadline = Date.now() + (this.options.startTimeoutMs ?? 120_000);
    for (;;) {
      const pods = await core.listNamespacedPod({ namespace, labelSelector: `batch.kubernetes.io/job-name=${job}` });
      const running = pods.items.find((p) => p.status?.phase === "Running" && p.metadata?.deletionTimestamp === undefined);
      if (running?.metadata?.name) return running.metadata.name;
      // Succeeded counts as failed too: the reader only ends on its own if something else ended it
      // (a simulated node marks every pod done without running it).
      const ended = pods.items.find((p) => p.status?.phase === "Failed" || p.status?.phase === "Succeeded");
      if (ended) throw new Error(`the reader pod of Job ${namespace}/${job} ended (${ended.status?.phase}) before the download started`);
      if (Date.now() > deadline) throw new Error(`the reader pod of Job ${namespace}/${job} did not start in time`);
      await new Promise((r) => setTimeout(r, this.options.pollMs ?? 1000));
    }
  }
}

/**
 * BackupAccess through the tenant's own backup CronJob, for the PVC store (the API host cannot
 * mount a tenant's volume). List and "back up now" are the existing Jobs (backup/k8s). A
 * download starts a short-lived reader Job from the same pod template with every volume
 * mounted read-only, waits for its pod, and streams `cli.js cat <name>` over the pods/exec API:
 * exec carries stdout byte for byte, where a pod log would not (the container runtime splits
 * and re-frames long lines). The reader Job is deleted when the download ends or is cut short.
 *
 * THE STREAMING IS NOT EXERCISED BY THE TEST SUITES: the local cluster runs KWOK fake nodes,
 * which mark pods finished without running them, so no reader pod can be exec'd there. What is
 * tested: on that cluster, the Job for "back up now" and that list and download fail with a
 * clear error and leave no reader Job (test/cluster/operations.test.ts); `cat` itself
 * (test/backup/cli-cat.test.ts); the reader Job's spec (test/backup/job-from-cronjob.test.ts);
 * the HTTP streaming of a store (test/api/backups.test.ts).
 */
import { BatchV1Api, CoreV1Api, Exec, type KubeConfig, type V1Job, type V1Status } from "@kubernetes/client-node";
import { PassThrough } from "node:stream";
import { listTenantBackups, startOnDemandBackup } from "../backup/k8s";
import { backupContainer, jobFromCronJob } from "../backup/k8s/job-from-cronjob";
import { BACKUP_CLI_COMMAND, jobName, tenantObjects } from "../backup/k8s/names";
import type { BackupAccess, BackupDownload, BackupEntry, DownloadMode } from "./backup-access";

/** The reader's main process only waits; the work is the exec'd `cat`. */
const IDLE_COMMAND = ["node", "-e", "setInterval(() => {}, 1 << 30)"];

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
    // A link costs nothing here; whether the backup is there is decided when the link is used
    // (`cat` refuses before writing anything, which becomes a 404).
    if (mode === "link") return { type: "through-server" };
    const objects = tenantObjects(tenant);
    const { namespace } = objects;
    const batch = this.kc.makeApiClient(BatchV1Api);
    const core = this.kc.makeApiClient(CoreV1Api);
    const cronJob = await batch.readNamespacedCronJob({ name: objects.cronJob, namespace });
    const job = readerJob(cronJob, jobName(objects.cronJob, "download", new Date()));
    const reader = job.metadata?.name as string;
    await batch.createNamespacedJob({ namespace, body: job });
    const cleanUp = (): void => {
      void batch.deleteNamespacedJob({ name: reader, namespace, propagationPolicy: "Background" }).catch(() => undefined);
    };
    try {
      const pod = await this.runningPod(core, namespace, reader);
      const container = backupContainer(cronJob.spec?.jobTemplate.spec?.template.spec?.containers ?? []).name;
      return await this.streamCat(namespace, pod, container, name, cleanUp);
    } catch (err) {
      cleanUp();
      throw err;
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

  /**
   * Resolves with the stream once the first byte arrived, or undefined when `cat` refused
   * before writing anything (not a complete backup of this tenant): that is a 404, not a 200
   * that breaks off.
   */
  private streamCat(namespace: string, pod: string, container: string, name: string, cleanUp: () => void): Promise<BackupDownload | undefined> {
    const body = new PassThrough();
    const stderr = new PassThrough();
    stderr.resume();
    return new Promise((resolve, reject) => {
      let settled = false;
      const settle = (value: BackupDownload | undefined, error?: Error): void => {
        if (settled) return;
        settled = true;
        if (error) reject(error);
        else resolve(value);
      };
      body.once("readable", () => settle({ type: "stream", body }));
      // An exec that neither writes nor ends (a node that never answers) must not hold the request forever.
      const silence = setTimeout(() => {
        body.destroy();
        settle(undefined, new Error(`no answer from the reader pod ${namespace}/${pod} within ${this.options.firstByteTimeoutMs ?? 120_000} ms`));
        cleanUp();
      }, this.options.firstByteTimeoutMs ?? 120_000);
      body.once("readable", () => clearTimeout(silence));
      body.once("close", () => clearTimeout(silence));
      const done = (status: V1Status): void => {
        if (status.status === "Success") {
          body.end();
          if (!settled) settle({ type: "stream", body }); // an empty archive cannot exist, but stay honest
        } else if (!settled) {
          body.destroy();
          settle(undefined);
        } else body.destroy(new Error(`the download of ${name} broke off: ${status.message ?? status.reason ?? "unknown"}`));
        cleanUp();
      };
      new Exec(this.kc)
        .exec(namespace, pod, container, [...BACKUP_CLI_COMMAND, "cat", name], body, stderr, null, false, done)
        .then((socket) => {
          // The browser went away: stop reading and remove the reader.
          body.on("close", () => {
            socket.close();
            cleanUp();
          });
        })
        .catch((err: unknown) => {
          clearTimeout(silence);
          settle(undefined, err instanceof Error ? err : new Error(String(err)));
        });
    });
  }
}

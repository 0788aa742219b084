/**
 * Restores an accepted upload inside the tenant's namespace: an importer Job from the tenant's
 * backup CronJob (same image, service account, database and filestore settings; volumes
 * writable; idle), and, once its pod runs, `cli.js restore-upload ... -` over pods/exec with the
 * zip on stdin. Odoo is scaled to 0 only once an exec in the importer answered (the database
 * switch needs nobody connected) and back to its replicas in every case; the replicas to return
 * to are recorded on the Deployment in the same patch that scales it to 0, so a server that dies
 * meanwhile leaves them for `recover` (run by whichever server notices, see upload-orphans.ts).
 * The importer Job is deleted after, except when contact with a started restore was lost
 * (`unknown`): it may still be running, and deleting the Job would kill it half-way; the Job's
 * activeDeadlineSeconds (12 h) and ttlSecondsAfterFinished (5 min) end it instead.
 *
 * Only what was observed is reported. On the local control plane the nodes are KWOK fakes: the
 * importer pod is reported finished, or Running without answering, so the restore never starts;
 * the upload then reads `unknown`, saying so, and nothing in the instance was touched
 * (test/cluster/operations.test.ts). On the node suite's real node the importer pod runs: hostile
 * dumps are refused by PostgreSQL in it and a plain dump is restored (test/node/upload-restore.test.ts);
 * the command it runs is also tested alone (test/backup/upload-restore.test.ts).
 */
import { createReadStream } from "node:fs";
import { PassThrough } from "node:stream";
import { AppsV1Api, BatchV1Api, CoreV1Api, Exec, type KubeConfig, type V1Status } from "@kubernetes/client-node";
import { backupContainer, jobFromCronJob } from "../backup/k8s/job-from-cronjob";
import { BACKUP_CLI_COMMAND, jobName, tenantObjects } from "../backup/k8s/names";
import { scaleBackRecorded, withOdooStopped } from "../backup/k8s/odoo-stopped";
import type { UploadOutcome, UploadPhase, UploadRestoreInput, UploadRestorer } from "./upload-restorer";

const IDLE_COMMAND = ["node", "-e", "setInterval(() => {}, 1 << 30)"];
const PHASES = new Set<string>(["checking", "checking-empty", "loading-database", "copying-files", "switching", "done"]);

/**
 * The client sends stdin without back-pressure (every chunk straight to the WebSocket): the file
 * is read only while the socket has less than 8 MiB queued, so the zip never sits in memory.
 */
async function pump(file: string, stdin: PassThrough, queued: () => number): Promise<void> {
  for await (const chunk of createReadStream(file, { highWaterMark: 1024 * 1024 })) {
    stdin.write(chunk as Buffer);
    while (queued() > 8 * 1024 * 1024) await new Promise((r) => setTimeout(r, 20));
  }
  stdin.end();
}

export interface KubernetesUploadRestorerOptions {
  /** How long the importer pod may take to start (default 3 min). */
  startTimeoutMs?: number;
  pollMs?: number;
  /** Odoo's scale-down and scale-up waits (default 10 min each). */
  scaleTimeoutMs?: number;
}

export class KubernetesUploadRestorer implements UploadRestorer {
  constructor(private readonly kc: KubeConfig, private readonly options: KubernetesUploadRestorerOptions = {}) {}

  async restore(input: UploadRestoreInput, onPhase: (phase: UploadPhase) => void): Promise<UploadOutcome> {
    const objects = tenantObjects(input.tenant);
    const { namespace } = objects;
    const batch = this.kc.makeApiClient(BatchV1Api);
    const core = this.kc.makeApiClient(CoreV1Api);
    const apps = this.kc.makeApiClient(AppsV1Api);
    const cronJob = await batch.readNamespacedCronJob({ name: objects.cronJob, namespace });
    const name = jobName(objects.cronJob, "import", new Date());
    const job = jobFromCronJob(cronJob, { name, action: "import", backoffLimit: 0, ttlSecondsAfterFinished: 300, activeDeadlineSeconds: 12 * 3600, writableVolumes: true });
    const container = backupContainer(job.spec?.template.spec?.containers ?? []);
    container.command = [...IDLE_COMMAND];
    container.args = [];
    onPhase("waiting");
    await batch.createNamespacedJob({ namespace, body: job });
    const execStarted = { value: false };
    let keepJob = false;
    try {
      let pod: string;
      try {
        pod = await this.runningPod(core, namespace, name);
      } catch (err) {
        return {
          state: "unknown",
          reason: "your database has not been restored: the worker that restores it in your instance's space never ran. Nothing in your instance was changed; try again later",
          detail: (err as Error).message,
        };
      }
      // "Running" is what the node reports; an exec that answers is what shows it runs (a
      // simulated node reports Running and runs nothing). Odoo is not touched before that.
      try {
        await this.probe(namespace, pod, container.name);
      } catch (err) {
        return {
          state: "unknown",
          reason: "your database has not been restored: the worker that restores it in your instance's space did not answer. Nothing in your instance was changed; try again later",
          detail: (err as Error).message,
        };
      }
      const outcome = await this.withOdooStopped(apps, core, objects, () => this.exec(namespace, pod, container.name, input, onPhase, execStarted));
      keepJob = outcome.state === "unknown" && execStarted.value;
      return outcome;
    } finally {
      if (!keepJob) await batch.deleteNamespacedJob({ name, namespace, propagationPolicy: "Background" }).catch(() => undefined);
    }
  }

  /**
   * After a server died during a restore: Odoo back to the replicas recorded on its Deployment
   * when it was scaled to 0 (REPLICAS_BEFORE_RESTORE_ANNOTATION, written in the same patch), and
   * the record removed. The importer Job is left alone: its restore may still be running, and
   * its activeDeadlineSeconds and ttlSecondsAfterFinished end it.
   */
  recover(tenant: string): Promise<string> {
    return scaleBackRecorded(this.kc.makeApiClient(AppsV1Api), tenantObjects(tenant));
  }

  private async runningPod(core: CoreV1Api, namespace: string, job: string): Promise<string> {
    const deadline = Date.now() + (this.options.startTimeoutMs ?? 180_000);
    for (;;) {
      const pods = await core.listNamespacedPod({ namespace, labelSelector: `batch.kubernetes.io/job-name=${job}` });
      const running = pods.items.find((p) => p.status?.phase === "Running" && p.metadata?.deletionTimestamp === undefined);
      if (running?.metadata?.name) return running.metadata.name;
      // The importer only idles: it ends on its own only when something else ended it (a
      // simulated node marks every pod done without running it).
      const ended = pods.items.find((p) => p.status?.phase === "Failed" || p.status?.phase === "Succeeded");
      if (ended) throw new Error(`the importer pod of Job ${namespace}/${job} ended (${ended.status?.phase}) before the restore started`);
      if (Date.now() > deadline) throw new Error(`the importer pod of Job ${namespace}/${job} did not start in time`);
      await new Promise((r) => setTimeout(r, this.options.pollMs ?? 1000));
    }
  }

  /**
   * Odoo at 0 replicas while `work` runs, then back to what it had, whatever happened
   * (backup/k8s/odoo-stopped.ts, as for a backup restore). Odoo not ready again afterwards
   * leaves the outcome as observed: a restored database is restored, and the instance's own
   * status shows whether Odoo runs.
   */
  private async withOdooStopped(apps: AppsV1Api, core: CoreV1Api, target: { namespace: string; deployment: string }, work: () => Promise<UploadOutcome>): Promise<UploadOutcome> {
    const stopped = await withOdooStopped({ apps, core }, target, work, {
      ...(this.options.scaleTimeoutMs !== undefined ? { stopTimeoutMs: this.options.scaleTimeoutMs, readyTimeoutMs: this.options.scaleTimeoutMs } : {}),
      pollMs: this.options.pollMs ?? 3000,
    });
    if (!stopped.outcome.ok) throw stopped.outcome.error;
    const outcome = stopped.outcome.value;
    if (stopped.scaleBackError === undefined || outcome.state !== "failed") return outcome;
    return { state: "failed", detail: `${outcome.detail}; and Odoo did not come back: ${stopped.scaleBackError}` };
  }

  /** Runs a command that does nothing in the importer pod; resolves once it exited 0. */
  private probe(namespace: string, pod: string, container: string): Promise<void> {
    const fail = (why: string) => new Error(`the importer pod ${namespace}/${pod} did not answer: ${why}`);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(fail("no answer within 60 s")), 60_000);
      new Exec(this.kc)
        .exec(namespace, pod, container, ["node", "-e", ""], new PassThrough().resume(), new PassThrough().resume(), null, false, (status) => {
          clearTimeout(timer);
          if (status.status === "Success") resolve();
          else reject(fail(status.message ?? status.reason ?? "the probe failed"));
        })
        .then((socket) => socket.on("close", () => reject(fail("the connection closed without a status"))))
        .catch((err: unknown) => {
          clearTimeout(timer);
          reject(fail(err instanceof Error ? err.message : String(err)));
        });
    });
  }

  /** `restore-upload` in the importer pod, the zip on stdin; phases and a refusal read from stderr. */
  private exec(namespace: string, pod: string, container: string, input: UploadRestoreInput, onPhase: (phase: UploadPhase) => void, started: { value: boolean }): Promise<UploadOutcome> {
    const { limits } = input;
    const command = [
      ...BACKUP_CLI_COMMAND, "restore-upload",
      `--max-dump-bytes=${limits.maxDumpBytes}`, `--max-filestore-bytes=${limits.maxFilestoreBytes}`,
      `--max-entries=${limits.maxEntries}`, `--max-ratio=${limits.maxCompressionRatio}`, "-",
    ];
    const stdout = new PassThrough().resume();
    const stderr = new PassThrough();
    let tail = "";
    let refusal: { code: string; message: string } | undefined;
    let carry = "";
    stderr.on("data", (chunk: Buffer) => {
      const lines = (carry + chunk.toString("utf8")).split("\n");
      carry = lines.pop() ?? "";
      for (const line of lines) {
        const phase = /^phase: ([a-z-]+)$/.exec(line)?.[1];
        if (phase !== undefined && PHASES.has(phase)) onPhase(phase as UploadPhase);
        const refused = /^refused ([a-z_]+): (.*)$/.exec(line);
        if (refused) refusal = { code: refused[1] as string, message: refused[2] as string };
        tail = (tail + line + "\n").slice(-2000);
      }
    });
    return new Promise((resolve) => {
      const done = (status: V1Status): void => {
        if (status.status === "Success") resolve({ state: "restored" });
        else if (refusal) resolve({ state: "refused", ...refusal });
        else resolve({ state: "failed", detail: `restore-upload failed (${status.message ?? status.reason ?? "unknown"}): ${tail.trim()}` });
      };
      const stdin = new PassThrough();
      new Exec(this.kc)
        .exec(namespace, pod, container, command, stdout, stderr, stdin, false, done)
        .then((socket) => {
          started.value = true;
          // Lost contact before the command's status arrived: it may still be running, or done.
          socket.on("close", () => resolve({
            state: "unknown",
            reason: "we lost contact with the restore of your database, so we cannot say yet whether it finished; please check your instance in a few minutes",
            detail: `the exec connection to ${namespace}/${pod} closed without a status; stderr: ${tail.trim()}`,
          }));
          return pump(input.file, stdin, () => socket.bufferedAmount);
        })
        .catch((err: unknown) => resolve({
          state: "unknown",
          reason: "your database has not been restored: the platform could not reach the worker that restores it. Nothing in your instance was changed; try again later",
          detail: `exec into ${namespace}/${pod} failed: ${err instanceof Error ? err.message : String(err)}`,
        }));
    });
  }
}

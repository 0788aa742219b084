/**
 * Reading and changing a tenant's data from outside its pods, for the backup, restore and upload
 * tests of the node suite: commands run over pods/exec (arguments as an argv, never shell text),
 * SQL through psql in the tenant's PostgreSQL pod as its superuser over the local socket, and
 * files in the Odoo stand-in's filestore volume.
 */
import { PassThrough } from "node:stream";
import * as k8s from "@kubernetes/client-node";
import { backupContainer, jobFromCronJob } from "../../backup/k8s";
import { jobLog, waitForJob } from "../../backup/k8s/kube-wait";
import { tenantNames } from "../../components/naming";
import { podReady, realCluster, waitFor } from "./real-cluster";

export interface ExecResult { stdout: Buffer; stderr: string; ok: boolean; message: string }

/** Runs COMMAND in a container and collects its output; `stdin` is written whole, then closed. */
export function execIn(namespace: string, pod: string, container: string, command: string[], stdin?: Buffer): Promise<ExecResult> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const stdout = new PassThrough().on("data", (c: Buffer) => out.push(c));
  const stderr = new PassThrough().on("data", (c: Buffer) => err.push(c));
  const input = stdin === undefined ? null : new PassThrough();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`exec ${command.join(" ")} in ${namespace}/${pod}: no status within 120 s`)), 120_000);
    new k8s.Exec(realCluster().kc)
      .exec(namespace, pod, container, command, stdout, stderr, input, false, (status) => {
        clearTimeout(timer);
        // The status can arrive before the last output frames are handed on.
        setImmediate(() => resolve({ stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString("utf8"), ok: status.status === "Success", message: status.message ?? "" }));
      })
      .then(() => { if (input !== null) input.end(stdin); })
      .catch((e: unknown) => { clearTimeout(timer); reject(e instanceof Error ? e : new Error(String(e))); });
  });
}

async function mustExec(namespace: string, pod: string, container: string, command: string[], stdin?: Buffer): Promise<Buffer> {
  const r = await execIn(namespace, pod, container, command, stdin);
  if (!r.ok) throw new Error(`${command.join(" ")} in ${namespace}/${pod} failed: ${r.message} ${r.stderr}`);
  return r.stdout;
}

async function readyPod(tenant: string, app: "postgres" | "odoo"): Promise<string> {
  const pod = await waitFor(`${tenant}'s ${app} pod Ready`, () => podReady(tenantNames(tenant).namespace, `app.kubernetes.io/name=${app}`), 300_000);
  return pod.metadata!.name!;
}

/**
 * psql in the tenant's PostgreSQL pod as the bootstrap superuser (local socket), SQL on stdin,
 * values as psql variables (`:'name'`), never spliced into the text. Returns unaligned rows.
 */
export async function tenantSql(tenant: string, database: string, sql: string, vars: Record<string, string> = {}): Promise<string> {
  const names = tenantNames(tenant);
  const pod = await readyPod(tenant, "postgres");
  const args = ["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-U", names.dbSuperuser, "-d", database];
  for (const [k, v] of Object.entries(vars)) args.push("-v", `${k}=${v}`);
  return (await mustExec(names.namespace, pod, "postgres", args, Buffer.from(sql))).toString("utf8").trim();
}

/** The tenant database in full as pg_dump prints it (as the superuser, so nothing is hidden), minus version comments. */
export async function tenantDump(tenant: string): Promise<string> {
  const names = tenantNames(tenant);
  const pod = await readyPod(tenant, "postgres");
  const dump = (await mustExec(names.namespace, pod, "postgres", ["pg_dump", "-U", names.dbSuperuser, "-b", "--format=plain", names.database])).toString("utf8");
  return dump.split("\n").filter((l) => !/^-- Dumped (from|by)|^\\(un)?restrict /.test(l)).join("\n");
}

/** Runs a command in a container of the pod labelled `app` (postgres or odoo). */
export async function inTenantPod(tenant: string, app: "postgres" | "odoo", command: string[], stdin?: Buffer): Promise<ExecResult> {
  return execIn(tenantNames(tenant).namespace, await readyPod(tenant, app), app, command, stdin);
}

/** Every file of the tenant's filestore with its SHA-256, as `sha256sum` prints them, sorted. */
export async function filestoreDigest(tenant: string, filestoreDir: string): Promise<string> {
  const script = 'cd "$1" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum';
  const r = await inTenantPod(tenant, "odoo", ["sh", "-c", script, "sh", filestoreDir]);
  if (!r.ok) throw new Error(`filestore digest failed: ${r.message} ${r.stderr}`);
  return r.stdout.toString("utf8");
}

/** Writes BYTES to a file of the Odoo pod (folders made as needed). */
export async function writeInOdoo(tenant: string, file: string, bytes: Buffer): Promise<void> {
  const r = await inTenantPod(tenant, "odoo", ["sh", "-c", 'mkdir -p "$(dirname "$1")" && cat > "$1"', "sh", file], bytes);
  if (!r.ok) throw new Error(`writing ${file} failed: ${r.message} ${r.stderr}`);
}

/** Runs a Job (`<prefix>-<unix seconds>`) of the tenant's backup CronJob pod template (image, volumes, policies) with COMMAND; returns its log. */
export async function runJobOfTemplate(tenant: string, prefix: string, command: string[]): Promise<{ ok: boolean; log: string }> {
  const name = `${prefix}-${Math.floor(Date.now() / 1000)}`;
  const { namespace, backup } = tenantNames(tenant);
  const batch = realCluster().kc.makeApiClient(k8s.BatchV1Api);
  const cronJob = await batch.readNamespacedCronJob({ name: backup, namespace });
  const job = jobFromCronJob(cronJob, { name, action: "list", backoffLimit: 0, ttlSecondsAfterFinished: 300 });
  const container = backupContainer(job.spec!.template.spec!.containers);
  container.command = command;
  container.args = [];
  await batch.createNamespacedJob({ namespace, body: job });
  const outcome = await waitForJob(batch, namespace, name, { timeoutMs: 180_000, pollMs: 1000 });
  return { ok: outcome.succeeded, log: await jobLog(realCluster().kc.makeApiClient(k8s.CoreV1Api), namespace, name) };
}

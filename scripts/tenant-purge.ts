/**
 * `npm run tenant:purge -- <id> --confirm <id> [--stack NAME]`: the only way a tenant's data is
 * destroyed. Removing a tenant from the config retires it (workloads gone, namespace with its
 * database volume, filestore volume, backups and credentials kept); this deletes that
 * namespace and with it every volume. It refuses while the tenant is still configured, and
 * needs the id typed twice.
 *
 * A self-service tenant also has its own stack `<stack>-tenant-<id>`: purge refuses while that
 * stack still deploys it (delete it through the signup server first), then removes the stack,
 * and with DATABASE_URL set forgets the retired tenant's record, which frees its id. The stack
 * is opened and recovered as every stack is (open-stack.ts): purge refuses while a live engine
 * runs on it.
 *
 * Backups go first: with the S3 store (`backup.store`), every object and unfinished upload
 * below `<prefix>/<id>/` is deleted (backup/store/s3-purge.ts says why deleting, not never
 * reusing ids); the PVC store's volume is in the namespace. If they cannot all be deleted,
 * purge stops there: the namespace, stack and record stay, so the id stays taken. Each step
 * is idempotent, so a purge that stopped half-way is finished by running it again. The record
 * is forgotten only once the namespace is gone (deletion is asynchronous).
 */
import * as k8s from "@kubernetes/client-node";
import { openStore } from "../backup/store/open-store";
import { S3BackupStore } from "../backup/store/s3-store";
import { releaseDeadLocks } from "../automation/engine/open-stack";
import { tenantIdsInState } from "../automation/engine/program-stack";
import { RecordsStore } from "../automation/records/records-store";
import { StackLocks } from "../automation/engine/stack-lock";
import { TenantStacks } from "../automation/engine/tenant-stacks";
import type { Stack } from "@pulumi/pulumi/automation";
import { tenantNames } from "../components/naming";
import { tenantNamespaces } from "../checks/cluster-view";
import { isNotFound, loadKubeConfig } from "../checks/kube";
import { rawConfigFromStackFile, stackFilePath } from "../tenants/config-source";
import { tenantIdProblem } from "../tenants/schema";
import type { BackupStore } from "../tenants/schema";
import { parseStackConfig } from "../tenants/validate";

/** How long purge waits for the namespace's deletion to finish before freeing the id. */
const NAMESPACE_GONE_MS = Number(process.env.ODOO_SAAS_PURGE_WAIT_SECONDS ?? "300") * 1000;

function stop(sentence: string): never {
  console.error(sentence);
  process.exit(1);
}

/** S3: deletes everything below the tenant's prefix, or stops purge with one sentence. */
async function purgeBackups(store: BackupStore, id: string): Promise<number> {
  if (store.type !== "s3") return 0; // the backup volume is in the namespace, deleted with it
  const s3 = openStore({ kind: "s3", endpoint: store.endpoint, bucket: store.bucket, region: store.region, prefix: store.prefix, forcePathStyle: store.forcePathStyle, partSizeBytes: 16 * 1024 * 1024 }, id);
  if (!(s3 instanceof S3BackupStore)) throw new Error("the S3 backup store did not open as one");
  try {
    const done = await s3.purgeAll();
    console.log(`deleted the backups of "${id}" in ${s3.location}: ${done.objects} object(s), ${done.versions} older version(s), ${done.uploads} unfinished upload(s)`);
    return done.objects + done.versions + done.uploads;
  } catch (err) {
    const reason = (err as Error).message.split("\n")[0] ?? "";
    return stop(`refusing to free "${id}": its backups in ${s3.location} could not all be deleted (${reason}); nothing else was removed and the id stays taken, so run purge again once the store can be reached with list, delete and abort-upload rights on that prefix`);
  }
}

/** Deletes the namespace (if not already being deleted) and waits until it is gone. */
async function deleteNamespace(core: k8s.CoreV1Api, name: string): Promise<void> {
  const found = await core.readNamespace({ name }).catch((err: unknown) => (isNotFound(err) ? undefined : Promise.reject(err)));
  if (found === undefined) return;
  if (found.metadata?.deletionTimestamp === undefined || found.metadata.deletionTimestamp === null) await core.deleteNamespace({ name });
  console.log(`namespace ${name} and every volume in it are being deleted`);
  const deadline = Date.now() + NAMESPACE_GONE_MS;
  for (;;) {
    const left = await core.readNamespace({ name }).catch((err: unknown) => (isNotFound(err) ? undefined : Promise.reject(err)));
    if (left === undefined) return;
    if (Date.now() > deadline) {
      stop(`namespace ${name} is still being deleted after ${NAMESPACE_GONE_MS / 1000} s; the id stays taken until it is gone, so run purge again later to finish`);
    }
    await new Promise((r) => setTimeout(r, 2_000));
  }
}

function usage(message: string): never {
  console.error(`${message}\nusage: npm run tenant:purge -- <id> --confirm <id> [--stack NAME]`);
  process.exit(2);
}

async function main(argv: string[]): Promise<void> {
  const [id, ...rest] = argv;
  if (id === undefined) usage("missing tenant id");
  let confirm: string | undefined;
  let stack = "dev";
  for (let i = 0; i < rest.length; i += 2) {
    if (rest[i] === "--confirm") confirm = rest[i + 1];
    else if (rest[i] === "--stack") stack = rest[i + 1] ?? stack;
    else usage(`unexpected argument "${rest[i]}"`);
  }
  const problem = tenantIdProblem(id);
  if (problem !== undefined && !/reserved/.test(problem)) usage(`tenant id: ${problem}`);
  if (confirm !== id) usage(`refusing: purge destroys every byte of tenant "${id}"; repeat the id after --confirm`);

  const parsed = parseStackConfig(rawConfigFromStackFile(stackFilePath(process.cwd(), stack)));
  // The backup store is in the platform keys: without them, where the backups are is unknown.
  if (!parsed.ok) stop(`refusing: Pulumi.${stack}.yaml is not a valid config, so where the backups of "${id}" are is unknown; nothing was removed`);
  if (parsed.config.tenants.some((t) => t.id === id)) {
    stop(`refusing: tenant "${id}" is still in Pulumi.${stack}.yaml; remove it (retire) and deploy first`);
  }
  const stacks = new TenantStacks({ fleetStackName: stack });
  const own = await stacks.find(id);
  const databaseUrl = process.env.DATABASE_URL;
  // One engine per stack: no server may run an operation on the tenant's stack while purge
  // checks and removes it (the same PostgreSQL lock the signup server's runs hold).
  const lease = own && databaseUrl !== undefined && databaseUrl !== ""
    ? await new StackLocks({ connectionString: databaseUrl }).tryAcquire(own.name, (reason) => stop(`the lock of stack ${own.name} was lost (${reason}); run purge again to finish`))
    : undefined;
  if (own && databaseUrl !== undefined && databaseUrl !== "" && lease === undefined) {
    stop(`refusing: an engine is running on stack ${own.name} (an operation of the signup server); run purge again once it has finished; nothing was removed`);
  }
  try {
    // The one recovery policy (open-stack.ts): a dead engine's lock is removed, a live one's never.
    const holder = own ? await releaseDeadLocks(own, { engine: stacks.engine, progress: (line) => console.log(line), acrossHosts: lease !== undefined }) : undefined;
    if (own && holder !== undefined) stop(`refusing: an engine is running on stack ${own.name} (${holder}); run purge again once it has finished; nothing was removed`);
    await purge(id, parsed.config.backup.store, own, databaseUrl);
  } finally {
    await lease?.release();
  }
}

async function purge(id: string, store: BackupStore, own: Stack | undefined, databaseUrl: string | undefined): Promise<void> {
  if (own && (await tenantIdsInState(own)).has(id)) {
    stop(`refusing: tenant "${id}" is still deployed by its stack ${own.name}; delete it first (DELETE /api/tenants/${id})`);
  }
  const kc = loadKubeConfig();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const labelled = (await tenantNamespaces(kc)).get(id);
  const namespace = tenantNames(id).namespace;
  if (labelled !== undefined && labelled !== namespace) stop(`refusing: the namespace labelled as tenant "${id}" is ${labelled}, not ${namespace}; nothing was removed`);
  if (labelled !== undefined) {
    const deployments = await kc.makeApiClient(k8s.AppsV1Api).listNamespacedDeployment({ namespace });
    if (deployments.items.length > 0) stop(`refusing: ${namespace} still runs workloads; the tenant is not retired`);
  }
  const records = databaseUrl !== undefined && databaseUrl !== "" ? await RecordsStore.open(databaseUrl) : undefined;
  try {
    const recorded = await records?.tenant(id);
    // A signup being created, or a live instance: its backups are not a purged tenant's.
    if (recorded?.state === "pending" || recorded?.state === "active") stop(`refusing: tenant "${id}" is ${recorded.state} in the signup records; delete it first (DELETE /api/tenants/${id})`);
    if (labelled === undefined && own === undefined && recorded === undefined && store.type !== "s3") {
      stop(`nothing to purge: no namespace, stack or record of tenant "${id}"`);
    }
    // 1. Backups, while everything else still holds the id.
    await purgeBackups(store, id);
    // 2. The namespace with every volume (the PVC store's backups too), until it is gone.
    if (labelled !== undefined) {
      await deleteNamespace(core, namespace);
      console.log(`purged tenant "${id}": namespace ${namespace} and every volume in it are deleted`);
    }
    // 3. Its own stack: only the provider is left in its state, nothing in the cluster is deleted by this.
    if (own) {
      await own.destroy();
      await own.workspace.removeStack(own.name);
      console.log(`removed its stack ${own.name}`);
    }
    // 4. Last, the record: this frees the id.
    if (records === undefined) {
      if (own) console.log(`DATABASE_URL is not set: its signup record (if any) still holds the id "${id}"; run purge again with DATABASE_URL to free it`);
    } else if (await records.forgetRetired(id)) {
      console.log(`forgot its signup record; the id "${id}" is free again`);
    }
  } finally {
    await records?.close();
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(`tenant:purge failed: ${(err as Error).message}`);
  process.exit(1);
});

/**
 * A server that died while an upload's restore had Odoo scaled to 0 (issue 19, part 6), on a
 * real local control plane (KWOK nodes: a Deployment's replicas are observed, no pod runs) with
 * a real PostgreSQL: a live server's sweep (UploadOrphans with KubernetesUploadRestorer.recover)
 * puts Odoo back to the replicas recorded on its Deployment, reports the upload unknown because
 * the server restarted, and keeps the importer Job (its restore may still run). What cannot be
 * observed here: the scale-down itself, which happens only after an exec into the importer pod
 * answered (no pod runs on KWOK); the state it leaves is set up as the restorer's patch writes it.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect } from "chai";
import * as k8s from "@kubernetes/client-node";
import { REPLICAS_BEFORE_RESTORE_ANNOTATION } from "../../backup/k8s/names";
import { KubernetesUploadRestorer } from "../../automation/kube-upload-restorer";
import { jsonLogger, Redactor } from "../../automation/log";
import { RecordsStore } from "../../automation/records/records-store";
import { UploadRecords, type UploadRecord } from "../../automation/records/upload-records";
import { RESTARTED_DURING_RESTORE, UploadOrphans } from "../../automation/upload-orphans";
import { startLocalCluster, type LocalCluster } from "../../local/local-cluster";
import { startPostgres, type PostgresServer } from "../../local/local-postgres";

const NS = "tenant-acme";
const mergePatch = k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch);

function upload(id: string, tenant: string, state: UploadRecord["state"]): UploadRecord {
  const at = new Date().toISOString();
  return { id, tenant, requestedBy: "owner", state, phase: state, phases: [], receivedBytes: 0, startedAt: at, finishedAt: null };
}

describe("a server restart during an upload's restore (local control plane, real PostgreSQL)", function () {
  this.timeout(600_000);
  let cluster: LocalCluster;
  let pg: PostgresServer;
  let store: RecordsStore;
  let apps: k8s.AppsV1Api;
  let batch: k8s.BatchV1Api;
  let work: string;

  const replicas = async () => {
    const d = await apps.readNamespacedDeployment({ name: "acme-odoo", namespace: NS });
    return { replicas: d.spec?.replicas, annotation: d.metadata?.annotations?.[REPLICAS_BEFORE_RESTORE_ANNOTATION] };
  };
  const orphans = (records: UploadRecords) => new UploadOrphans({
    records, restorer: new KubernetesUploadRestorer(cluster.kc), log: jsonLogger(new Redactor(), { write: () => undefined }), workDir: work, heartbeatMs: 60_000, staleAfterMs: 1000,
  });
  /** An upload a server that died had admitted, and last beat for 10 minutes ago. */
  async function orphan(id: string, tenant: string, state: UploadRecord["state"]): Promise<void> {
    expect(await new UploadRecords(store, "a-dead-server").admit(upload(id, tenant, state), 5, 5)).to.equal("admitted");
    await store.pool.query("update odoo_saas.uploads set heartbeat_at = now() - interval '10 minutes' where id = $1", [id]);
  }

  before(async () => {
    cluster = startLocalCluster(1);
    pg = await startPostgres();
    const { env } = pg;
    store = await RecordsStore.open(`postgres://${env.PGUSER}:${encodeURIComponent(env.PGPASSWORD)}@${env.PGHOST}:${env.PGPORT}/postgres`);
    work = fs.mkdtempSync(path.join(os.tmpdir(), "upload-restart-"));
    apps = cluster.kc.makeApiClient(k8s.AppsV1Api);
    batch = cluster.kc.makeApiClient(k8s.BatchV1Api);
    const core = cluster.kc.makeApiClient(k8s.CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: NS } } });
    const labels = { app: "acme-odoo" };
    await apps.createNamespacedDeployment({ namespace: NS, body: {
      metadata: { name: "acme-odoo" },
      spec: { replicas: 2, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: "odoo", image: "odoo:17.0" }] } } },
    } });
    await batch.createNamespacedJob({ namespace: NS, body: {
      metadata: { name: "acme-backup-import-1", labels: { "odoo-saas.io/backup-action": "import" } },
      spec: { activeDeadlineSeconds: 43_200, ttlSecondsAfterFinished: 300, template: { spec: { restartPolicy: "Never", containers: [{ name: "backup", image: "backup:dev" }] } } },
    } });
  });
  after(async () => {
    await store?.close();
    await pg?.stop();
    cluster?.down();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it("puts Odoo back to its recorded replicas, reports the restore unknown because the server restarted, and keeps the importer Job", async () => {
    // As KubernetesUploadRestorer leaves the Deployment while it restores: 0 replicas and, in the same patch, the replicas to return to.
    await apps.patchNamespacedDeployment({ name: "acme-odoo", namespace: NS, body: { metadata: { annotations: { [REPLICAS_BEFORE_RESTORE_ANNOTATION]: "2" } }, spec: { replicas: 0 } } }, mergePatch);
    expect(await replicas()).to.deep.equal({ replicas: 0, annotation: "2" });
    await orphan("up_acmerestore1", "acme", "restoring");
    const live = new UploadRecords(store, "a-live-server");
    const settled = await orphans(live).sweep();
    expect(settled.map((u) => u.id)).to.deep.equal(["up_acmerestore1"]);
    expect(await replicas()).to.deep.equal({ replicas: 2, annotation: undefined });
    const record = await live.get("acme", "up_acmerestore1");
    expect(record).to.include({ state: "unknown", message: RESTARTED_DURING_RESTORE, detail: "the server process stopped during the restore; Deployment tenant-acme/acme-odoo scaled back to 2 replicas" });
    const job = await batch.readNamespacedJob({ name: "acme-backup-import-1", namespace: NS });
    expect(job.metadata?.deletionTimestamp).to.equal(undefined);
    // settled once: a second sweep finds nothing, and changes nothing
    expect(await orphans(live).sweep()).to.deep.equal([]);
  });

  it("leaves a Deployment no restore scaled down as it is, and keeps an upload whose instance cannot be read for a later sweep", async () => {
    await apps.patchNamespacedDeployment({ name: "acme-odoo", namespace: NS, body: { spec: { replicas: 3 } } }, mergePatch);
    await orphan("up_acmerestore2", "acme", "restoring");
    await orphan("up_ghostrestore", "ghost", "restoring");
    const live = new UploadRecords(store, "a-live-server");
    const settled = await orphans(live).sweep();
    expect(settled.map((u) => u.id)).to.deep.equal(["up_acmerestore2"]);
    expect(await replicas()).to.deep.equal({ replicas: 3, annotation: undefined });
    expect((await live.get("acme", "up_acmerestore2"))?.detail).to.equal("the server process stopped during the restore; Deployment tenant-acme/acme-odoo was not scaled down by a restore (replicas 3)");
    // no namespace "tenant-ghost": not settled, and claimable again once stale again (1 s here)
    expect(await live.get("ghost", "up_ghostrestore")).to.include({ state: "restoring", finishedAt: null });
    await new Promise((r) => setTimeout(r, 1500));
    await live.heartbeat();
    const again = await new UploadRecords(store, "another-live-server").claimOrphans(1000);
    expect(again.map((u) => u.id)).to.deep.equal(["up_ghostrestore"]);
  });
});

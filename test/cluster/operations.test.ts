/**
 * Operations checks against a real local control plane with KWOK nodes: node distribution,
 * the isolation analyser on the policies the API server stored (and on a deliberately broken
 * one), the probe's pod admitted under "restricted", usage without a metrics API.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect } from "chai";
import * as k8s from "@kubernetes/client-node";
import { repoRoot } from "../../automation/engine/engine-env";
import { allNetworkPolicies, tenantEndpoints } from "../../checks/cluster-inventory";
import { waitForPods } from "../../checks/cluster-view";
import { analyse } from "../../checks/isolation-analysis";
import { restoreTenant, startOnDemandBackup } from "../../backup/k8s";
import { probePlan, probePod } from "../../checks/isolation-probe";
import { collectUsage } from "../../checks/usage";
import { gatherDistribution } from "../../checks/gather-distribution";
import { deployStack } from "../../automation/engine/deploy";
import { tenant, validConfig } from "../support/fixtures";
import { stackConfigMap, tempEngine } from "../support/engine-stack";
import { startLocalCluster, type LocalCluster } from "../../local/local-cluster";
import { KubernetesBackupAccess } from "../../automation/kube-backup-access";
import { KubernetesUploadRestorer } from "../../automation/kube-upload-restorer";
import { listBackupCronJobs, summarizeBackups } from "../../automation/scheduled-backups";
import { ServerMetrics } from "../../automation/metrics";

function runScript(cluster: LocalCluster, script: string, args: string[] = []): { code: number; out: string } {
  try {
    const out = execFileSync(process.execPath, [path.join(repoRoot(), "dist", "scripts", `${script}.js`), ...args], {
      env: { ...process.env, KUBECONFIG: cluster.kubeconfig }, cwd: repoRoot(), encoding: "utf8", stdio: ["ignore", "pipe", "pipe"],
    });
    return { code: 0, out };
  } catch (err) {
    const e = err as { status: number; stdout: string; stderr: string };
    return { code: e.status, out: `${e.stdout}${e.stderr}` };
  }
}

describe("operations checks on a real local control plane", function () {
  this.timeout(600_000);
  let cluster: LocalCluster;
  // The dev stack's shape, so check:policies can read Pulumi.dev.yaml's ingress/DNS settings.
  const config = validConfig([tenant({ id: "acme" }), tenant({ id: "globex", plan: "business" }), tenant({ id: "initech" }), tenant({ id: "umbrella", suspended: true })]);
  const engine = tempEngine("operations");

  before(async () => {
    cluster = startLocalCluster(3);
    // Deployed by the real engine, as `npm start` does.
    const outcome = await deployStack({ stackName: "operations", engine, kubeconfig: cluster.kubeconfig, kc: cluster.kc, config: stackConfigMap(config) });
    if (!outcome.ok) throw new Error(`deploy failed: ${outcome.message}`);
    await waitForPods(cluster.kc, (p) => p.length === 7 && p.every((x) => x.ready), 120_000);
  });
  after(() => cluster?.down());

  it("check:distribution: one tenant per node for 3 running tenants on 3 nodes; suspended ones not counted", async () => {
    const report = await gatherDistribution(cluster.kc);
    expect(report.limit).to.equal(1);
    expect(report.ok).to.equal(true);
    expect(report.perNode.map((r) => r.tenants.length)).to.deep.equal([1, 1, 1]);
    const cli = runScript(cluster, "check-distribution");
    expect(cli.code).to.equal(0);
    expect(cli.out).to.contain("rule: at most 1 tenant(s) per node");
  });

  it("check:distribution fails while a running tenant's Odoo pod cannot be scheduled", async () => {
    const core = cluster.kc.makeApiClient(k8s.CoreV1Api);
    const apps = cluster.kc.makeApiClient(k8s.AppsV1Api);
    const nodes = ["kwok-node-1", "kwok-node-2", "kwok-node-3"];
    const cordon = async (unschedulable: boolean): Promise<void> => {
      for (const name of nodes) await core.patchNode({ name, body: { spec: { unschedulable } } }, k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch));
    };
    await cordon(true);
    try {
      // A restart (Recreate) needs a new pod, which no cordoned node will take.
      await apps.patchNamespacedDeployment({ name: "acme-odoo", namespace: "tenant-acme", body: { spec: { template: { metadata: { annotations: { "test/restart": "1" } } } } } }, k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch));
      const pods = await waitForPods(cluster.kc, (p) => p.some((x) => x.tenant === "acme" && x.component === "odoo" && x.node === undefined), 60_000);
      expect(pods.some((x) => x.tenant === "acme" && x.component === "odoo" && x.node === undefined)).to.equal(true);
      const cli = runScript(cluster, "check-distribution");
      expect(cli.code).to.equal(1);
      expect(cli.out).to.contain("UNSCHEDULED: acme");
    } finally {
      await cordon(false);
    }
    await waitForPods(cluster.kc, (p) => p.length === 7 && p.every((x) => x.ready), 60_000);
    expect(runScript(cluster, "check-distribution").code).to.equal(0);
  });

  it("the analyser finds no violation in the policies the API server stored", async () => {
    const tenants = await tenantEndpoints(cluster.kc);
    expect(tenants.map((t) => t.id)).to.deep.equal(["acme", "globex", "initech", "umbrella"]);
    expect(tenants.find((t) => t.id === "umbrella")?.odoo, "suspended tenants are analysed from their templates").to.not.equal(undefined);
    const analysis = analyse({ tenants, policies: await allNetworkPolicies(cluster.kc), ingressNamespace: "traefik", dnsNamespace: "kube-system" });
    expect(analysis.violations).to.deep.equal([]);
    const cli = runScript(cluster, "check-policies");
    expect(cli.code, cli.out).to.equal(0);
    expect(cli.out).to.match(/OK: \d+ paths checked, no violation/);
  });

  it("the analyser catches a broken policy put into the cluster", async () => {
    const net = cluster.kc.makeApiClient(k8s.NetworkingV1Api);
    await net.createNamespacedNetworkPolicy({ namespace: "tenant-acme", body: {
      metadata: { name: "oops-allow-all-ingress" },
      spec: { podSelector: {}, policyTypes: ["Ingress"], ingress: [{}] },
    } });
    try {
      const cli = runScript(cluster, "check-policies");
      expect(cli.code).to.equal(1);
      expect(cli.out).to.contain("PostgreSQL is closed to other namespaces: default/any-pod -> acme/postgres:5432 is ALLOWED");
      expect(cli.out).to.contain("Odoo accepts only the ingress controller: default/any-pod -> acme/odoo:8069 is ALLOWED");
    } finally {
      await net.deleteNamespacedNetworkPolicy({ name: "oops-allow-all-ingress", namespace: "tenant-acme" });
    }
  });

  it("check:isolation says plainly that no CNI enforces policies on the simulated cluster", () => {
    const cli = runScript(cluster, "check-isolation", ["acme", "globex"]);
    expect(cli.code).to.equal(4);
    expect(cli.out).to.contain("no CNI enforces NetworkPolicies here");
  });

  it("the probe pods are admitted in tenant namespaces under the restricted Pod Security Standard", async () => {
    const core = cluster.kc.makeApiClient(k8s.CoreV1Api);
    const plan = probePlan(["acme", "globex"], { ingressNamespace: "traefik", dnsNamespace: "kube-system", outsideNamespace: "default" });
    for (const source of plan.filter((s) => s.namespace === "tenant-acme")) {
      const created = await core.createNamespacedPod({ namespace: "tenant-acme", body: probePod(source, "busybox:1.36", { name: "isolation-probe", uid: "0b5e7a4e-0000-4000-8000-000000000001" }), dryRun: "All" });
      expect(created.metadata?.name).to.equal(source.pod);
    }
  });

  it("tenants:usage reports quota and storage, and says the metrics API is absent", async () => {
    const report = await collectUsage(cluster.kc);
    expect(report.metricsAvailable).to.equal(false);
    expect(report.metricsMessage).to.contain("metrics.k8s.io is not served");
    const globex = report.tenants.find((t) => t.tenant === "globex");
    expect(globex?.quota["limits.cpu"]).to.deep.equal({ used: 3, hard: 5 });
    expect(globex?.storageRequested).to.equal(120 * 2 ** 30);
    const cli = runScript(cluster, "tenants-usage");
    expect(cli.code).to.equal(0);
    expect(cli.out).to.match(/globex\s+n\/a\s+n\/a\s+3 \/ 5/);
  });

  it("metrics: the tenants' scheduled backups counted by the last run their CronJob status records (one list, no Job started)", async () => {
    const batch = cluster.kc.makeApiClient(k8s.BatchV1Api);
    const jobsBefore = (await batch.listJobForAllNamespaces()).items.length;
    const metrics = new ServerMetrics();
    metrics.useSources({
      queue: async () => ({ queued: 0, running: 0, oldestQueuedSeconds: 0, oldestRunningSeconds: 0 }),
      tenantsByStatus: async () => new Map(),
      scheduledBackups: async () => summarizeBackups(await listBackupCronJobs(cluster.kc), Date.now()),
    });
    const value = async (sample: string): Promise<number | undefined> => {
      const line = (await metrics.scrape()).text.split("\n").find((l) => l.startsWith(`${sample} `));
      return line === undefined ? undefined : Number(line.slice(sample.length + 1));
    };
    // Deployed by the real program: four CronJobs, none has run yet (the tests below start Jobs from them).
    expect((await listBackupCronJobs(cluster.kc)).map((c) => c.tenant).sort()).to.deep.equal(["acme", "globex", "initech", "umbrella"]);
    expect(await value('odoo_saas_scheduled_backups{last_run="not_run_yet"}')).to.equal(4);
    expect(await value('odoo_saas_backup_oldest_last_success_age_seconds{kind="scheduled"}')).to.equal(undefined);
    // The status the CronJob controller writes: acme's last run succeeded, globex's ran after its
    // last success (25 h ago) and failed. Both runs were scheduled seconds ago, so the controller
    // sees no missed schedule to start (its daily time would have to fall in those seconds).
    const setStatus = async (tenantId: string, status: k8s.V1CronJobStatus): Promise<void> => {
      const [job] = (await batch.listNamespacedCronJob({ namespace: `tenant-${tenantId}`, labelSelector: "app.kubernetes.io/name=backup" })).items;
      if (job?.metadata?.name === undefined) throw new Error(`no backup CronJob for ${tenantId}`);
      await batch.replaceNamespacedCronJobStatus({ name: job.metadata.name, namespace: `tenant-${tenantId}`, body: { ...job, status } });
    };
    const secondsAgo = (n: number): Date => new Date(Date.now() - n * 1_000);
    await setStatus("acme", { lastScheduleTime: secondsAgo(3), lastSuccessfulTime: secondsAgo(1) });
    await setStatus("globex", { lastScheduleTime: secondsAgo(2), lastSuccessfulTime: secondsAgo(25 * 3600) });
    expect(await value('odoo_saas_scheduled_backups{last_run="succeeded"}')).to.equal(1);
    expect(await value('odoo_saas_scheduled_backups{last_run="failed"}')).to.equal(1);
    expect(await value('odoo_saas_scheduled_backups{last_run="not_run_yet"}')).to.equal(2);
    const age = await value('odoo_saas_backup_oldest_last_success_age_seconds{kind="scheduled"}');
    expect(age).to.be.within(25 * 3600 - 60, 25 * 3600 + 60);
    expect(await value('odoo_saas_scrape_read_failed{read="scheduled_backups"}')).to.equal(0);
    expect((await batch.listJobForAllNamespaces()).items.length).to.equal(jobsBefore);
  });

  it("on-demand backup: a Job made from the CronJob is admitted, runs beside Odoo and binds the backup volume", async () => {
    // The simulated node reports the Job complete without running it; the backup program
    // itself is proven against real PostgreSQL in the backup suite.
    const result = await startOnDemandBackup(cluster.kc, "globex", { wait: true, pollMs: 500, timeoutMs: 60_000 });
    expect(result.outcome?.succeeded).to.equal(true);
    const batch = cluster.kc.makeApiClient(k8s.BatchV1Api);
    const job = await batch.readNamespacedJob({ name: result.jobName, namespace: "tenant-globex" });
    expect(job.metadata?.annotations?.["cronjob.kubernetes.io/instantiate"]).to.equal("manual");
    expect(job.metadata?.ownerReferences?.[0]).to.include({ kind: "CronJob", name: "globex-backup" });
    expect(job.spec?.template.spec?.containers[0]?.env).to.deep.include({ name: "BACKUP_KIND", value: "on-demand" });
    const core = cluster.kc.makeApiClient(k8s.CoreV1Api);
    const jobPod = (await core.listNamespacedPod({ namespace: "tenant-globex", labelSelector: `job-name=${result.jobName}` })).items[0];
    const odooPod = (await core.listNamespacedPod({ namespace: "tenant-globex", labelSelector: "app.kubernetes.io/name=odoo" })).items[0];
    expect(jobPod?.spec?.nodeName).to.equal(odooPod?.spec?.nodeName);
    const claim = await core.readNamespacedPersistentVolumeClaim({ name: "globex-backups", namespace: "tenant-globex" });
    expect(claim.status?.phase).to.equal("Bound");
  });

  it("owner backups (KubernetesBackupAccess): back up now creates the Job from the CronJob; list and download fail honestly on simulated nodes, and a download starts no reader Job", async () => {
    // KWOK nodes run nothing: a list Job "completes" without printing a list, a reader pod never
    // serves `cat`. The owner API must then report an error (503), never an empty list or a download.
    const access = new KubernetesBackupAccess(cluster.kc, { startTimeoutMs: 60_000, pollMs: 500, firstByteTimeoutMs: 30_000 });
    const batch = cluster.kc.makeApiClient(k8s.BatchV1Api);
    const { reference } = await access.requestBackup("acme");
    const job = await batch.readNamespacedJob({ name: reference, namespace: "tenant-acme" });
    expect(job.metadata?.labels?.["odoo-saas.io/backup-action"]).to.equal("backup");
    expect(job.metadata?.ownerReferences?.[0]).to.include({ kind: "CronJob", name: "acme-backup" });
    expect(job.spec?.template.spec?.containers[0]?.env).to.deep.include({ name: "BACKUP_KIND", value: "on-demand" });

    let listError: Error | undefined;
    await access.list("acme").catch((err: Error) => (listError = err));
    expect(listError?.message).to.match(/printed no backup list/);

    // The listing decides before any reader Job exists (kube-backup-access.ts): here it cannot
    // be read, so the download fails at once and starts no reader (the reader's Job, its
    // deletion and its unique name: test/backup/kube-download.test.ts).
    let downloadError: Error | undefined;
    const result = await access.download("acme", "acme-20261101T020000Z-scheduled.zip", "content").catch((err: Error) => { downloadError = err; return "failed" as const; });
    expect(result).to.equal("failed");
    expect(downloadError?.message).to.match(/printed no backup list/);
    const readers = await batch.listNamespacedJob({ namespace: "tenant-acme", labelSelector: "odoo-saas.io/backup-action=download" });
    expect(readers.items.map((j) => j.metadata?.name)).to.deep.equal([]);
  });

  it("restore: refused before Odoo is stopped or a backup/restore Job exists, because the simulated node cannot show the backup exists", async () => {
    // KWOK reports every Job complete without running it, so a restore Job here would "succeed"
    // without restoring anything. The orchestration must first confirm the backup through a
    // read-only list Job; here that Job prints no list, so the restore is refused and nothing changes.
    const apps = cluster.kc.makeApiClient(k8s.AppsV1Api);
    const batch = cluster.kc.makeApiClient(k8s.BatchV1Api);
    const before = await apps.readNamespacedDeployment({ name: "initech-odoo", namespace: "tenant-initech" });
    const seen: string[] = [];
    let error: Error | undefined;
    const report = await restoreTenant(cluster.kc, "initech", "initech-20261101T020000Z-scheduled.zip", { pollMs: 500, log: (line) => seen.push(line) })
      .catch((err: Error) => { error = err; return undefined; });
    expect(report, "a restore of an unconfirmed backup must not run").to.equal(undefined);
    expect(error?.name).to.equal("RestoreRefusedError");
    expect(error?.message).to.match(/^cannot confirm that initech-20261101T020000Z-scheduled\.zip exists in initech's backup store \(.+\); nothing was stopped or changed$/);
    expect(seen.filter((line) => /scaling|started Job/.test(line))).to.deep.equal([]);
    const after = await apps.readNamespacedDeployment({ name: "initech-odoo", namespace: "tenant-initech" });
    expect(after.metadata?.generation).to.equal(before.metadata?.generation);
    expect(after.spec?.replicas).to.equal(1);
    expect(after.metadata?.annotations?.["odoo-saas.io/replicas-before-restore"]).to.equal(undefined);
    const jobs = await batch.listNamespacedJob({ namespace: "tenant-initech", labelSelector: "odoo-saas.io/backup-action in (backup,restore)" });
    expect(jobs.items.map((j) => j.metadata?.name)).to.deep.equal([]);

    // The operator's command says the same and exits non-zero; ids follow the schema's one rule.
    const cli = runScript(cluster, "backup-restore", ["initech", "initech-20261101T020000Z-scheduled.zip"]);
    expect(cli.code).to.equal(1);
    expect(cli.out).to.match(/refused: cannot confirm that initech-20261101T020000Z-scheduled\.zip exists .*nothing was stopped or changed/);
    const badId = runScript(cluster, "backup-restore", ["1initech", "1initech-20261101T020000Z-scheduled.zip"]);
    expect(badId.code).to.equal(1);
    expect(badId.out).to.contain("tenant id is not a valid tenant id");
    const untouched = await apps.readNamespacedDeployment({ name: "initech-odoo", namespace: "tenant-initech" });
    expect(untouched.metadata?.generation).to.equal(before.metadata?.generation);
    expect((await batch.listNamespacedJob({ namespace: "tenant-initech", labelSelector: "odoo-saas.io/backup-action in (backup,restore)" })).items).to.deep.equal([]);
  });
  it("owner uploads (KubernetesUploadRestorer): the importer pod never runs on simulated nodes, so the upload is unknown and nothing is stopped or changed", async () => {
    // KWOK marks the importer pod finished without running it: the zip is never sent, Odoo is
    // never scaled down, and the outcome says the restore did not start instead of claiming it.
    const apps = cluster.kc.makeApiClient(k8s.AppsV1Api);
    const batch = cluster.kc.makeApiClient(k8s.BatchV1Api);
    const before = await apps.readNamespacedDeployment({ name: "acme-odoo", namespace: "tenant-acme" });
    const zip = path.join(os.tmpdir(), `never-sent-${process.pid}.zip`);
    fs.writeFileSync(zip, "never read: the importer pod never runs here");
    const phases: string[] = [];
    const restorer = new KubernetesUploadRestorer(cluster.kc, { startTimeoutMs: 60_000, pollMs: 500 });
    const outcome = await restorer.restore(
      { tenant: "acme", file: zip, limits: { maxDumpBytes: 1e9, maxFilestoreBytes: 1e9, maxEntries: 1000, maxCompressionRatio: 200, odooMajor: "17.0" } },
      (phase) => phases.push(phase),
    );
    fs.rmSync(zip, { force: true });
    expect(outcome.state).to.equal("unknown");
    if (outcome.state !== "unknown") return;
    // Either the node reported the pod finished, or it reported it Running and an exec got no answer.
    expect(outcome.reason).to.match(/^your database has not been restored: the worker that restores it in your instance's space (never ran|did not answer)\. Nothing in your instance was changed/);
    expect(outcome.detail).to.match(/^the importer pod (of Job tenant-acme\/acme-backup-import-\d+ ended \(Succeeded\) before the restore started|tenant-acme\/acme-backup-import-\d+-\w+ did not answer: .+)$/);
    expect(phases).to.deep.equal(["waiting"]);
    const after = await apps.readNamespacedDeployment({ name: "acme-odoo", namespace: "tenant-acme" });
    expect(after.metadata?.generation).to.equal(before.metadata?.generation);
    expect(after.metadata?.annotations?.["odoo-saas.io/replicas-before-restore"]).to.equal(undefined);
    // The importer Job (from the CronJob, volumes writable) is deleted after the attempt.
    const deadline = Date.now() + 60_000;
    for (;;) {
      const importers = await batch.listNamespacedJob({ namespace: "tenant-acme", labelSelector: "odoo-saas.io/backup-action=import" });
      if (importers.items.every((j) => j.metadata?.deletionTimestamp !== undefined)) break;
      if (Date.now() > deadline) throw new Error(`importer Jobs left behind: ${importers.items.map((j) => j.metadata?.name).join(", ")}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  });
});

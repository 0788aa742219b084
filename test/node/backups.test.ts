/**
 * Backups on the real node (issue 20, "Backups"), on tenant acme as tenant.test.ts deployed it:
 * - a scheduled backup: `kubectl create job --from=cronjob/acme-backup`, unchanged, so it runs
 *   as the schedule would; pg_dump in the locally built backup image reaches PostgreSQL only
 *   through the tenant's NetworkPolicies, and the archive lands on the backup volume;
 * - the owner's download (KubernetesBackupAccess: a reader Job, `cat` over pods/exec) streams
 *   exactly the bytes on the volume, read there by sha256sum in another pod of the same Job
 *   template; the bytes are a valid Odoo archive (our verifier, and Python's zipfile as Odoo's
 *   restore reads it) holding the row and the file written before;
 * - restoreTenant (list Job, Odoo scaled down, safety backup, restore Job, Odoo back) brings
 *   the database (pg_dump, as the superuser, line for line) and the filestore (every file's
 *   SHA-256) back identical after both were changed.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect } from "chai";
import * as k8s from "@kubernetes/client-node";
import { KubernetesBackupAccess } from "../../automation/kube-backup-access";
import { repoRoot } from "../../automation/engine/engine-env";
import { openVerifiedArchive } from "../../backup/archive/read-archive";
import { restoreTenant } from "../../backup/k8s";
import { jobLog, waitForJob } from "../../backup/k8s/kube-wait";
import { BACKUP_DIR } from "../../components/specs/backup";
import { tenantNames } from "../../components/naming";
import { filestoreDigest, runJobOfTemplate, tenantDump, tenantSql, writeInOdoo } from "./pod-exec";
import { podReady, realCluster, waitFor } from "./real-cluster";

const names = tenantNames("acme");
const NS = names.namespace;
const FILESTORE = `/var/lib/odoo/filestore/${names.database}`;
const PARAM = "odoo_saas.node_backup_test";

describe("real node: scheduled backup, owner download and restore of a tenant", function () {
  this.timeout(600_000);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "node-backups-"));
  const attachment = randomBytes(200_000);
  const attachmentPath = `${FILESTORE}/4e/4e0d${attachment.subarray(0, 8).toString("hex")}`;
  let backupName = "";
  let atBackup = { dump: "", files: "" };
  after(() => fs.rmSync(work, { recursive: true, force: true }));

  it("a Job made from the CronJob as `kubectl create job --from` makes it runs pg_dump through the tenant's policies and writes a scheduled archive to the backup volume", async () => {
    await tenantSql("acme", names.database, "SET ROLE odoo_app; DELETE FROM ir_config_parameter WHERE key LIKE :'key' || '%'; INSERT INTO ir_config_parameter (key, value) VALUES (:'key', 'at backup time');", { key: PARAM });
    await writeInOdoo("acme", attachmentPath, attachment);
    atBackup = { dump: await tenantDump("acme"), files: await filestoreDigest("acme", FILESTORE) };
    expect(atBackup.dump).to.contain(PARAM);
    expect(atBackup.files).to.contain(createHash("sha256").update(attachment).digest("hex"));

    const job = `acme-backup-by-hand-${Math.floor(Date.now() / 1000)}`;
    const t0 = Date.now();
    execFileSync(path.join(repoRoot(), ".tools", "bin", "kubectl"), ["create", "job", job, "--from", `cronjob/${names.backup}`, "-n", NS], { env: { ...process.env, KUBECONFIG: realCluster().kubeconfig }, stdio: "pipe" });
    const kc = realCluster().kc;
    const outcome = await waitForJob(kc.makeApiClient(k8s.BatchV1Api), NS, job, { timeoutMs: 240_000, pollMs: 1000 });
    const log = await jobLog(kc.makeApiClient(k8s.CoreV1Api), NS, job);
    expect(outcome, log).to.deep.equal({ succeeded: true });
    console.log(`      (scheduled backup Job done in ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    backupName = /^(acme-\d{8}T\d{6}Z-scheduled\.zip)$/m.exec(log)?.[1] ?? "";
    expect(backupName, log).to.not.equal("");
    const pods = await kc.makeApiClient(k8s.CoreV1Api).listNamespacedPod({ namespace: NS, labelSelector: `job-name=${job}` });
    expect(pods.items[0]?.spec?.nodeName).to.equal("real-node-1");
    // The Job's pod is a database client by its labels only: that is what the policies admit.
    expect(pods.items[0]?.metadata?.labels?.["odoo-saas.io/db-client"]).to.equal("true");
  });

  it("the owner's download over pods/exec streams the bytes on the volume (same SHA-256), a valid Odoo archive with the data", async () => {
    const onVolume = await runJobOfTemplate("acme", "acme-backup-sha256", ["sha256sum", `${BACKUP_DIR}/acme/${backupName}`]);
    expect(onVolume.ok, onVolume.log).to.equal(true);
    const volumeSha = /^([0-9a-f]{64}) /m.exec(onVolume.log)?.[1];
    expect(volumeSha, onVolume.log).to.match(/^[0-9a-f]{64}$/);

    const access = new KubernetesBackupAccess(realCluster().kc, { pollMs: 500 });
    const listed = (await access.list("acme")).find((b) => b.name === backupName);
    expect(listed?.status).to.equal("complete");
    const download = await access.download("acme", backupName, "content");
    if (download?.type !== "stream") throw new Error(`expected a stream, got ${JSON.stringify(download)}`);
    const file = path.join(work, backupName);
    const hash = createHash("sha256");
    const out = fs.createWriteStream(file);
    for await (const chunk of download.body) { hash.update(chunk as Buffer); out.write(chunk as Buffer); }
    await new Promise((r) => out.end(r));
    expect(hash.digest("hex")).to.equal(volumeSha);
    expect(fs.statSync(file).size).to.equal(listed?.size);

    const archive = await openVerifiedArchive(file, "acme", () => undefined);
    try {
      expect(archive.manifest).to.include({ odoo_dump: "1", db_name: "acme", kind: "scheduled", tenant: "acme" });
      expect(archive.manifest.major_version).to.match(/^1[78]\.0$/);
      expect(archive.manifest.modules).to.have.property("base");
      expect(archive.filestoreFiles()).to.include(attachmentPath.slice(FILESTORE.length + 1));
      let dump = "";
      for await (const chunk of await archive.openDump()) dump += (chunk as Buffer).toString("utf8");
      expect(dump).to.contain(PARAM).and.to.contain("at backup time");
    } finally {
      archive.close();
    }
    // Odoo's restore opens the zip with Python's zipfile: it reads every member's CRC.
    const py = spawnSync("python3", ["-c", "import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); print(z.testzip()); print(sorted(n for n in z.namelist() if not n.startswith('filestore/')))", file], { encoding: "utf8" });
    expect(py.stdout).to.equal("None\n['dump.sql', 'manifest.json']\n");
    // The reader Job is removed once the stream ended.
    await waitFor("the reader Job gone", async () => {
      const jobs = await realCluster().kc.makeApiClient(k8s.BatchV1Api).listNamespacedJob({ namespace: NS, labelSelector: "odoo-saas.io/backup-action=download" });
      return jobs.items.every((j) => j.metadata?.deletionTimestamp !== undefined) ? true : undefined;
    }, 60_000);
  });

  it("restoreTenant brings the database and the filestore back identical after both changed", async () => {
    await tenantSql("acme", names.database, "SET ROLE odoo_app; UPDATE ir_config_parameter SET value = 'changed after' WHERE key = :'key'; INSERT INTO ir_config_parameter (key, value) VALUES (:'key' || '.new', 'new');", { key: PARAM });
    await writeInOdoo("acme", `${FILESTORE}/ff/ff00new`, Buffer.from("written after the backup"));
    await writeInOdoo("acme", attachmentPath, Buffer.from("overwritten"));
    expect(await tenantDump("acme")).to.not.equal(atBackup.dump);
    expect(await filestoreDigest("acme", FILESTORE)).to.not.equal(atBackup.files);

    const t0 = Date.now();
    const report = await restoreTenant(realCluster().kc, "acme", backupName, { pollMs: 1000, readyTimeoutMs: 300_000 });
    expect(report.ok, report.error).to.equal(true);
    expect(report.safetyBackupJob).to.be.a("string");
    console.log(`      (restore with its safety backup done in ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    await waitFor("the Odoo stand-in Ready again", () => podReady(NS, "app.kubernetes.io/name=odoo"), 300_000);
    expect(await tenantDump("acme")).to.equal(atBackup.dump);
    expect(await filestoreDigest("acme", FILESTORE)).to.equal(atBackup.files);
  });
});

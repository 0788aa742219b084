import { expect } from "chai";
import type { V1CronJob } from "@kubernetes/client-node";
import { jobFromCronJob } from "../../backup/k8s/job-from-cronjob";
import { jobName, tenantObjects } from "../../backup/k8s/names";
import { parseListOutput } from "../../backup/k8s/backup-jobs";
import { jobOutcome, labelSelectorString } from "../../backup/k8s/kube-wait";
import { readerJob } from "../../automation/kube-backup-access";

function cronJob(): V1CronJob {
  return {
    apiVersion: "batch/v1",
    kind: "CronJob",
    metadata: { name: "acme-backup", namespace: "tenant-acme", uid: "6c1f6a2e-0000-4000-8000-000000000001", labels: { "on-the-cronjob": "only" } },
    spec: {
      schedule: "0 2 * * *",
      jobTemplate: {
        metadata: {
          labels: { "app.kubernetes.io/part-of": "odoo-saas", "odoo-saas.io/tenant": "acme" },
          annotations: { "example.com/note": "from-template" },
        },
        spec: {
          backoffLimit: 2,
          template: {
            metadata: { labels: { "odoo-saas.io/tenant": "acme" }, annotations: { "pod-annotation": "kept" } },
            spec: {
              restartPolicy: "Never",
              serviceAccountName: "acme-backup",
              containers: [
                {
                  name: "backup",
                  image: "registry.example/odoo-saas-backup:1",
                  args: ["backup"],
                  volumeMounts: [
                    { name: "odoo-data", mountPath: "/var/lib/odoo", readOnly: true },
                    { name: "tmp", mountPath: "/tmp" },
                  ],
                  env: [
                    { name: "TENANT_ID", value: "acme" },
                    { name: "BACKUP_KIND", value: "scheduled" },
                    { name: "PGPASSWORD", valueFrom: { secretKeyRef: { name: "acme-db", key: "password" } } },
                  ],
                },
                { name: "sidecar", image: "busybox", volumeMounts: [{ name: "other", mountPath: "/x", readOnly: true }] },
              ],
              volumes: [
                { name: "odoo-data", persistentVolumeClaim: { claimName: "acme-odoo-data", readOnly: true } },
                { name: "tmp", emptyDir: {} },
                { name: "other", persistentVolumeClaim: { claimName: "other", readOnly: true } },
              ],
            },
          },
        },
      },
    },
  };
}

describe("Job from CronJob (kubectl create job --from=cronjob)", () => {
  it("copies jobTemplate labels and spec, adds the manual annotation and a controller ownerReference", () => {
    const source = cronJob();
    const job = jobFromCronJob(source, { name: "acme-backup-backup-1700000000", action: "backup" });
    expect(job.apiVersion).to.equal("batch/v1");
    expect(job.kind).to.equal("Job");
    expect(job.metadata?.name).to.equal("acme-backup-backup-1700000000");
    expect(job.metadata?.namespace).to.equal("tenant-acme");
    expect(job.metadata?.labels).to.deep.equal({
      "app.kubernetes.io/part-of": "odoo-saas",
      "odoo-saas.io/tenant": "acme",
      "odoo-saas.io/backup-action": "backup",
    });
    expect(job.metadata?.labels).to.not.have.property("on-the-cronjob");
    expect(job.metadata?.annotations).to.deep.equal({
      "cronjob.kubernetes.io/instantiate": "manual",
      "example.com/note": "from-template",
      "odoo-saas.io/backup-action": "backup",
    });
    expect(job.metadata?.ownerReferences).to.deep.equal([
      { apiVersion: "batch/v1", kind: "CronJob", name: "acme-backup", uid: "6c1f6a2e-0000-4000-8000-000000000001", controller: true },
    ]);
    expect(job.spec).to.deep.equal(source.spec!.jobTemplate.spec);
    expect(job.spec).to.not.equal(source.spec!.jobTemplate.spec); // a copy
    expect(job.spec?.template.metadata?.annotations).to.deep.equal({ "pod-annotation": "kept" });
  });

  it("template annotations win over the manual marker, as in kubectl", () => {
    const source = cronJob();
    source.spec!.jobTemplate.metadata!.annotations!["cronjob.kubernetes.io/instantiate"] = "something-else";
    const job = jobFromCronJob(source, { name: "j", action: "backup" });
    expect(job.metadata?.annotations?.["cronjob.kubernetes.io/instantiate"]).to.equal("something-else");
  });

  it("overrides BACKUP_KIND on the backup container only, leaving the CronJob untouched", () => {
    const source = cronJob();
    const before = JSON.stringify(source);
    const job = jobFromCronJob(source, { name: "j", action: "backup", env: { BACKUP_KIND: "on-demand" } });
    const [backup, sidecar] = job.spec!.template.spec!.containers;
    expect(backup!.env).to.deep.equal([
      { name: "TENANT_ID", value: "acme" },
      { name: "PGPASSWORD", valueFrom: { secretKeyRef: { name: "acme-db", key: "password" } } },
      { name: "BACKUP_KIND", value: "on-demand" },
    ]);
    expect(backup!.args).to.deep.equal(["backup"]);
    expect(sidecar!.env).to.equal(undefined);
    expect(JSON.stringify(source)).to.equal(before);
  });

  it("builds a restore Job: the CLI command with `restore <name>`, no retries, the filestore writable", () => {
    const source = cronJob();
    const job = jobFromCronJob(source, { name: "j", action: "restore", args: ["restore", "acme-20240501T020000Z-scheduled.zip"], backoffLimit: 0, writableVolumes: true });
    const backup = job.spec!.template.spec!.containers[0]!;
    expect(backup.volumeMounts).to.deep.equal([
      { name: "odoo-data", mountPath: "/var/lib/odoo" },
      { name: "tmp", mountPath: "/tmp" },
    ]);
    expect(job.spec!.template.spec!.volumes![0]).to.deep.equal({ name: "odoo-data", persistentVolumeClaim: { claimName: "acme-odoo-data" } });
    // Volumes only the other container mounts stay as they were, and so does the CronJob.
    expect(job.spec!.template.spec!.volumes![2]!.persistentVolumeClaim!.readOnly).to.equal(true);
    expect(job.spec!.template.spec!.containers[1]!.volumeMounts![0]!.readOnly).to.equal(true);
    expect(source.spec!.jobTemplate.spec!.template.spec!.containers[0]!.volumeMounts![0]!.readOnly).to.equal(true);
    expect(backup.command).to.deep.equal(["node", "/app/dist/backup/cli.js"]);
    expect(backup.args).to.deep.equal(["restore", "acme-20240501T020000Z-scheduled.zip"]);
    expect(job.spec!.backoffLimit).to.equal(0);
    expect(job.metadata?.labels?.["odoo-saas.io/backup-action"]).to.equal("restore");
  });

  it("refuses a CronJob without uid or jobTemplate, and an ambiguous container list", () => {
    const noUid = cronJob();
    delete noUid.metadata!.uid;
    expect(() => jobFromCronJob(noUid, { name: "j", action: "backup" })).to.throw(/uid/);
    const noTemplate = cronJob();
    delete (noTemplate.spec!.jobTemplate as { spec?: unknown }).spec;
    expect(() => jobFromCronJob(noTemplate, { name: "j", action: "backup" })).to.throw(/jobTemplate/);
    const ambiguous = cronJob();
    ambiguous.spec!.jobTemplate.spec!.template.spec!.containers[0]!.name = "main";
    expect(() => jobFromCronJob(ambiguous, { name: "j", action: "backup", env: { A: "b" } })).to.throw(/none is named "backup"/);
  });

  it("names fit Kubernetes limits and follow the component's conventions", () => {
    expect(tenantObjects("acme")).to.deep.equal({ namespace: "tenant-acme", cronJob: "acme-backup", deployment: "acme-odoo" });
    expect(() => tenantObjects("Bad_Tenant")).to.throw(/is not a valid tenant id: .*not a DNS label/);
    const name = jobName(`${"a".repeat(45)}-backup`, "restore", new Date(1_700_000_000_000));
    expect(name.length).to.be.at.most(63);
    expect(name).to.match(/^a+-restore-1700000000$/);
    expect(jobName("acme-backup", "list", new Date(1_700_000_000_000))).to.equal("acme-backup-list-1700000000");
  });

  it("reads Job outcomes, selectors and the list Job's output", () => {
    expect(jobOutcome({ status: { conditions: [{ type: "Complete", status: "True" }] } })).to.deep.equal({ succeeded: true });
    expect(jobOutcome({ status: { conditions: [{ type: "Failed", status: "True", reason: "BackoffLimitExceeded", message: "x" }] } })).to.deep.equal({
      succeeded: false,
      reason: "BackoffLimitExceeded: x",
    });
    expect(jobOutcome({ status: {} })).to.equal(undefined);
    expect(labelSelectorString({ matchLabels: { app: "odoo", "odoo-saas.io/tenant": "acme" } })).to.equal("app=odoo,odoo-saas.io/tenant=acme");
    const log = [
      "2024-05-01T00:00:00Z list acme: something on stderr",
      '{"format":"odoo-saas-backup-list/1","tenant":"acme","backups":[{"name":"acme-20240501T020000Z-scheduled.zip","kind":"scheduled","created":"2024-05-01T02:00:00.000Z","size":10,"status":"complete","modified":"2024-05-01T02:01:00.000Z"}]}',
    ].join("\n");
    expect(parseListOutput(log).map((b) => b.name)).to.deep.equal(["acme-20240501T020000Z-scheduled.zip"]);
    expect(() => parseListOutput("nothing")).to.throw(/no backup list/);
  });

  it("builds the owner-download reader Job: idle, every volume read-only, bounded, the CronJob untouched", () => {
    const source = cronJob();
    const before = JSON.stringify(source);
    const job = readerJob(source, "acme-backup-download-1");
    expect(JSON.stringify(source)).to.equal(before);
    expect(job.metadata?.labels?.["odoo-saas.io/backup-action"]).to.equal("download");
    expect(job.metadata?.ownerReferences?.[0]).to.include({ kind: "CronJob", name: "acme-backup", controller: true });
    expect(job.spec).to.include({ backoffLimit: 0, activeDeadlineSeconds: 21600, ttlSecondsAfterFinished: 60 });
    const pod = job.spec?.template.spec;
    const backup = pod?.containers.find((c) => c.name === "backup");
    expect(backup?.command).to.deep.equal(["node", "-e", "setInterval(() => {}, 1 << 30)"]);
    expect(backup?.args).to.deep.equal([]);
    expect(backup?.volumeMounts?.map((m) => [m.name, m.readOnly])).to.deep.equal([["odoo-data", true], ["tmp", true]]);
    expect(pod?.volumes?.filter((v) => v.persistentVolumeClaim).map((v) => v.persistentVolumeClaim?.readOnly)).to.deep.equal([true, true]);
    // Same service account, image and environment as the scheduled backup: it reads the same store.
    expect(pod?.serviceAccountName).to.equal("acme-backup");
    expect(backup?.env).to.deep.equal(source.spec?.jobTemplate.spec?.template.spec?.containers[0]?.env);
  });
});

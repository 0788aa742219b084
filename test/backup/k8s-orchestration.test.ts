// The Kubernetes side against a small fake API server on 127.0.0.1 (no cluster exists here yet):
// the order of calls, the Job bodies sent, and that Odoo is scaled back also after a failure.
import { expect } from "chai";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { KubeConfig } from "@kubernetes/client-node";
import { listTenantBackups, restoreTenant, startOnDemandBackup } from "../../backup/k8s";

interface Call {
  method: string;
  path: string;
  body?: any;
}

const NS = "/namespaces/tenant-acme";
const BACKUP = "acme-20240501T020000Z-scheduled.zip";

export class FakeApi {
  calls: Call[] = [];
  replicas = 2;
  annotations: Record<string, string> = {};
  pods = 2;
  ready = 2;
  jobs = new Map<string, any>();
  failAction: string | undefined;
  logs: Record<string, string> = {};
  /** What a list Job prints when no log was set for it: the store's backups. */
  stored: Array<{ name: string; status: "complete" | "incomplete" }> = [{ name: BACKUP, status: "complete" }];
  /** Job creations answered 409 AlreadyExists before the next succeeds. */
  conflicts = 0;
  private server = http.createServer((req, res) => this.handle(req, res));

  async start(): Promise<KubeConfig> {
    await new Promise<void>((r) => this.server.listen(0, "127.0.0.1", r));
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: "fake", server: `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`, skipTLSVerify: true }],
      users: [{ name: "u", token: "t" }],
      contexts: [{ name: "c", cluster: "fake", user: "u" }],
      currentContext: "c",
    });
    return kc;
  }

  stop(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    let raw = "";
    req.on("data", (c) => (raw += c));
    req.on("end", () => {
      const url = new URL(req.url!, "http://x");
      const call: Call = { method: req.method!, path: url.pathname + (url.search ? url.search : "") };
      if (raw) call.body = JSON.parse(raw);
      this.calls.push(call);
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(typeof body === "string" ? body : JSON.stringify(body));
      };
      const p = url.pathname;
      if (p === `/apis/batch/v1${NS}/cronjobs/acme-backup`) return send(200, this.cronJob());
      if (p === `/apis/apps/v1${NS}/deployments/acme-odoo` && req.method === "GET") return send(200, this.deployment());
      if (p === `/apis/apps/v1${NS}/deployments/acme-odoo` && req.method === "PATCH") {
        expect(req.headers["content-type"]).to.equal("application/merge-patch+json");
        const patch = JSON.parse(raw);
        if (patch.spec?.replicas !== undefined) {
          this.replicas = patch.spec.replicas;
          this.ready = this.replicas; // the fake becomes ready at once
        }
        for (const [k, v] of Object.entries(patch.metadata?.annotations ?? {})) {
          if (v === null) delete this.annotations[k];
          else this.annotations[k] = v as string;
        }
        return send(200, this.deployment());
      }
      if (p === `/api/v1${NS}/pods`) {
        const selector = url.searchParams.get("labelSelector") ?? "";
        if (selector.startsWith("app=odoo")) {
          const items = Array.from({ length: this.pods }, (_, i) => ({ metadata: { name: `odoo-${i}` } }));
          if (this.replicas === 0) this.pods = 0; // pods vanish after one more poll
          return send(200, { items });
        }
        const job = /job-name=(.+)$/.exec(selector)?.[1];
        // A download's reader pod runs (its exec is another matter: this fake speaks no WebSocket).
        const running = job !== undefined && this.jobs.get(job)?.metadata.labels["odoo-saas.io/backup-action"] === "download" ? { status: { phase: "Running" } } : {};
        return send(200, { items: job && this.jobs.has(job) ? [{ metadata: { name: `${job}-pod`, creationTimestamp: "2024-05-01T00:00:00Z" }, ...running }] : [] });
      }
      const log = /^\/api\/v1\/namespaces\/tenant-acme\/pods\/(.+)-pod\/log$/.exec(p);
      if (log) {
        res.writeHead(200, { "content-type": "text/plain" }); // as the real API server sends logs
        const isList = this.jobs.get(log[1]!)?.metadata.labels["odoo-saas.io/backup-action"] === "list";
        return res.end(this.logs[log[1]!] ?? (isList ? this.listLog() : ""));
      }
      if (p === `/apis/batch/v1${NS}/jobs` && req.method === "POST") {
        const job = JSON.parse(raw);
        if (this.conflicts > 0) {
          this.conflicts--;
          return send(409, { kind: "Status", status: "Failure", reason: "AlreadyExists", code: 409, message: `jobs.batch "${job.metadata.name}" already exists` });
        }
        this.jobs.set(job.metadata.name, job);
        return send(201, job);
      }
      const jobPath = /^\/apis\/batch\/v1\/namespaces\/tenant-acme\/jobs\/(.+)$/.exec(p);
      if (jobPath && req.method === "GET") {
        const job = this.jobs.get(jobPath[1]!);
        const action = job.metadata.labels["odoo-saas.io/backup-action"];
        const failed = action === this.failAction;
        return send(200, { ...job, status: { conditions: [{ type: failed ? "Failed" : "Complete", status: "True", ...(failed ? { reason: "BackoffLimitExceeded", message: "Job has reached the specified backoff limit" } : {}) }] } });
      }
      if (jobPath && req.method === "DELETE") return send(200, { kind: "Status", status: "Success" });
      send(404, { kind: "Status", status: "Failure", code: 404, message: `fake has no ${req.method} ${p}` });
    });
  }

  private listLog(): string {
    const backups = this.stored.map((b) => ({ ...b, kind: "scheduled", created: "2024-05-01T02:00:00.000Z", size: 42, modified: "2024-05-01T02:00:09.000Z" }));
    return `${JSON.stringify({ format: "odoo-saas-backup-list/1", tenant: "acme", backups })}\n`;
  }

  private cronJob() {
    return {
      apiVersion: "batch/v1",
      kind: "CronJob",
      metadata: { name: "acme-backup", namespace: "tenant-acme", uid: "uid-1" },
      spec: {
        schedule: "0 2 * * *",
        jobTemplate: {
          metadata: { labels: { "app.kubernetes.io/part-of": "odoo-saas", "odoo-saas.io/tenant": "acme" } },
          spec: {
            template: {
              spec: {
                restartPolicy: "Never",
                containers: [{ name: "backup", image: "backup:1", args: ["backup"], volumeMounts: [{ name: "odoo-data", mountPath: "/var/lib/odoo", readOnly: true }] }],
                volumes: [{ name: "odoo-data", persistentVolumeClaim: { claimName: "acme-odoo-data", readOnly: true } }],
              },
            },
          },
        },
      },
    };
  }

  private deployment() {
    return {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "acme-odoo", namespace: "tenant-acme", generation: 3, annotations: { ...this.annotations } },
      spec: { replicas: this.replicas, selector: { matchLabels: { app: "odoo", "odoo-saas.io/tenant": "acme" } }, template: {} },
      status: { observedGeneration: 3, replicas: this.replicas, readyReplicas: this.ready, updatedReplicas: this.ready },
    };
  }

  summary(): string[] {
    return this.calls
      .filter((c) => !(c.method === "GET" && /\/jobs\/|\/pods/.test(c.path)))
      .map((c) => {
        if (c.method === "PATCH") return `PATCH deployment replicas=${c.body.spec.replicas}`;
        if (c.method === "POST") return `POST job ${c.body.spec.template.spec.containers[0].args.join(" ")}`;
        return `${c.method} ${c.path.replace(/^\/apis?\/[^/]+(\/v1)?\/namespaces\/tenant-acme\//, "")}`;
      });
  }
}

describe("Kubernetes orchestration (fake API server)", function () {
  this.timeout(30_000);
  let api: FakeApi;
  let kc: KubeConfig;
  beforeEach(async () => {
    api = new FakeApi();
    kc = await api.start();
  });
  afterEach(() => api.stop());

  it("restore: scale Odoo to 0, wait for its pods, safety backup, restore, scale back and wait ready", async () => {
    let t = 1_700_000_000_000;
    const report = await restoreTenant(kc, "acme", BACKUP, { pollMs: 5, now: () => new Date((t += 1000)) });
    expect(report).to.deep.include({ ok: true, previousReplicas: 2, safetyBackupJob: "acme-backup-backup-1700000002", restoreJob: "acme-backup-restore-1700000003" });
    expect(api.summary()).to.deep.equal([
      // First the read-only listing that confirms the backup exists; only then is anything stopped.
      "GET cronjobs/acme-backup",
      "POST job list --json",
      "DELETE jobs/acme-backup-list-1700000001?propagationPolicy=Background",
      "GET cronjobs/acme-backup",
      "GET deployments/acme-odoo",
      "PATCH deployment replicas=0",
      "POST job backup --kind on-demand --no-prune",
      `POST job restore ${BACKUP}`,
      "PATCH deployment replicas=2",
      "GET deployments/acme-odoo",
    ]);
    // Odoo's pods were polled until gone before the first Job was created.
    const podsGone = api.calls.findIndex((c) => c.path.includes("/pods?labelSelector=app%3Dodoo") || c.path.includes("/pods?labelSelector=app=odoo"));
    expect(podsGone).to.be.greaterThan(-1);
    expect(podsGone).to.be.lessThan(api.calls.findIndex((c) => c.method === "POST" && c.body.spec.template.spec.containers[0].args[0] !== "list"));
    const restoreJob = api.jobs.get("acme-backup-restore-1700000003");
    expect(restoreJob.metadata.ownerReferences[0]).to.include({ kind: "CronJob", name: "acme-backup", uid: "uid-1", controller: true });
    expect(restoreJob.metadata.annotations["cronjob.kubernetes.io/instantiate"]).to.equal("manual");
    expect(restoreJob.spec.backoffLimit).to.equal(0);
    // The restore writes the filestore; the safety backup only reads it.
    expect(restoreJob.spec.template.spec.containers[0].volumeMounts[0].readOnly).to.equal(undefined);
    expect(restoreJob.spec.template.spec.volumes[0].persistentVolumeClaim.readOnly).to.equal(undefined);
    expect(api.jobs.get("acme-backup-backup-1700000002").spec.template.spec.containers[0].volumeMounts[0].readOnly).to.equal(true);
    expect(restoreJob.spec.template.spec.containers[0].command).to.deep.equal(["node", "/app/dist/backup/cli.js"]);
    expect(api.calls.find((c) => c.method === "PATCH")!.body.metadata.annotations).to.deep.equal({ "odoo-saas.io/replicas-before-restore": "2" });
    expect(api.annotations).to.deep.equal({});
    expect(api.replicas).to.equal(2);
  });

  it("restore of a backup that does not exist: refused after the read-only listing, before Odoo is stopped or any other Job is created", async () => {
    api.stored = [{ name: "acme-20240401T020000Z-scheduled.zip", status: "complete" }];
    let error: Error | undefined;
    await restoreTenant(kc, "acme", BACKUP, { pollMs: 5 }).catch((err: Error) => (error = err));
    expect(error?.name).to.equal("RestoreRefusedError");
    expect(error?.message).to.equal(`${BACKUP} does not exist in acme's backup store (1 backup(s) there, newest acme-20240401T020000Z-scheduled.zip); nothing was stopped or changed`);
    expect(api.calls.filter((c) => c.method === "PATCH")).to.deep.equal([]);
    expect([...api.jobs.values()].map((j) => j.spec.template.spec.containers[0].args)).to.deep.equal([["list", "--json"]]);
    expect(api.replicas).to.equal(2);
  });

  it("restore is refused when the listing cannot confirm the backup (list Job failed, nothing printed) or it is incomplete", async () => {
    const listJob = "acme-backup-list-1700000000";
    const cases: Array<[string, () => void, RegExp]> = [
      ["list Job failed", () => (api.failAction = "list"), /^cannot confirm that .* exists in acme's backup store \(listing backups failed/],
      ["nothing printed (a simulated node runs nothing)", () => (api.logs[listJob] = "\n"), /^cannot confirm that .* exists in acme's backup store \(the list Job printed no backup list\)/],
      ["incomplete upload", () => (api.stored = [{ name: BACKUP, status: "incomplete" }]), /is incomplete/],
    ];
    for (const [title, setup, message] of cases) {
      api.calls = [];
      api.jobs.clear();
      api.failAction = undefined;
      api.logs = {};
      api.stored = [{ name: BACKUP, status: "complete" }];
      setup();
      let error: Error | undefined;
      await restoreTenant(kc, "acme", BACKUP, { pollMs: 5, now: () => new Date(1_700_000_000_000) }).catch((err: Error) => (error = err));
      expect(error?.name, title).to.equal("RestoreRefusedError");
      expect(error?.message, title).to.match(message);
      expect(error?.message, title).to.contain("nothing was stopped or changed");
      expect(api.calls.filter((c) => c.method === "PATCH"), title).to.deep.equal([]);
      expect([...api.jobs.values()].map((j) => j.spec.template.spec.containers[0].args[0]), title).to.deep.equal(["list"]);
    }
  });

  it("restore failure: Odoo is scaled back anyway and the report carries the Job's log", async () => {
    api.failAction = "restore";
    const job = "acme-backup-restore-1700000000";
    api.logs[job] = "error: dump.sql does not match manifest.json";
    const report = await restoreTenant(kc, "acme", BACKUP, { pollMs: 5, safetyBackup: false, now: () => new Date(1_700_000_000_000) });
    expect(report.ok).to.equal(false);
    expect(report.error).to.match(/Job acme-backup-restore-1700000000 failed \(BackoffLimitExceeded/);
    expect(report.error).to.include("dump.sql does not match manifest.json");
    expect(api.replicas).to.equal(2);
    expect(api.summary().slice(-2)).to.deep.equal(["PATCH deployment replicas=2", "GET deployments/acme-odoo"]);
  });

  it("a restore interrupted earlier is resumed with the recorded replica count, not 0", async () => {
    api.replicas = 0;
    api.pods = 0;
    api.annotations = { "odoo-saas.io/replicas-before-restore": "3" };
    const report = await restoreTenant(kc, "acme", BACKUP, { pollMs: 5, safetyBackup: false });
    expect(report).to.deep.include({ ok: true, previousReplicas: 3 });
    expect(api.replicas).to.equal(3);
  });

  it("on-demand backup: a Job from the CronJob with BACKUP_KIND=on-demand; waits and reports the archive name", async () => {
    const job = "acme-backup-backup-1700000000";
    api.logs[job] = "2024-05-01T00:00:00Z backup acme: writing ...\nacme-20231114T221320Z-on-demand.zip\n";
    const result = await startOnDemandBackup(kc, "acme", { wait: true, pollMs: 5, now: new Date(1_700_000_000_000) });
    expect(result).to.deep.equal({ namespace: "tenant-acme", jobName: job, outcome: { succeeded: true }, backupName: "acme-20231114T221320Z-on-demand.zip" });
    const sent = api.jobs.get(job);
    expect(sent.spec.template.spec.containers[0].env).to.deep.equal([{ name: "BACKUP_KIND", value: "on-demand" }]);
    expect(sent.spec.template.spec.containers[0].args).to.deep.equal(["backup"]);
  });

  it("list: runs `list --json`, parses its output and deletes the Job", async () => {
    const job = "acme-backup-list-1700000000";
    api.logs[job] = `{"format":"odoo-saas-backup-list/1","tenant":"acme","backups":[{"name":"${BACKUP}","kind":"scheduled","created":"2024-05-01T02:00:00.000Z","size":42,"status":"complete","modified":"2024-05-01T02:00:09.000Z"}]}\n`;
    const backups = await listTenantBackups(kc, "acme", { pollMs: 5, now: new Date(1_700_000_000_000) });
    expect(backups.map((b) => [b.name, b.size, b.status])).to.deep.equal([[BACKUP, 42, "complete"]]);
    expect(api.jobs.get(job).spec.template.spec.containers[0].args).to.deep.equal(["list", "--json"]);
    expect(api.calls.some((c) => c.method === "DELETE" && c.path.includes(`/jobs/${job}`))).to.equal(true);
  });
});

/**
 * One stack per self-service tenant, through the real engine on the local control plane:
 * the runner the signup queue calls, the move of the old shared `<fleet>-selfservice` stack's
 * tenants into their own stacks (uids unchanged), the state in an S3-compatible backend, and
 * drift: an object deleted by hand is made again by the tenant's next operation.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect } from "chai";
import * as k8s from "@kubernetes/client-node";
import { CreateBucketCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import * as yaml from "js-yaml";
import { repoRoot } from "../../automation/engine/engine-env";
import { jsonLogger, Redactor } from "../../automation/log";
import type { ProgressEvent } from "../../automation/operation-events";
import type { OperationRun, RunResult } from "../../automation/operation-runner";
import { openProgramStack } from "../../automation/engine/program-stack";
import type { OperationKind, TenantRecord } from "../../automation/records/types";
import { migrateSelfServiceStack, selfServiceStackName } from "../../automation/engine/stack-migration";
import { TenantStackRunner } from "../../automation/engine/tenant-stack-runner";
import { tenantNames } from "../../components/naming";
import { startLocalCluster, type LocalCluster } from "../../local/local-cluster";
import type { TenantInput } from "../../tenants/schema";
import { stackConfigMap, tempEngine } from "../support/engine-stack";
import { tenant, validConfig } from "../support/fixtures";
import { startMoto, type MotoServer } from "../support/moto";

const FLEET = "dev";

function record(id: string, overrides: Partial<TenantRecord> = {}): TenantRecord {
  const at = new Date().toISOString();
  return { id, ownerId: `user-${id}`, adminEmail: `admin@${id}.example`, plan: "starter", odooVersion: "18.0", suspended: false, state: "pending", createdAt: at, updatedAt: at, lastOperationId: `op_${id}`, ...overrides };
}

function operation(kind: OperationKind, tenantId: string, attempt = 1): OperationRun & { events: ProgressEvent[] } {
  const events: ProgressEvent[] = [];
  const at = new Date().toISOString();
  return {
    operation: { id: `op_${kind}_${tenantId}`, kind, tenantId, ownerId: `user-${tenantId}`, requestedBy: `user-${tenantId}`, status: "running", createdAt: at, attempts: attempt },
    tenant: record(tenantId),
    attempt,
    progress: (event) => events.push(event),
    events,
  };
}

function expectOk(result: RunResult): Extract<RunResult, { ok: true }> {
  if (!result.ok) expect.fail(`run failed (${result.error.code}): ${result.error.message}; ${(result.details ?? []).join(" | ")}`);
  return result;
}

describe("one stack per self-service tenant, through the engine on a local control plane", function () {
  this.timeout(600_000);
  let cluster: LocalCluster;
  let objects: k8s.KubernetesObjectApi;
  let core: k8s.CoreV1Api;
  const engine = tempEngine("tenant-stacks");
  const fleetFile = path.join(engine.dir, "Pulumi.dev.yaml");
  const logged: string[] = [];
  const redactor = new Redactor();
  let runner: TenantStackRunner;

  const newRunner = (location = engine, extra: Record<string, string> = {}): TenantStackRunner =>
    new TenantStackRunner({ fleetStackName: FLEET, fleetStackFile: fleetFile, engine: location, extraEnv: { KUBECONFIG: cluster.kubeconfig, ...extra }, log: jsonLogger(redactor, { write: (line) => logged.push(line) }), redactor });

  const uids = async (namespace: string): Promise<Map<string, string>> => {
    const out = new Map<string, string>();
    for (const [apiVersion, kind] of [["v1", "Secret"], ["v1", "Service"], ["v1", "ConfigMap"], ["apps/v1", "Deployment"], ["apps/v1", "StatefulSet"], ["batch/v1", "CronJob"], ["networking.k8s.io/v1", "NetworkPolicy"]] as const) {
      for (const item of (await objects.list(apiVersion, kind, namespace)).items) out.set(`${kind}/${item.metadata?.name ?? ""}`, item.metadata?.uid ?? "");
    }
    const ns = await core.readNamespace({ name: namespace });
    out.set(`Namespace/${namespace}`, ns.metadata?.uid ?? "");
    return out;
  };

  before(() => {
    cluster = startLocalCluster(2);
    objects = k8s.KubernetesObjectApi.makeApiClient(cluster.kc);
    core = cluster.kc.makeApiClient(k8s.CoreV1Api);
    // The fleet stack: platform keys plus its own pull-request tenant.
    fs.writeFileSync(fleetFile, yaml.dump({ config: stackConfigMap(validConfig([tenant({ id: "opsco" })])) }));
    runner = newRunner();
  });
  after(() => {
    cluster?.down();
    fs.rmSync(engine.dir, { recursive: true, force: true });
  });

  it("creates a tenant in its own stack dev-tenant-<id>, reports its URL, and a second run changes nothing", async () => {
    const first = expectOk(await runner.run(operation("create", "solo")));
    expect(first.outputs?.url).to.equal("http://solo.odoo-saas.test");
    expect(first.changes.create ?? 0).to.be.greaterThan(20);
    expect(fs.existsSync(path.join(engine.backendDir, ".pulumi", "stacks", "odoo-saas", "dev-tenant-solo.json"))).to.equal(true);
    await core.readNamespace({ name: tenantNames("solo").namespace });
    const again = expectOk(await runner.run(operation("create", "solo")));
    expect(Object.keys(again.changes).filter((k) => k !== "same")).to.deep.equal([]);
    const creds = await runner.credentials("solo");
    expect(creds?.login).to.equal("admin@solo.example");
    expect(creds?.password.length ?? 0).to.be.greaterThan(15);
    // The password reached the log nowhere.
    expect(logged.join("\n")).not.to.include(creds?.password ?? "unset");
  });

  it("finds a Deployment deleted by hand (the live cluster is the truth) and makes it again on the next operation", async () => {
    const apps = cluster.kc.makeApiClient(k8s.AppsV1Api);
    const namespace = tenantNames("solo").namespace;
    const victim = (await apps.listNamespacedDeployment({ namespace })).items[0];
    const name = victim?.metadata?.name;
    if (name === undefined) throw new Error("solo has no Deployment");
    await apps.deleteNamespacedDeployment({ name, namespace });
    const repaired = expectOk(await runner.run(operation("create", "solo")));
    expect(repaired.changes.create ?? 0, JSON.stringify(repaired.changes)).to.be.at.least(1);
    const back = await apps.readNamespacedDeployment({ name, namespace });
    expect(back.metadata?.uid).to.not.equal(victim?.metadata?.uid);
  });

  it("runs updates of different tenants in parallel in one process", async () => {
    // When each engine reported its first step and when each run ended: the two must overlap.
    const spans = new Map<string, { firstStep?: number; end?: number }>();
    const results = await Promise.all(["para-a", "para-b"].map(async (id) => {
      const span: { firstStep?: number; end?: number } = {};
      spans.set(id, span);
      const run = operation("create", id);
      const progress = run.progress;
      run.progress = (event) => {
        if (event.type === "step" && span.firstStep === undefined) span.firstStep = Date.now();
        progress(event);
      };
      const result = await runner.run(run);
      span.end = Date.now();
      return result;
    }));
    for (const r of results) expectOk(r);
    for (const id of ["para-a", "para-b"]) await core.readNamespace({ name: tenantNames(id).namespace });
    const a = spans.get("para-a");
    const b = spans.get("para-b");
    expect(a?.firstStep, "para-a's engine reported steps").to.be.a("number");
    expect(b?.firstStep, "para-b's engine reported steps").to.be.a("number");
    expect(b?.firstStep as number, "para-b was applying while para-a's update still ran").to.be.lessThan(a?.end as number);
    expect(a?.firstStep as number, "para-a was applying while para-b's update still ran").to.be.lessThan(b?.end as number);
  });

  it("refuses a tenant the platform's schema rejects, before the engine runs, as not worth retrying", async () => {
    const run = operation("create", "badplan");
    run.tenant = record("badplan", { plan: "platinum" });
    const result = await runner.run(run);
    expect(result.ok).to.equal(false);
    if (result.ok) return;
    expect(result.retryable).to.equal(false);
    expect(result.error.message).to.match(/plan/);
    expect(run.events).to.deep.equal([]);
    expect(fs.existsSync(path.join(engine.backendDir, ".pulumi", "stacks", "odoo-saas", "dev-tenant-badplan.json"))).to.equal(false);
  });

  it("removes a lock left by an engine that died and applies the operation", async () => {
    const lockDir = path.join(engine.backendDir, ".pulumi", "locks", "organization", "odoo-saas", "dev-tenant-solo");
    fs.mkdirSync(lockDir, { recursive: true });
    // A pid that is not running: what kill -9 of a worker's engine leaves.
    fs.writeFileSync(path.join(lockDir, "dead.json"), JSON.stringify({ pid: 999_999, username: "root", hostname: os.hostname(), timestamp: new Date().toISOString() }));
    const result = expectOk(await runner.run(operation("suspend", "solo", 2)));
    expect(result.changes.update ?? 0).to.be.greaterThan(0);
    expect(fs.readdirSync(lockDir).filter((f) => f.endsWith(".json"))).to.deep.equal([]);
  });

  it("never removes a live engine's lock: the run is tried again later, and applies once the lock is gone", async () => {
    const lockDir = path.join(engine.backendDir, ".pulumi", "locks", "organization", "odoo-saas", "dev-tenant-solo");
    fs.mkdirSync(lockDir, { recursive: true });
    // A live pid on this host (this test process): an engine that may still be writing the state.
    const live = path.join(lockDir, "live.json");
    fs.writeFileSync(live, JSON.stringify({ pid: process.pid, username: "root", hostname: os.hostname(), timestamp: new Date().toISOString() }));
    try {
      for (const attempt of [1, 2]) {
        const result = await runner.run(operation("resume", "solo", attempt));
        expect(result.ok, `attempt ${attempt}`).to.equal(false);
        if (!result.ok) expect(result.retryable, `attempt ${attempt}: retried later`).to.equal(true);
        expect(fs.existsSync(live), `attempt ${attempt}: the live engine's lock is kept`).to.equal(true);
      }
    } finally {
      fs.rmSync(live, { force: true });
    }
    expectOk(await runner.run(operation("resume", "solo", 3)));
  });

  it("delete retires the tenant: its stack manages nothing of it, its namespace and database volume stay", async () => {
    const before = await uids(tenantNames("para-b").namespace);
    const result = expectOk(await runner.run(operation("delete", "para-b")));
    expect(result.changes.delete ?? 0).to.be.greaterThan(5);
    const after = await uids(tenantNames("para-b").namespace);
    expect(after.get(`Namespace/${tenantNames("para-b").namespace}`)).to.equal(before.get(`Namespace/${tenantNames("para-b").namespace}`));
    expect(after.has(`Deployment/${tenantNames("para-b").odoo}`)).to.equal(false);
  });

  it("tenant:purge refuses a deployed self-service tenant, and for a retired one deletes its namespace and removes its stack", async () => {
    const purge = (id: string) => spawnSync(process.execPath, [path.join(repoRoot(), "dist", "scripts", "tenant-purge.js"), id, "--confirm", id, "--stack", FLEET], {
      cwd: engine.dir, encoding: "utf8",
      env: { ...process.env, KUBECONFIG: cluster.kubeconfig, ODOO_SAAS_BACKEND_DIR: engine.backendDir, ODOO_SAAS_PULUMI_HOME: engine.pulumiHome },
    });
    const refused = purge("para-a");
    expect(refused.status, refused.stderr).to.equal(1);
    expect(refused.stderr).to.include("still deployed by its stack dev-tenant-para-a");
    await core.readNamespace({ name: tenantNames("para-a").namespace });
    // A live engine on the retired tenant's stack: purge refuses and removes nothing.
    const lockDir = path.join(engine.backendDir, ".pulumi", "locks", "organization", "odoo-saas", "dev-tenant-para-b");
    fs.mkdirSync(lockDir, { recursive: true });
    fs.writeFileSync(path.join(lockDir, "live.json"), JSON.stringify({ pid: process.pid, username: "root", hostname: os.hostname(), timestamp: new Date().toISOString() }));
    const busy = purge("para-b");
    fs.rmSync(path.join(lockDir, "live.json"), { force: true });
    expect(busy.status, busy.stderr).to.equal(1);
    expect(busy.stderr).to.include("an engine is running on stack dev-tenant-para-b");
    await core.readNamespace({ name: tenantNames("para-b").namespace });
    const done = purge("para-b");
    expect(done.status, done.stderr).to.equal(0);
    expect(done.stdout).to.include("removed its stack dev-tenant-para-b");
    expect(fs.existsSync(path.join(engine.backendDir, ".pulumi", "stacks", "odoo-saas", "dev-tenant-para-b.json"))).to.equal(false);
    const ns = await core.readNamespace({ name: tenantNames("para-b").namespace }).catch(() => undefined);
    // Deleting a namespace is asynchronous: gone, or terminating.
    expect(ns === undefined || ns.status?.phase === "Terminating").to.equal(true);
  });

  it("moves the tenants of the shared <fleet>-selfservice stack into their own stacks, every object's uid unchanged", async () => {
    const inputs: TenantInput[] = [tenant({ id: "old-one", ownerId: "user-old-one" }), tenant({ id: "old-two", plan: "business", ownerId: "user-old-two" })];
    const { stack: shared } = await openProgramStack({
      stackName: selfServiceStackName(FLEET), engine, kubeconfig: cluster.kubeconfig,
      config: stackConfigMap(validConfig(inputs)),
    });
    const up = await shared.up();
    expect(up.summary.result).to.equal("succeeded");
    const beforeUids = new Map<string, Map<string, string>>();
    for (const id of ["old-one", "old-two"]) beforeUids.set(id, await uids(tenantNames(id).namespace));

    const lines: string[] = [];
    const moved = await migrateSelfServiceStack({ fleetStackName: FLEET, fleetStackFile: fleetFile, stacks: runner.stacks, progress: (l) => lines.push(l) });
    expect(moved.moved.sort()).to.deep.equal(["old-one", "old-two"]);
    expect(moved.oldStackRemoved).to.equal(true);

    for (const id of ["old-one", "old-two"]) {
      const stack = await runner.stacks.stack(id);
      // The tenant's own stack finds everything as it is: nothing to create, replace or delete.
      const preview = await stack.preview();
      const changed = Object.entries(preview.changeSummary).filter(([op, n]) => op !== "same" && n > 0);
      expect(changed, `${id}: ${JSON.stringify(preview.changeSummary)}`).to.deep.equal([]);
      const run = operation("create", id);
      run.tenant = record(id, { plan: id === "old-two" ? "business" : "starter" });
      expectOk(await runner.run(run));
      expect(await uids(tenantNames(id).namespace)).to.deep.equal(beforeUids.get(id));
    }
    // Nothing left to do on the next start.
    expect(await migrateSelfServiceStack({ fleetStackName: FLEET, fleetStackFile: fleetFile, stacks: runner.stacks, progress: () => undefined })).to.deep.equal({ moved: [], oldStackRemoved: false });
  });

  describe("with the state in an S3-compatible backend (moto)", () => {
    let moto: MotoServer;
    before(async () => {
      moto = await startMoto();
      const s3 = new S3Client({ endpoint: moto.endpoint, region: "us-east-1", forcePathStyle: true, credentials: { accessKeyId: "test", secretAccessKey: "test" } });
      await s3.send(new CreateBucketCommand({ Bucket: "pulumi-state" }));
    });
    after(async () => moto?.stop());

    it("applies a tenant whose state another server, with its own workspace, then reads", async () => {
      // gocloud.dev's (AWS SDK v2) parameters, as the Go-built CLI reads them.
      const url = `s3://pulumi-state?endpoint=${encodeURIComponent(moto.endpoint)}&use_path_style=true&region=us-east-1`;
      const aws = { AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: "test", AWS_REGION: "us-east-1" };
      const shared = { PULUMI_CONFIG_PASSPHRASE: "shared-by-both-servers" };
      const first = tempEngine("s3-a");
      const second = tempEngine("s3-b");
      const saved = process.env.PULUMI_CONFIG_PASSPHRASE;
      process.env.PULUMI_CONFIG_PASSPHRASE = shared.PULUMI_CONFIG_PASSPHRASE;
      try {
        const a = newRunner({ ...first, backendUrl: url }, aws);
        expectOk(await a.run(operation("create", "s3co")));
        const s3 = new S3Client({ endpoint: moto.endpoint, region: "us-east-1", forcePathStyle: true, credentials: { accessKeyId: "test", secretAccessKey: "test" } });
        const keys = (await s3.send(new ListObjectsV2Command({ Bucket: "pulumi-state" }))).Contents?.map((o) => o.Key ?? "") ?? [];
        expect(keys.some((k) => k.includes("dev-tenant-s3co"))).to.equal(true);
        expect(fs.existsSync(path.join(first.backendDir, ".pulumi", "stacks"))).to.equal(false);
        const b = newRunner({ ...second, backendUrl: url }, aws);
        expect((await b.credentials("s3co"))?.url).to.equal("http://s3co.odoo-saas.test");
      } finally {
        if (saved === undefined) delete process.env.PULUMI_CONFIG_PASSPHRASE;
        else process.env.PULUMI_CONFIG_PASSPHRASE = saved;
        fs.rmSync(first.dir, { recursive: true, force: true });
        fs.rmSync(second.dir, { recursive: true, force: true });
      }
    });
  });
});

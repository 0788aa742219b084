/**
 * A hostile or unlucky customer cannot inherit or outlive kept data, through the real engine
 * and program on the local control plane, real PostgreSQL records and moto for S3:
 * - signup and the runner refuse an id whose namespace is someone's kept data, creating nothing;
 * - a failed create is rolled back with its namespace, so the owner's retry starts clean and
 *   its credentials match (the Secret and odoo.conf agree); a retried attempt reuses its state;
 * - purge deletes the S3 backups before freeing the id; the next owner of the id lists none;
 *   a purge that cannot delete them stops, exit 1, with the id still taken.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { expect } from "chai";
import * as k8s from "@kubernetes/client-node";
import { CreateBucketCommand, CreateMultipartUploadCommand, S3Client } from "@aws-sdk/client-s3";
import * as yaml from "js-yaml";
import { Readable } from "node:stream";
import { ApiError } from "../../automation/api-error";
import { StoreBackupAccess } from "../../automation/backup-access";
import { BackupService } from "../../automation/backup-service";
import { clusterReaderFromEnv } from "../../automation/cluster-status";
import { repoRoot } from "../../automation/engine/engine-env";
import { jsonLogger, Redactor } from "../../automation/log";
import type { OperationRun, RunResult } from "../../automation/operation-runner";
import { FleetPlatform } from "../../automation/fleet-platform";
import { BackupRequests } from "../../automation/records/backup-requests";
import { RecordsStore } from "../../automation/records/records-store";
import { newOperationId, type OperationKind, type TenantRecord } from "../../automation/records/types";
import { KubeTenantNamespaces } from "../../automation/tenant-namespace";
import { TenantService } from "../../automation/tenant-service";
import { TenantStackRunner } from "../../automation/engine/tenant-stack-runner";
import { TenantViews } from "../../automation/tenant-views";
import { formatBackupName } from "../../backup/backup-name";
import { openStore } from "../../backup/store/open-store";
import { tenantNames } from "../../components/naming";
import { startLocalCluster, type LocalCluster } from "../../local/local-cluster";
import { startPostgres, type PostgresServer } from "../../local/local-postgres";
import { stackConfigMap, tempEngine } from "../support/engine-stack";
import { validConfig } from "../support/fixtures";
import { startMoto, type MotoServer } from "../support/moto";
import { StackLocks } from "../../automation/engine/stack-lock";

const FLEET = "dev";
const BUCKET = "kept-backups";
const AWS = { AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: "test", AWS_REGION: "us-east-1" };

function run(kind: OperationKind, tenant: TenantRecord, attempt = 1): OperationRun {
  const at = new Date().toISOString();
  return {
    operation: { id: newOperationId(), kind, tenantId: tenant.id, ownerId: tenant.ownerId, requestedBy: tenant.ownerId, status: "running", createdAt: at, attempts: attempt },
    tenant, attempt, progress: () => undefined,
  };
}

function expectOk(result: RunResult): void {
  if (!result.ok) expect.fail(`run failed (${result.error.code}): ${result.error.message}; ${(result.details ?? []).join(" | ")}`);
}

describe("kept data: signup, retries and purge on a local control plane", function () {
  this.timeout(900_000);
  let cluster: LocalCluster;
  let core: k8s.CoreV1Api;
  let objects: k8s.KubernetesObjectApi;
  let moto: MotoServer;
  let pg: PostgresServer;
  let records: RecordsStore;
  let runner: TenantStackRunner;
  let service: TenantService;
  const engine = tempEngine("kept-data");
  const fleetFile = path.join(engine.dir, `Pulumi.${FLEET}.yaml`);
  const quiet = jsonLogger(new Redactor(), { quiet: true });
  const s3Store = () => ({ type: "s3", endpoint: moto.endpoint, bucket: BUCKET, region: "us-east-1", forcePathStyle: true, credentialsSecret: "backup-s3", prefix: "platform" });
  const storeOf = (tenant: string) => openStore({ kind: "s3", endpoint: moto.endpoint, bucket: BUCKET, region: "us-east-1", prefix: "platform", forcePathStyle: true, partSizeBytes: 5 * 2 ** 20 }, tenant);
  const signup = async (id: string, owner: string): Promise<TenantRecord> => {
    await service.create({ sub: owner, email: `${owner}@example.com`, isAdmin: false }, { id, plan: "starter" });
    const record = await records.tenant(id);
    if (!record) return expect.fail(`${id} not recorded`);
    return record;
  };
  const setState = (id: string, state: string) => records.pool.query("update odoo_saas.tenants set state = $2 where id = $1", [id, state]);
  const secretValue = async (namespace: string, name: string, key: string) =>
    Buffer.from((await core.readNamespacedSecret({ name, namespace })).data?.[key] ?? "", "base64").toString();
  const namespaceGone = async (name: string) => (await core.readNamespace({ name }).catch(() => undefined)) === undefined;
  const purge = (id: string, stack = FLEET) => spawnSync(process.execPath, [path.join(repoRoot(), "dist", "scripts", "tenant-purge.js"), id, "--confirm", id, "--stack", stack], {
    cwd: engine.dir, encoding: "utf8",
    env: {
      ...process.env, ...AWS, KUBECONFIG: cluster.kubeconfig, ODOO_SAAS_BACKEND_DIR: engine.backendDir, ODOO_SAAS_PULUMI_HOME: engine.pulumiHome,
      DATABASE_URL: `postgres://${pg.env.PGUSER}:${encodeURIComponent(pg.env.PGPASSWORD)}@${pg.env.PGHOST}:${pg.env.PGPORT}/kept`,
    },
  });

  const savedEnv = Object.fromEntries(Object.keys(AWS).map((k) => [k, process.env[k]]));
  before(async () => {
    // The owner's listing opens the store with the SDK's default credentials, as the server does.
    Object.assign(process.env, AWS);
    cluster = startLocalCluster(2);
    core = cluster.kc.makeApiClient(k8s.CoreV1Api);
    objects = k8s.KubernetesObjectApi.makeApiClient(cluster.kc);
    moto = await startMoto();
    const s3 = new S3Client({ endpoint: moto.endpoint, region: "us-east-1", forcePathStyle: true, credentials: { accessKeyId: "test", secretAccessKey: "test" } });
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    s3.destroy();
    pg = await startPostgres();
    pg.sql("postgres", "create database kept");
    records = await RecordsStore.open(`postgres://${pg.env.PGUSER}:${encodeURIComponent(pg.env.PGPASSWORD)}@${pg.env.PGHOST}:${pg.env.PGPORT}/kept`);
    fs.writeFileSync(fleetFile, yaml.dump({ config: stackConfigMap({ ...validConfig([]), backup: { store: s3Store() } }) }));
    runner = new TenantStackRunner({ fleetStackName: FLEET, fleetStackFile: fleetFile, engine, extraEnv: { KUBECONFIG: cluster.kubeconfig }, log: quiet, redactor: new Redactor() });
    const platform = new FleetPlatform(fleetFile, quiet);
    service = new TenantService({
      records, platform, views: new TenantViews(records, platform, clusterReaderFromEnv("none")), runner, tenantLimit: 10, log: quiet,
      namespaces: new KubeTenantNamespaces(cluster.kc),
    });
  });
  after(async () => {
    await records?.close();
    await pg?.stop();
    await moto?.stop();
    cluster?.down();
    fs.rmSync(engine.dir, { recursive: true, force: true });
    for (const [k, v] of Object.entries(savedEnv)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  it("refuses at signup and in the runner an id whose namespace is kept data outside its stack; nothing is created or changed", async () => {
    const name = tenantNames("heir").namespace;
    await core.createNamespace({ body: { metadata: { name } } });
    const kept = await core.createNamespacedSecret({ namespace: name, body: { metadata: { name: "heir-db" }, stringData: { password: "kept-password" } } });
    const owner = { sub: "mallory", email: "mallory@example.com", isAdmin: false };
    expect(await service.checkId(owner, "heir")).to.deep.equal({ id: "heir", available: false, problem: "\"heir\" is already taken; choose another name" });
    let refused: unknown;
    await service.create(owner, { id: "heir", plan: "starter" }).catch((err: unknown) => (refused = err));
    expect(refused).to.be.instanceOf(ApiError);
    expect((refused as ApiError).status).to.equal(409);
    expect(await records.tenant("heir"), "nothing recorded or queued").to.equal(undefined);
    // The cluster changed between signup and the runner: the runner refuses too, as final.
    const at = new Date().toISOString();
    const result = await runner.run(run("create", { id: "heir", ownerId: "mallory", adminEmail: "m@example.com", plan: "starter", odooVersion: "18.0", suspended: false, state: "pending", createdAt: at, updatedAt: at, lastOperationId: "op_x" }));
    expect(result.ok).to.equal(false);
    if (result.ok) return;
    expect(result.retryable).to.equal(false);
    expect(result.error).to.deep.equal({ code: "id_taken", message: "\"heir\" is already taken; choose another name" });
    const after = await core.readNamespacedSecret({ name: "heir-db", namespace: name });
    expect(after.metadata?.uid).to.equal(kept.metadata?.uid);
    expect(Buffer.from(after.data?.password ?? "", "base64").toString()).to.equal("kept-password");
    expect((await core.listNamespacedSecret({ namespace: name })).items.map((s) => s.metadata?.name)).to.deep.equal(["heir-db"]);
  });

  it("rolls back a failed create with the namespace it made, so the owner's retry creates matching credentials", async () => {
    const apps = cluster.kc.makeApiClient(k8s.AppsV1Api);
    /** The cluster refuses Deployments in `namespace` (a probe namespace shows when the policy is in force). */
    const refuseDeployments = async (namespace: string, message: string): Promise<() => Promise<void>> => {
      const name = `deny-${namespace}`;
      const probe = `${namespace}-probe`;
      const policy: Array<k8s.KubernetesObject & { spec: unknown }> = [
        { apiVersion: "admissionregistration.k8s.io/v1", kind: "ValidatingAdmissionPolicy", metadata: { name }, spec: { failurePolicy: "Fail", matchConstraints: { resourceRules: [{ apiGroups: ["apps"], apiVersions: ["v1"], operations: ["CREATE"], resources: ["deployments"] }] }, validations: [{ expression: "false", message }] } },
        { apiVersion: "admissionregistration.k8s.io/v1", kind: "ValidatingAdmissionPolicyBinding", metadata: { name }, spec: { policyName: name, validationActions: ["Deny"], matchResources: { namespaceSelector: { matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "In", values: [namespace, probe] }] } } } },
      ];
      for (const o of policy) await objects.create(o);
      await core.createNamespace({ body: { metadata: { name: probe } } });
      const body = { metadata: { name: "probe" }, spec: { selector: { matchLabels: { a: "b" } }, template: { metadata: { labels: { a: "b" } }, spec: { containers: [{ name: "c", image: "x" }] } } } };
      const denied = () => apps.createNamespacedDeployment({ namespace: probe, body, dryRun: "All" }).then(() => false, () => true);
      for (let i = 0; !(await denied()); i++) {
        if (i > 60) expect.fail("the admission policy never took effect");
        await new Promise((r) => setTimeout(r, 500));
      }
      return async () => {
        for (const o of [...policy].reverse()) await objects.delete(o);
        for (let i = 0; await denied(); i++) {
          if (i > 60) expect.fail("the admission policy was never lifted");
          await new Promise((r) => setTimeout(r, 500));
        }
      };
    };

    // The cluster refuses the Odoo Deployment: the namespace, Secrets and volumes exist by then.
    const id = "flaky";
    const name = tenantNames(id).namespace;
    let lift = await refuseDeployments(name, "refused by the test's admission policy");
    const first = await signup(id, "fiona");
    const failed = await runner.run(run("create", first));
    expect(failed.ok, "the create fails at the Odoo Deployment").to.equal(false);
    if (failed.ok) return;
    expect(failed.retryable).to.equal(false);
    expect(await namespaceGone(name), "the rolled-back create left no namespace with Secrets behind").to.equal(true);
    await lift();

    await setState(id, "failed");
    const again = await signup(id, "fiona"); // the owner tries the same name again
    expectOk(await runner.run(run("create", again)));
    const dbPassword = await secretValue(name, tenantNames(id).dbSecret, "password");
    expect(await secretValue(name, tenantNames(id).odooConfigSecret, "odoo.conf")).to.include(`db_password = ${dbPassword}`);

    // A retryable failure (no rollback): the next attempt reuses the state, passwords included.
    const second = "steady";
    const secondNs = tenantNames(second).namespace;
    lift = await refuseDeployments(secondNs, "connection refused (the test's admission policy)");
    const steady = await signup(second, "sam");
    const transient = await runner.run(run("create", steady));
    expect(transient.ok).to.equal(false);
    if (transient.ok) return;
    expect(transient.retryable).to.equal(true);
    const before = await secretValue(secondNs, tenantNames(second).dbSecret, "password");
    await lift();
    expectOk(await runner.run(run("create", steady, 2)));
    expect(await secretValue(secondNs, tenantNames(second).dbSecret, "password")).to.equal(before);
    expect(await secretValue(secondNs, tenantNames(second).odooConfigSecret, "odoo.conf")).to.include(`db_password = ${before}`);
  });

  it("purge deletes the S3 backups before freeing the id: the next owner of the id lists none", async () => {
    const id = "reborn";
    const first = await signup(id, "olga");
    expectOk(await runner.run(run("create", first)));
    const store = storeOf(id);
    await store.put(formatBackupName(id, new Date(Date.UTC(2026, 0, 1, 2)), "scheduled"), Readable.from([Buffer.from("olga's data")]));
    const s3 = new S3Client({ endpoint: moto.endpoint, region: "us-east-1", forcePathStyle: true, credentials: { accessKeyId: "test", secretAccessKey: "test" } });
    await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: `platform/${id}/${formatBackupName(id, new Date(Date.UTC(2026, 0, 2, 2)), "scheduled")}` }));
    s3.destroy();
    expectOk(await runner.run(run("delete", first)));
    await setState(id, "retired");

    // While a server's engine holds the tenant stack's lock, purge touches nothing.
    const lease = await new StackLocks({ connectionString: `postgres://${pg.env.PGUSER}:${encodeURIComponent(pg.env.PGPASSWORD)}@${pg.env.PGHOST}:${pg.env.PGPORT}/kept` })
      .tryAcquire(`${FLEET}-tenant-${id}`, () => undefined);
    if (!lease) return expect.fail("the stack's lock could not be taken");
    const locked = purge(id);
    await lease.release();
    expect(locked.status, locked.stderr).to.equal(1);
    expect(locked.stderr).to.include(`an engine is running on stack ${FLEET}-tenant-${id}`);
    expect(await namespaceGone(tenantNames(id).namespace)).to.equal(false);

    const done = purge(id);
    expect(done.status, done.stderr).to.equal(0);
    expect(done.stdout).to.include("1 object(s)");
    expect(done.stdout).to.include("1 unfinished upload(s)");
    expect(done.stdout).to.include(`the id "${id}" is free again`);
    expect(await namespaceGone(tenantNames(id).namespace)).to.equal(true);

    const next = await signup(id, "peter");
    expectOk(await runner.run(run("create", next)));
    await setState(id, "active");
    const backups = new BackupService({
      records, requests: new BackupRequests(records), log: quiet,
      access: new StoreBackupAccess({ openStore: storeOf, start: () => Promise.reject(new Error("not used")) }),
    });
    const listing = await backups.list({ sub: "peter", email: "peter@example.com", isAdmin: false }, id);
    expect(listing.backups).to.deep.equal([]);
  });

  it("a purge that cannot delete the backups stops with one sentence, exit 1, and keeps the namespace and the id", async () => {
    const id = "stuck";
    const first = await signup(id, "rosa");
    expectOk(await runner.run(run("create", first)));
    expectOk(await runner.run(run("delete", first)));
    await setState(id, "retired");
    // The same platform, with a bucket that does not exist: listing it fails.
    fs.writeFileSync(path.join(engine.dir, "Pulumi.broken.yaml"), yaml.dump({ config: stackConfigMap({ ...validConfig([]), backup: { store: { ...s3Store(), bucket: "no-such-bucket" } } }) }));
    const stopped = purge(id, "broken");
    expect(stopped.status).to.equal(1);
    // One sentence of purge's own (the SDK may add a Node version notice of its own).
    const own = stopped.stderr.split("\n").filter((line) => line.includes("\"stuck\""));
    expect(own, stopped.stderr).to.have.length(1);
    expect(own[0]).to.match(/^refusing to free "stuck": its backups in s3:\/\/no-such-bucket\/platform\/stuck\/ could not all be deleted \(.+\); nothing else was removed and the id stays taken/);
    await core.readNamespace({ name: tenantNames(id).namespace });
    expect((await records.tenant(id))?.state).to.equal("retired");
  });
});

/**
 * The signup server with its default program, the real `odooSaasProgram`, deployed by the
 * real engine (Go-built CLI, Kubernetes and random plugins) into a real local control plane:
 * a customer's signup reaches "succeeded" and its objects exist in the cluster, the
 * credentials the owner reads are the cluster's, suspend/resume scale Odoo, delete retires.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect } from "chai";
import * as k8s from "@kubernetes/client-node";
import * as yaml from "js-yaml";
import { startAuthStandIn, type AuthStandIn } from "../../local/local-supabase-auth";
import { jsonLogger, Redactor } from "../../automation/log";
import { startSignupApp, type SignupApp } from "../../automation/signup-app";
import type { OperationView } from "../../automation/tenant-views";
import { tenantNames } from "../../components/naming";
import { waitForPods } from "../../checks/cluster-view";
import { startLocalCluster, type LocalCluster } from "../../local/local-cluster";
import { databaseOf, engineLocation, harnessConfig, QUEUE_TIMINGS, request, userId } from "../support/signup-harness";

describe("the signup server's default program: the real one, on a local control plane", function () {
  this.timeout(600_000);
  let cluster: LocalCluster;
  let auth: AuthStandIn;
  let dir: string;
  let app: SignupApp;
  let token: string;
  const logLines: string[] = [];

  /** POST to "succeeded" of the first signup: what one more must stay close to. */
  let firstSignupMs = 0;

  const waitFor = async (operationId: string, as = token, timeoutMs = 300_000): Promise<OperationView> => {
    for (const deadline = Date.now() + timeoutMs; Date.now() < deadline;) {
      const res = await request<OperationView>(app.url, "GET", `/api/operations/${operationId}`, { token: as });
      if (res.body.status === "succeeded" || res.body.status === "failed") return res.body;
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`operation ${operationId} did not finish`);
  };

  before(async () => {
    cluster = startLocalCluster(3);
    auth = await startAuthStandIn();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "odoo-saas-real-program-"));
    fs.writeFileSync(path.join(dir, "Pulumi.dev.yaml"), yaml.dump({
      config: {
        "odoo-saas:baseDomain": "odoo-saas.test",
        "odoo-saas:storageClassName": "local-pool",
        "odoo-saas:ingress": { awaitLoadBalancer: false },
        "odoo-saas:tenants": [{ id: "acme", adminEmail: "admin@acme.example", plan: "starter" }],
      },
    }));
    app = await startSignupApp({ ...harnessConfig(dir, auth, ["jwks"], {}, await databaseOf(dir)), kubeconfig: cluster.kubeconfig }, {
      engine: engineLocation(dir),
      queue: QUEUE_TIMINGS,
      log: jsonLogger(new Redactor(), { write: (line) => logLines.push(line) }),
    });
    token = await auth.sign({ sub: userId("rita"), email: "rita@example.com" });
  });
  after(async () => {
    await app?.close();
    await auth?.close();
    cluster?.down();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("a signup reaches succeeded; its namespace, Odoo and PostgreSQL exist and are scheduled", async () => {
    const started = Date.now();
    const res = await request<{ operation: OperationView }>(app.url, "POST", "/api/tenants", { token, body: { id: "ritas-shop", plan: "starter" } });
    expect(res.status).to.equal(202);
    const op = await waitFor(res.body.operation.id);
    expect(op.status, JSON.stringify(op.error)).to.equal("succeeded");
    firstSignupMs = Date.now() - started;
    const names = tenantNames("ritas-shop");
    const apps = cluster.kc.makeApiClient(k8s.AppsV1Api);
    expect((await apps.readNamespacedDeployment({ name: names.odoo, namespace: names.namespace })).spec?.replicas).to.equal(1);
    expect((await apps.readNamespacedStatefulSet({ name: names.postgres, namespace: names.namespace })).spec?.replicas).to.equal(1);
    const pods = await waitForPods(cluster.kc, (p) => p.filter((x) => x.tenant === "ritas-shop" && x.ready).length === 2, 120_000);
    expect(pods.filter((p) => p.tenant === "ritas-shop").map((p) => p.component).sort()).to.deep.equal(["odoo", "postgres"]);
  });

  it("after 20 more concurrent signups, all applied, one more costs at most 1.5x the first (each tenant its own stack)", async function () {
    this.timeout(1_200_000);
    expect(firstSignupMs, "the first signup was timed").to.be.greaterThan(0);
    const crowd = Array.from({ length: 20 }, (_, i) => `crowd-${i}`);
    const results = await Promise.all(crowd.map(async (id, i) => {
      const as = await auth.sign({ sub: userId(`crowd${i}`), email: `crowd${i}@example.com` });
      const res = await request<{ operation: OperationView }>(app.url, "POST", "/api/tenants", { token: as, body: { id, plan: "starter" } });
      expect(res.status, res.text).to.equal(202);
      return waitFor(res.body.operation.id, as, 900_000);
    }));
    expect(results.map((op) => op.status), JSON.stringify(results.filter((op) => op.status !== "succeeded").map((op) => op.error))).to.deep.equal(crowd.map(() => "succeeded"));
    const apps = cluster.kc.makeApiClient(k8s.AppsV1Api);
    for (const id of crowd) expect((await apps.readNamespacedDeployment({ name: tenantNames(id).odoo, namespace: tenantNames(id).namespace })).spec?.replicas, id).to.equal(1);

    const as = await auth.sign({ sub: userId("late"), email: "late@example.com" });
    const started = Date.now();
    const res = await request<{ operation: OperationView }>(app.url, "POST", "/api/tenants", { token: as, body: { id: "late-shop", plan: "starter" } });
    expect((await waitFor(res.body.operation.id, as)).status).to.equal("succeeded");
    const lateMs = Date.now() - started;
    expect(lateMs, `first ${firstSignupMs} ms, with 21 tenants present ${lateMs} ms`).to.be.at.most(1.5 * firstSignupMs);
  });

  it("the credentials the owner reads are the ones in the cluster, and no log line holds them", async () => {
    const res = await request<{ login: string; password: string }>(app.url, "GET", "/api/tenants/ritas-shop/credentials", { token });
    expect(res.status).to.equal(200);
    const names = tenantNames("ritas-shop");
    const secret = await cluster.kc.makeApiClient(k8s.CoreV1Api).readNamespacedSecret({ name: names.adminSecret, namespace: names.namespace });
    const data = secret.data ?? {};
    expect(Buffer.from(data.password ?? "", "base64").toString("utf8")).to.equal(res.body.password);
    expect(res.body.password).to.match(/^[A-Za-z0-9]{32}$/);
    expect(logLines.join("\n")).not.to.include(res.body.password);
  });

  it("suspend scales Odoo to zero, resume brings it back", async () => {
    const apps = cluster.kc.makeApiClient(k8s.AppsV1Api);
    const names = tenantNames("ritas-shop");
    const suspend = await request<{ operation: OperationView }>(app.url, "POST", "/api/tenants/ritas-shop/suspend", { token, body: {} });
    expect((await waitFor(suspend.body.operation.id)).status).to.equal("succeeded");
    expect((await apps.readNamespacedDeployment({ name: names.odoo, namespace: names.namespace })).spec?.replicas).to.equal(0);
    const resume = await request<{ operation: OperationView }>(app.url, "POST", "/api/tenants/ritas-shop/resume", { token, body: {} });
    expect((await waitFor(resume.body.operation.id)).status).to.equal("succeeded");
    expect((await apps.readNamespacedDeployment({ name: names.odoo, namespace: names.namespace })).spec?.replicas).to.equal(1);
  });

  it("delete retires: workloads gone, namespace and volumes kept", async () => {
    const names = tenantNames("ritas-shop");
    const del = await request<{ operation: OperationView }>(app.url, "DELETE", "/api/tenants/ritas-shop", { token, body: {} });
    expect(del.status, del.text).to.equal(202);
    expect((await waitFor(del.body.operation.id)).status).to.equal("succeeded");
    const apps = cluster.kc.makeApiClient(k8s.AppsV1Api);
    expect((await apps.listNamespacedDeployment({ namespace: names.namespace })).items).to.have.length(0);
    const claims = (await cluster.kc.makeApiClient(k8s.CoreV1Api).listNamespacedPersistentVolumeClaim({ namespace: names.namespace })).items.map((c) => c.metadata?.name).sort();
    expect(claims).to.deep.equal([names.backupVolume, names.odooData, `data-${names.postgres}-0`].sort());
  });
});

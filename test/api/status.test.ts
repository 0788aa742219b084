/**
 * Tenant status: the pure derivation (the design documents said "running" for no pods and
 * for Running-but-not-Ready pods), the @kubernetes/client-node reader against a STAND-IN
 * for kube-apiserver's pod list endpoint (a tiny HTTP server returning PodLists, so the
 * request the reader makes is checked too), an unreachable cluster, and the API using it.
 */
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { expect } from "chai";
import type { V1Pod } from "@kubernetes/client-node";
import {
  clusterReaderFromEnv, deriveTenantStatus, odooReadiness, podSummary, type ClusterObservation, type StatusInput,
} from "../../automation/cluster-status";
import type { AddressCheck } from "../../automation/ingress-health";
import type { TenantView } from "../../automation/tenant-views";
import { IngressStandin } from "../support/ingress-standin";
import { Harness } from "../support/signup-harness";

function pod(name: string, phase: string, ready: boolean, extra: Partial<V1Pod["status"]> = {}): V1Pod {
  return {
    metadata: { name },
    status: { phase, conditions: [{ type: "Ready", status: ready ? "True" : "False" }], ...extra },
  } as V1Pod;
}

/** As the component labels its Odoo pods (what the one cluster-wide list selects and groups by). */
function odooPod(tenant: string, phase: string, ready: boolean): V1Pod {
  const p = pod(`${tenant}-odoo-1`, phase, ready);
  p.metadata = { ...p.metadata, namespace: `tenant-${tenant}`, labels: { "app.kubernetes.io/name": "odoo", "app.kubernetes.io/part-of": "odoo-saas", "app.kubernetes.io/instance": tenant, "odoo-saas.io/tenant": tenant } };
  return p;
}

/** A reading whose public address answered through the ingress, unless said otherwise. */
const reachable = (pods: V1Pod[], address: AddressCheck = { checked: true, answered: true }): ClusterObservation => ({ reachable: true, pods: pods.map(podSummary), address });
const active: StatusInput["tenant"] = { state: "active", suspended: false };

describe("tenant status derivation (pure)", () => {
  it("no pods is provisioning, not ready (the design documents' all([]) bug)", () => {
    expect(odooReadiness([]).ready).to.equal(false);
    expect(deriveTenantStatus({ tenant: active, pending: [], cluster: reachable([]) }).status).to.equal("provisioning");
  });

  it("Running but not Ready is provisioning", () => {
    const status = deriveTenantStatus({ tenant: active, pending: [], cluster: reachable([pod("odoo-1", "Running", false)]) });
    expect(status).to.deep.equal({ status: "provisioning", reason: "Odoo is running but not ready yet" });
  });

  it("a Ready pod is ready only once its public address answered through the ingress; unchecked is unknown, because of the reason", () => {
    const ready = [pod("odoo-1", "Running", true)];
    expect(deriveTenantStatus({ tenant: active, pending: [], cluster: reachable(ready) })).to.deep.equal({ status: "ready", reason: "Odoo answered its health check through the ingress by its host name" });
    const silent = deriveTenantStatus({ tenant: active, pending: [], cluster: reachable(ready, { checked: true, answered: false, reason: "kilo.odoo-saas.test answered HTTP 404 through the ingress" }) });
    expect(silent).to.deep.equal({ status: "provisioning", reason: "Odoo pod is ready, but its public address does not answer yet: kilo.odoo-saas.test answered HTTP 404 through the ingress" });
    const unchecked = deriveTenantStatus({ tenant: active, pending: [], cluster: reachable(ready, { checked: false, reason: "no ingress address is configured (ODOO_SAAS_INGRESS_URL)" }) });
    expect(unchecked).to.deep.equal({ status: "unknown", reason: "Odoo pod is ready, but whether it answers is unknown, because no ingress address is configured (ODOO_SAAS_INGRESS_URL)" });
    const noAddress = deriveTenantStatus({ tenant: active, pending: [], cluster: { reachable: true, pods: ready.map(podSummary) } });
    expect(noAddress.status).to.equal("unknown");
  });

  it("Ready is ready; a Ready pod being deleted is not", () => {
    expect(deriveTenantStatus({ tenant: active, pending: [], cluster: reachable([pod("odoo-1", "Running", true)]) }).status).to.equal("ready");
    const terminating = pod("odoo-1", "Running", true);
    terminating.metadata = { name: "odoo-1", deletionTimestamp: new Date() };
    expect(odooReadiness([podSummary(terminating)]).ready).to.equal(false);
  });

  it("one ready pod among restarting ones is ready (a rollout)", () => {
    expect(odooReadiness([pod("a", "Pending", false), pod("b", "Running", true)].map(podSummary)).ready).to.equal(true);
  });

  it("a container stuck in CrashLoopBackOff or ImagePullBackOff is error", () => {
    const crash = pod("odoo-1", "Running", false, { containerStatuses: [{ name: "odoo", image: "odoo:18.0", imageID: "", ready: false, restartCount: 5, state: { waiting: { reason: "CrashLoopBackOff" } } }] });
    expect(deriveTenantStatus({ tenant: active, pending: [], cluster: reachable([crash]) })).to.deep.equal({ status: "error", reason: "Odoo cannot start (CrashLoopBackOff)" });
    const pull = pod("odoo-1", "Pending", false, { initContainerStatuses: [{ name: "init", image: "x", imageID: "", ready: false, restartCount: 0, state: { waiting: { reason: "ImagePullBackOff" } } }] });
    expect(deriveTenantStatus({ tenant: active, pending: [], cluster: reachable([pull]) }).status).to.equal("error");
  });

  it("suspended while applied and no resume pending; provisioning while a resume is pending", () => {
    const tenant = { state: "active" as const, suspended: true };
    expect(deriveTenantStatus({ tenant, pending: [], cluster: reachable([]) }).status).to.equal("suspended");
    expect(deriveTenantStatus({ tenant, pending: [{ kind: "resume" }], cluster: reachable([]) }).status).to.equal("provisioning");
    expect(deriveTenantStatus({ tenant, pending: [{ kind: "resume" }], cluster: { reachable: false, reason: "x" } }).status).to.equal("provisioning");
  });

  it("error from the last operation, whatever the pods say", () => {
    const status = deriveTenantStatus({
      tenant: active, pending: [], lastOperation: { kind: "suspend", status: "failed", error: { code: "suspend_failed", message: "quota exceeded" } },
      cluster: reachable([pod("odoo-1", "Running", true)]),
    });
    expect(status).to.deep.equal({ status: "error", reason: "quota exceeded" });
    expect(deriveTenantStatus({ tenant: { state: "failed", suspended: false }, pending: [], cluster: { reachable: false, reason: "x" } }).status).to.equal("error");
  });

  it("deleting while a delete is pending; provisioning before the signup is applied", () => {
    expect(deriveTenantStatus({ tenant: active, pending: [{ kind: "delete" }], cluster: reachable([pod("a", "Running", true)]) }).status).to.equal("deleting");
    expect(deriveTenantStatus({ tenant: { state: "pending", suspended: false }, pending: [{ kind: "create" }], cluster: { reachable: false, reason: "x" } }).status).to.equal("provisioning");
  });

  it("without a cluster reading, an applied tenant is unknown with the reason, never ready", () => {
    const status = deriveTenantStatus({ tenant: active, pending: [], lastOperation: { kind: "create", status: "succeeded" }, cluster: { reachable: false, reason: "cluster not reachable: connect ECONNREFUSED" } });
    expect(status).to.deep.equal({ status: "unknown", reason: "readiness not observed: cluster not reachable: connect ECONNREFUSED" });
    const resumed = deriveTenantStatus({ tenant: active, pending: [], lastOperation: { kind: "resume", status: "succeeded" }, cluster: { reachable: false, reason: "no cluster configured" } });
    expect(resumed.status).to.equal("unknown");
  });
});

/**
 * Stand-in for kube-apiserver's `GET /api/v1/namespaces/<ns>/pods` and the cluster-wide
 * `GET /api/v1/pods` (every namespace's pods): records requests, returns set pods.
 */
async function fakeApiServer(): Promise<{ url: string; pods: Map<string, V1Pod[]>; requests: string[]; close: () => Promise<void> }> {
  const pods = new Map<string, V1Pod[]>();
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(req.url ?? "");
    const match = /^\/api\/v1\/namespaces\/([^/]+)\/pods(\?.*)?$/.exec(req.url ?? "");
    res.setHeader("Content-Type", "application/json");
    if (/^\/api\/v1\/pods(\?.*)?$/.test(req.url ?? "")) {
      res.end(JSON.stringify({ kind: "PodList", apiVersion: "v1", metadata: {}, items: [...pods.values()].flat() }));
      return;
    }
    if (!match) {
      res.statusCode = 404;
      res.end(JSON.stringify({ kind: "Status", apiVersion: "v1", status: "Failure", code: 404 }));
      return;
    }
    res.end(JSON.stringify({ kind: "PodList", apiVersion: "v1", metadata: {}, items: pods.get(match[1] as string) ?? [] }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    pods,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function kubeconfig(dir: string, server: string): string {
  const file = path.join(dir, `kubeconfig-${Math.random().toString(36).slice(2)}`);
  fs.writeFileSync(file, [
    "apiVersion: v1", "kind: Config", "current-context: test",
    // client-node refuses plain HTTP unless TLS verification is explicitly off.
    "clusters:", "- name: test", "  cluster:", `    server: ${server}`, "    insecure-skip-tls-verify: true",
    "users:", "- name: test", "  user:", "    token: test-token",
    "contexts:", "- name: test", "  context:", "    cluster: test", "    user: test",
  ].join("\n"));
  return file;
}

describe("tenant status from the cluster (@kubernetes/client-node)", function () {
  this.timeout(120_000);
  let api: Awaited<ReturnType<typeof fakeApiServer>>;
  let dir: string;

  before(async () => {
    api = await fakeApiServer();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "odoo-saas-status-"));
  });
  after(async () => {
    await api.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("lists the Odoo pods of tenant-<id> by the app.kubernetes.io name and instance labels", async () => {
    api.pods.set("tenant-alpha", [pod("alpha-odoo-1", "Running", true)]);
    const observed = await clusterReaderFromEnv(kubeconfig(dir, api.url)).observe("alpha");
    expect(observed).to.deep.equal({ reachable: true, pods: [{ name: "alpha-odoo-1", phase: "Running", ready: true, deleting: false }] });
    const url = new URL(api.requests.at(-1) as string, api.url);
    expect(url.pathname).to.equal("/api/v1/namespaces/tenant-alpha/pods");
    expect(url.searchParams.get("labelSelector")).to.equal("app.kubernetes.io/name=odoo,app.kubernetes.io/instance=alpha");
  });

  it("reports an unreachable cluster instead of failing", async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", () => resolve()));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const observed = await clusterReaderFromEnv(kubeconfig(dir, `http://127.0.0.1:${port}`)).observe("alpha");
    expect(observed.reachable).to.equal(false);
    expect((observed as { reason: string }).reason).to.match(/^cluster not reachable/);
    expect((await clusterReaderFromEnv("none").observe("alpha")).reachable).to.equal(false);
    expect((await clusterReaderFromEnv(path.join(dir, "missing")).observe("alpha")).reachable).to.equal(false);
  });

  it("the API shows readiness from the cluster: starting, then ready once the address answers through the ingress (real server and engine, stand-in program)", async () => {
    let answering = false;
    const ingress = new IngressStandin((id) => answering && id === "kilo");
    const h = await Harness.start({ cluster: clusterReaderFromEnv(kubeconfig(dir, api.url)), ingressUrl: await ingress.url() });
    try {
      const token = await h.token("olga");
      const created = await h.request<{ operation: { id: string } }>("POST", "/api/tenants", { token, body: { id: "kilo", plan: "starter" } });
      await h.waitForOperation(token, created.body.operation.id);
      const none = await h.request<TenantView>("GET", "/api/tenants/kilo", { token });
      expect(none.body).to.deep.include({ status: "starting", statusReason: "Odoo is starting. It is ready once it answers.", cluster: { reachable: true } });
      api.pods.set("tenant-kilo", [odooPod("kilo", "Running", false)]);
      expect((await h.request<TenantView>("GET", "/api/tenants/kilo", { token })).body.status).to.equal("starting");
      api.pods.set("tenant-kilo", [odooPod("kilo", "Running", true)]);
      // The pod is Ready, but kilo.odoo-saas.test does not answer through the ingress yet.
      expect((await h.request<TenantView>("GET", "/api/tenants/kilo", { token })).body.status).to.equal("starting");
      answering = true;
      expect((await h.request<TenantView>("GET", "/api/tenants/kilo", { token })).body.status).to.equal("ready");
      // A listing reads every tenant's pods with one cluster-wide list (hundreds of tenants: one request).
      const before = api.requests.length;
      const list = await h.request<{ tenants: TenantView[] }>("GET", "/api/tenants", { token });
      expect(list.body.tenants.map((t) => t.status)).to.deep.equal(["ready"]);
      expect(api.requests.slice(before)).to.deep.equal(["/api/v1/pods?labelSelector=app.kubernetes.io%2Fname%3Dodoo%2Capp.kubernetes.io%2Fpart-of%3Dodoo-saas"]);
    } finally {
      await h.close();
      await ingress.close();
    }
  });

  it("without an ingress URL a Ready pod is unknown, with the reason for administrators (nothing claims ready unobserved)", async () => {
    api.pods.set("tenant-mike", [odooPod("mike", "Running", true)]);
    const h = await Harness.start({ cluster: clusterReaderFromEnv(kubeconfig(dir, api.url)) });
    try {
      const token = await h.token("quinn");
      const created = await h.request<{ operation: { id: string } }>("POST", "/api/tenants", { token, body: { id: "mike", plan: "starter" } });
      await h.waitForOperation(token, created.body.operation.id);
      expect((await h.request<TenantView>("GET", "/api/tenants/mike", { token })).body.status).to.equal("unknown");
      const admin = await h.token("root", { admin: true });
      const forAdmin = await h.request<TenantView & { detail: { reason: string } }>("GET", "/api/tenants/mike", { token: admin });
      expect(forAdmin.body.detail.reason).to.equal("Odoo pod is ready, but whether it answers is unknown, because no ingress address is configured (ODOO_SAAS_INGRESS_URL)");
    } finally {
      await h.close();
      api.pods.delete("tenant-mike");
    }
  });

  it("the API says unknown, with the reason, when the API server cannot be reached (kubeconfig to a closed loopback port)", async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", () => resolve()));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const h = await Harness.start({ kubeconfig: kubeconfig(dir, `https://127.0.0.1:${port}`) });
    try {
      const token = await h.token("pavel");
      const created = await h.request<{ operation: { id: string } }>("POST", "/api/tenants", { token, body: { id: "lima", plan: "starter" } });
      expect((await h.waitForOperation(token, created.body.operation.id)).status).to.equal("succeeded");
      const one = await h.request<TenantView>("GET", "/api/tenants/lima", { token });
      expect(one.status).to.equal(200);
      expect(one.body.state).to.equal("active");
      expect(one.body.status).to.equal("unknown");
      // The customer reads customer words; the raw reason (an address, an errno) is the admins'.
      expect(one.body.statusReason).to.equal("We cannot check on your instance right now.");
      expect(one.text).not.to.match(/ECONNREFUSED|127\.0\.0\.1/);
      expect(one.body.cluster.reachable).to.equal(false);
      const admin = await h.token("root", { admin: true });
      const forAdmin = await h.request<TenantView & { detail: { status: string; reason: string } }>("GET", "/api/tenants/lima", { token: admin });
      expect(forAdmin.body.detail.reason).to.match(/^readiness not observed: cluster not reachable/);
      const list = await h.request<{ tenants: TenantView[] }>("GET", "/api/tenants", { token });
      expect(list.body.tenants.map((t) => [t.id, t.status])).to.deep.equal([["lima", "unknown"]]);
    } finally {
      await h.close();
    }
  });
});

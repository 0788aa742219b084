/**
 * The platform against a real kube-apiserver (with etcd, scheduler, controller-manager and
 * KWOK fake nodes): every object the OdooTenant component registers is accepted (Pod
 * Security "restricted" admission included), pods are scheduled on the fake nodes, tenants
 * spread across nodes, updates touch only what changed, removal follows the data-protection
 * rule. Objects are applied with server-side apply (ops/apply-objects.ts) because the
 * Kubernetes provider plugin cannot be built on this machine; see README "Engine".
 */
import { expect } from "chai";
import * as k8s from "@kubernetes/client-node";
import { applyObjects, retireRemovedTenants } from "../../ops/apply-objects";
import { tenantPods, waitForPods, type TenantPod } from "../../ops/cluster-view";
import { toWire } from "../../ops/kube";
import { renderStack, type RenderedObject } from "../../ops/render-stack";
import type { StackConfig, TenantInput } from "../../tenants/schema";
import { parseStackConfig, requireStackConfig } from "../../tenants/validate";
import { tenant, validConfig } from "../support/fixtures";
import { startLocalCluster, type LocalCluster } from "../support/local-cluster";

const TENANTS: TenantInput[] = [
  tenant({ id: "alpha" }),
  tenant({ id: "beta", plan: "business", odooVersion: "17.0", customDomains: ["erp.beta.example"] }),
  tenant({ id: "gamma" }),
];

function stack(tenants: TenantInput[]): StackConfig {
  return requireStackConfig(validConfig(tenants));
}

async function deploy(cluster: LocalCluster, config: StackConfig): Promise<Awaited<ReturnType<typeof applyObjects>>> {
  const report = await applyObjects(cluster.kc, await renderStack(config));
  await retireRemovedTenants(cluster.kc, new Set(config.tenants.map((t) => t.id)));
  return report;
}

/** resourceVersion of every object in a tenant namespace, to prove what did not change. */
async function versions(kc: k8s.KubeConfig, namespace: string): Promise<Record<string, string>> {
  const client = k8s.KubernetesObjectApi.makeApiClient(kc);
  const out: Record<string, string> = {};
  for (const [apiVersion, kind] of [["v1", "Secret"], ["v1", "Service"], ["v1", "ConfigMap"], ["v1", "PersistentVolumeClaim"], ["v1", "ResourceQuota"], ["v1", "LimitRange"],
    ["apps/v1", "Deployment"], ["apps/v1", "StatefulSet"], ["batch/v1", "CronJob"], ["networking.k8s.io/v1", "Ingress"], ["networking.k8s.io/v1", "NetworkPolicy"]] as const) {
    const list = await client.list(apiVersion, kind, namespace);
    for (const item of list.items) out[`${kind}/${item.metadata?.name}`] = item.metadata?.resourceVersion ?? "";
  }
  return out;
}

/** Paths where the stored object lacks or differs from what was rendered (rendered must be a subset). */
function missingFrom(rendered: unknown, stored: unknown, at = ""): string[] {
  if (Array.isArray(rendered)) {
    if (!Array.isArray(stored)) return [at];
    return rendered.flatMap((item, i) => missingFrom(item, stored[i], `${at}[${i}]`));
  }
  if (typeof rendered === "object" && rendered !== null) {
    if (typeof stored !== "object" || stored === null) return [at];
    return Object.entries(rendered).flatMap(([k, v]) => missingFrom(v, (stored as Record<string, unknown>)[k], `${at}.${k}`));
  }
  return rendered === stored ? [] : [`${at} (${JSON.stringify(rendered)} != ${JSON.stringify(stored)})`];
}

const allRunning = (count: number) => (pods: TenantPod[]): boolean => pods.length === count && pods.every((p) => p.ready && p.node !== undefined);

describe("the platform on a real local control plane", function () {
  this.timeout(600_000);
  let cluster: LocalCluster;
  let core: k8s.CoreV1Api;
  let apps: k8s.AppsV1Api;

  before(() => {
    cluster = startLocalCluster(3);
    core = cluster.kc.makeApiClient(k8s.CoreV1Api);
    apps = cluster.kc.makeApiClient(k8s.AppsV1Api);
  });
  after(() => cluster?.down());

  it("accepts every object of 3 tenants and schedules their pods on the fake nodes", async () => {
    const report = await deploy(cluster, stack(TENANTS));
    expect(report.created).to.have.length(72);
    const pods = await waitForPods(cluster.kc, allRunning(6), 120_000);
    expect(pods.map((p) => `${p.tenant}/${p.component}:${p.phase}:${p.ready}`).sort()).to.deep.equal([
      "alpha/odoo:Running:true", "alpha/postgres:Running:true", "beta/odoo:Running:true", "beta/postgres:Running:true", "gamma/odoo:Running:true", "gamma/postgres:Running:true",
    ]);
    for (const p of pods) expect(p.node, p.name).to.match(/^kwok-node-\d$/);
  });

  it("stores every rendered field exactly (nothing dropped on the way to the API server)", async () => {
    const client = k8s.KubernetesObjectApi.makeApiClient(cluster.kc);
    const rendered: RenderedObject[] = await renderStack(stack(TENANTS));
    const problems: string[] = [];
    for (const object of rendered) {
      if (object.kind === "Secret") continue; // values are generated per render; keys are checked elsewhere
      const live = await client.read({ apiVersion: object.apiVersion, kind: object.kind, metadata: { name: object.metadata.name, namespace: object.metadata.namespace } });
      const { metadata, ...rest } = object.body as { metadata: unknown };
      for (const path of missingFrom({ metadata, ...rest }, toWire(live, `V1${object.kind}`))) problems.push(`${object.kind} ${object.metadata.name}${path}`);
    }
    expect(problems).to.deep.equal([]);
  });

  it("spreads the Odoo pods of different tenants across nodes", async () => {
    const odooNodes = (await tenantPods(cluster.kc)).filter((p) => p.component === "odoo").map((p) => p.node);
    expect(new Set(odooNodes).size).to.equal(3);
  });

  it("stores the objects with the expected spec (read back from the API server)", async () => {
    const ns = await core.readNamespace({ name: "tenant-beta" });
    expect(ns.metadata?.labels).to.include({ "pod-security.kubernetes.io/enforce": "restricted", "odoo-saas.io/tenant": "beta", "kubernetes.io/metadata.name": "tenant-beta" });
    const dep = await apps.readNamespacedDeployment({ name: "beta-odoo", namespace: "tenant-beta" });
    expect(dep.spec?.strategy?.type).to.equal("Recreate");
    expect(dep.spec?.template.spec?.containers[0]?.image).to.equal("odoo:17.0");
    expect(dep.spec?.template.spec?.containers[0]?.ports?.map((p) => p.containerPort)).to.deep.equal([8069, 8072]);
    expect(dep.spec?.template.spec?.securityContext?.runAsUser).to.equal(101);
    const sts = await apps.readNamespacedStatefulSet({ name: "beta-postgres", namespace: "tenant-beta" });
    expect(sts.spec?.template.spec?.containers[0]?.readinessProbe?.exec?.command?.[0]).to.equal("pg_isready");
    const claims = await core.listNamespacedPersistentVolumeClaim({ namespace: "tenant-beta" });
    const phase = Object.fromEntries(claims.items.map((c) => [c.metadata?.name, c.status?.phase]));
    // Claims of running pods are bound by the real scheduler; the backup volume waits for its first job.
    expect(phase).to.include({ "data-beta-postgres-0": "Bound", "beta-odoo-data": "Bound", "beta-backups": "Pending" });
    const policies = await cluster.kc.makeApiClient(k8s.NetworkingV1Api).listNamespacedNetworkPolicy({ namespace: "tenant-beta" });
    expect(policies.items.map((p) => p.metadata?.name).sort()).to.deep.equal([
      "allow-dns-egress", "allow-same-namespace-egress", "default-deny", "odoo-from-ingress-controller", "odoo-internet-egress", "postgres-from-db-clients",
    ]);
    const ingress = await cluster.kc.makeApiClient(k8s.NetworkingV1Api).readNamespacedIngress({ name: "beta", namespace: "tenant-beta" });
    expect(ingress.spec?.rules?.map((r) => r.host)).to.deep.equal(["beta.odoo-saas.test", "erp.beta.example"]);
    const cron = await cluster.kc.makeApiClient(k8s.BatchV1Api).readNamespacedCronJob({ name: "beta-backup", namespace: "tenant-beta" });
    expect(cron.spec?.concurrencyPolicy).to.equal("Forbid");
    const quota = await core.readNamespacedResourceQuota({ name: "beta-quota", namespace: "tenant-beta" });
    expect(quota.status?.hard?.["limits.cpu"]).to.equal("5");
  });

  it("enforces the restricted Pod Security Standard in tenant namespaces (admission is real)", async () => {
    let status: number | undefined;
    try {
      await core.createNamespacedPod({ namespace: "tenant-alpha", body: { metadata: { name: "root-shell" }, spec: { containers: [{ name: "sh", image: "busybox", securityContext: { privileged: true } }] } } });
    } catch (err) {
      status = (err as { code?: number }).code;
    }
    expect(status).to.equal(403);
  });

  it("a second deploy changes nothing", async () => {
    const before = await versions(cluster.kc, "tenant-alpha");
    const report = await deploy(cluster, stack(TENANTS));
    expect(report.created).to.deep.equal([]);
    expect(report.updated).to.deep.equal([]);
    expect(await versions(cluster.kc, "tenant-alpha")).to.deep.equal(before);
  });

  it("changing one tenant's plan changes only that tenant's objects", async () => {
    const untouched = { alpha: await versions(cluster.kc, "tenant-alpha"), beta: await versions(cluster.kc, "tenant-beta") };
    const changed = TENANTS.map((t) => (t.id === "gamma" ? { ...t, plan: "business" } : t));
    const report = await deploy(cluster, stack(changed));
    expect(report.updated.length).to.be.greaterThan(0);
    for (const what of report.updated) expect(what).to.match(/ tenant-gamma(\/|$)/);
    expect(await versions(cluster.kc, "tenant-alpha")).to.deep.equal(untouched.alpha);
    expect(await versions(cluster.kc, "tenant-beta")).to.deep.equal(untouched.beta);
    const dep = await apps.readNamespacedDeployment({ name: "gamma-odoo", namespace: "tenant-gamma" });
    expect(dep.spec?.template.spec?.containers[0]?.resources?.limits).to.deep.equal({ cpu: "2", memory: "3Gi" });
  });

  it("removing a tenant retires it: workloads gone, namespace, credentials and volumes kept; others untouched", async () => {
    const untouched = await versions(cluster.kc, "tenant-alpha");
    const secretsBefore = (await core.listNamespacedSecret({ namespace: "tenant-beta" })).items.map((s) => s.metadata?.name).sort();
    await deploy(cluster, stack(TENANTS.filter((t) => t.id !== "beta")));
    expect((await apps.listNamespacedDeployment({ namespace: "tenant-beta" })).items).to.have.length(0);
    expect((await apps.listNamespacedStatefulSet({ namespace: "tenant-beta" })).items).to.have.length(0);
    expect((await core.readNamespace({ name: "tenant-beta" })).status?.phase).to.equal("Active");
    const claims = (await core.listNamespacedPersistentVolumeClaim({ namespace: "tenant-beta" })).items.map((c) => c.metadata?.name).sort();
    expect(claims).to.deep.equal(["beta-backups", "beta-odoo-data", "data-beta-postgres-0"]);
    expect((await core.listNamespacedSecret({ namespace: "tenant-beta" })).items.map((s) => s.metadata?.name).sort()).to.deep.equal(secretsBefore);
    expect(await versions(cluster.kc, "tenant-alpha")).to.deep.equal(untouched);
    const pods = await waitForPods(cluster.kc, (p) => p.every((x) => x.tenant !== "beta"), 60_000);
    expect(pods.filter((p) => p.tenant === "beta")).to.have.length(0);
  });

  it("an invalid config is refused with field-level messages and changes nothing", async () => {
    const before = await versions(cluster.kc, "tenant-alpha");
    const result = parseStackConfig(validConfig([...TENANTS, tenant({ id: "delta", adminEmail: "broken" })]));
    expect(result.ok).to.equal(false);
    if (!result.ok) expect(result.issues.map((i) => `${i.tenant?.id}:${i.field}`)).to.deep.equal(["delta:adminEmail"]);
    expect(await versions(cluster.kc, "tenant-alpha")).to.deep.equal(before);
    const namespaces = (await core.listNamespace()).items.map((n) => n.metadata?.name);
    expect(namespaces).to.not.include("tenant-delta");
  });

  it("suspending scales Odoo to zero and keeps its volume bound", async () => {
    const suspended = TENANTS.filter((t) => t.id !== "beta").map((t) => (t.id === "alpha" ? { ...t, suspended: true } : t));
    await deploy(cluster, stack(suspended));
    const pods = await waitForPods(cluster.kc, (p) => !p.some((x) => x.tenant === "alpha" && x.component === "odoo"), 60_000);
    expect(pods.filter((p) => p.tenant === "alpha").map((p) => p.component)).to.deep.equal(["postgres"]);
    const claim = await core.readNamespacedPersistentVolumeClaim({ name: "alpha-odoo-data", namespace: "tenant-alpha" });
    expect(claim.status?.phase).to.equal("Bound");
  });
});

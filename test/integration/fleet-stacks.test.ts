/**
 * The tenants file fanned out to one stack per tenant, through the real engine on a local
 * control plane: a change of one tenant previews and applies that tenant's stack only
 * (every other tenant's objects keep their uid and resourceVersion), a tenant removed from
 * the file is retired (objects removed, data kept, its stack gone), and an unchanged file
 * starts no engine.
 */
import * as fs from "node:fs";
import { expect } from "chai";
import * as k8s from "@kubernetes/client-node";
import { planFleet } from "../../automation/engine/fleet-plan";
import { FleetRunner, fleetSummary, type TenantRun } from "../../automation/engine/fleet-stacks";
import { tenantNames } from "../../components/naming";
import { startLocalCluster, type LocalCluster } from "../../local/local-cluster";
import type { TenantInput } from "../../tenants/schema";
import { stackConfigMap, stateFile, tempEngine } from "../support/engine-stack";
import { tenant, validConfig } from "../support/fixtures";

const STACK = "fleet";

function expectAllOk(runs: readonly TenantRun[]): void {
  for (const run of runs) if (!run.ok) expect.fail(`${run.id} (${run.action}) failed: ${run.message ?? "?"}`);
}

describe("the tenants file as one stack per tenant, through the engine on a local control plane", function () {
  this.timeout(600_000);
  let cluster: LocalCluster;
  let objects: k8s.KubernetesObjectApi;
  let core: k8s.CoreV1Api;
  const engine = tempEngine("fleet-stacks");
  const base: TenantInput[] = [tenant({ id: "alpha" }), tenant({ id: "bravo" }), tenant({ id: "carol" })];
  const baseMap = stackConfigMap(validConfig(base));
  // Head: bravo suspended, carol removed, alpha unchanged.
  const headMap = stackConfigMap(validConfig([tenant({ id: "alpha" }), tenant({ id: "bravo", suspended: true })]));
  const runner = (configMap: Record<string, unknown>): FleetRunner =>
    new FleetRunner({ stackName: STACK, configMap, kubeconfig: cluster.kubeconfig, kc: cluster.kc, engine });

  /**
   * Kind/name -> uid and version of a tenant's engine-made objects: any write by the engine
   * changes it. Workloads by generation (spec writes only: controllers write their status).
   */
  const versions = async (namespace: string): Promise<Map<string, string>> => {
    const out = new Map<string, string>();
    for (const [apiVersion, kind] of [["v1", "Secret"], ["v1", "Service"], ["v1", "ConfigMap"], ["v1", "PersistentVolumeClaim"], ["apps/v1", "Deployment"], ["apps/v1", "StatefulSet"], ["batch/v1", "CronJob"], ["networking.k8s.io/v1", "NetworkPolicy"], ["networking.k8s.io/v1", "Ingress"]] as const) {
      for (const item of (await objects.list(apiVersion, kind, namespace)).items) {
        // Objects the cluster writes itself (service-account tokens, pod-owned state) are not the engine's.
        if (item.metadata?.labels?.["app.kubernetes.io/managed-by"] !== "pulumi") continue;
        const version = kind === "Deployment" || kind === "StatefulSet" || kind === "CronJob" ? `g${item.metadata.generation ?? "?"}` : item.metadata.resourceVersion;
        out.set(`${kind}/${item.metadata.name ?? ""}`, `${item.metadata.uid ?? ""}@${version ?? ""}`);
      }
    }
    return out;
  };

  before(async () => {
    cluster = startLocalCluster(2);
    objects = k8s.KubernetesObjectApi.makeApiClient(cluster.kc);
    core = cluster.kc.makeApiClient(k8s.CoreV1Api);
    const created = await runner(baseMap).run("up", planFleet(undefined, baseMap));
    expectAllOk(created);
  });
  after(() => {
    cluster?.down();
    fs.rmSync(engine.dir, { recursive: true, force: true });
  });

  it("plans only the changed and the removed tenant, and an unchanged file plans nothing", () => {
    const plan = planFleet(baseMap, headMap);
    expect(plan.changed).to.deep.equal(["bravo"]);
    expect(plan.removed).to.deep.equal(["carol"]);
    expect(plan.unchanged).to.equal(1);
    const none = planFleet(headMap, headMap);
    expect([none.changed, none.removed, none.unchanged]).to.deep.equal([[], [], 2]);
  });

  it("made one stack per tenant, each holding its own tenant's objects", async () => {
    for (const id of ["alpha", "bravo", "carol"]) {
      expect(fs.existsSync(stateFile(engine, `${STACK}-fleet-tenant-${id}`)), id).to.equal(true);
      expect((await versions(tenantNames(id).namespace)).size, id).to.be.greaterThan(10);
    }
  });

  it("previews the change of bravo and the retirement of carol, and nothing of alpha, changing nothing", async () => {
    const before = await Promise.all(["alpha", "bravo", "carol"].map((id) => versions(tenantNames(id).namespace)));
    const runs = await runner(headMap).run("preview", planFleet(baseMap, headMap));
    expectAllOk(runs);
    const summary = fleetSummary(runs);
    expect([...summary.tenants.keys()].sort()).to.deep.equal(["bravo", "carol"]);
    const bravo = summary.tenants.get("bravo");
    expect((bravo?.update ?? 0) + (bravo?.replace ?? 0), JSON.stringify(bravo)).to.be.at.least(1);
    expect(bravo?.delete ?? 0).to.equal(0);
    expect(summary.tenants.get("carol")?.delete ?? 0).to.be.greaterThan(5);
    const after = await Promise.all(["alpha", "bravo", "carol"].map((id) => versions(tenantNames(id).namespace)));
    expect(after).to.deep.equal(before);
  });

  it("applies: bravo's stack is updated, carol's retired (data kept, stack removed), alpha's objects are untouched", async () => {
    const alphaBefore = await versions(tenantNames("alpha").namespace);
    const alphaState = fs.statSync(stateFile(engine, `${STACK}-fleet-tenant-alpha`)).mtimeMs;
    const runs = await runner(headMap).run("up", planFleet(baseMap, headMap));
    expectAllOk(runs);
    expect(runs.map((r) => `${r.id}:${r.action}`)).to.deep.equal(["bravo:update", "carol:retire"]);

    // alpha: not one write, not even to its stack's state.
    expect(await versions(tenantNames("alpha").namespace)).to.deep.equal(alphaBefore);
    expect(fs.statSync(stateFile(engine, `${STACK}-fleet-tenant-alpha`)).mtimeMs).to.equal(alphaState);

    // bravo: suspended, Odoo scaled to zero.
    const apps = cluster.kc.makeApiClient(k8s.AppsV1Api);
    const deployments = (await apps.listNamespacedDeployment({ namespace: tenantNames("bravo").namespace })).items;
    expect(deployments.length).to.be.greaterThan(0);
    expect(deployments.map((d) => d.spec?.replicas)).to.include(0);

    // carol: retired as from the one stack: its Deployments gone, namespace and volumes kept, stack removed.
    const carolNs = tenantNames("carol").namespace;
    expect((await apps.listNamespacedDeployment({ namespace: carolNs })).items).to.have.length(0);
    await core.readNamespace({ name: carolNs });
    expect((await core.listNamespacedPersistentVolumeClaim({ namespace: carolNs })).items.length).to.be.greaterThan(0);
    expect(fs.existsSync(stateFile(engine, `${STACK}-fleet-tenant-carol`))).to.equal(false);
  });

  it("refuses to bring back the retired id while its kept data is there, changing nothing", async () => {
    const again = stackConfigMap(validConfig([tenant({ id: "alpha" }), tenant({ id: "bravo", suspended: true }), tenant({ id: "carol" })]));
    const runs = await runner(again).run("up", planFleet(headMap, again));
    expect(runs).to.have.length(1);
    expect(runs[0]?.ok).to.equal(false);
    expect(runs[0]?.message ?? "").to.match(/namespace tenant-carol already exists outside this stack/);
    // The stack the refused run made for it is removed again.
    expect(fs.existsSync(stateFile(engine, `${STACK}-fleet-tenant-carol`))).to.equal(false);
    const apps = cluster.kc.makeApiClient(k8s.AppsV1Api);
    expect((await apps.listNamespacedDeployment({ namespace: tenantNames("carol").namespace })).items).to.have.length(0);
  });
});

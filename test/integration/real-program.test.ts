/**
 * The real program through the real engine on a real local control plane: the Go-built
 * Pulumi CLI, the Kubernetes provider plugin built from its Go module, the project's random
 * plugin, a kube-apiserver with etcd, scheduler, controller-manager and KWOK nodes.
 * Nothing here is mocked. The steps build on each other, in order.
 */
import * as fs from "node:fs";
import { expect } from "chai";
import * as k8s from "@kubernetes/client-node";
import type { EngineEvent, UpResult } from "@pulumi/pulumi/automation";
import { deployStack, previewStack, type DeployOutcome } from "../../automation/engine/deploy";
import { tenantNames } from "../../components/naming";
import { tenantPods, waitForPods, type TenantPod } from "../../checks/cluster-view";
import { toWire } from "../../checks/kube";
import type { StackConfigInput, TenantInput } from "../../tenants/schema";
import { childPids, pidsMatching, stackConfigMap, stateFile, tempEngine } from "../support/engine-stack";
import { tenant, validConfig } from "../support/fixtures";
import { startLocalCluster, type LocalCluster } from "../../local/local-cluster";

const STACK = "integration";
const ALPHA = tenant({ id: "alpha" });
const BETA = tenant({ id: "beta", plan: "business", odooVersion: "17.0", customDomains: ["erp.beta.example"] });
const GAMMA = tenant({ id: "gamma" });

const allRunning = (count: number) => (pods: TenantPod[]): boolean => pods.length === count && pods.every((p) => p.ready && p.node !== undefined);

/** Kinds a tenant namespace holds, for counting and uid comparisons. */
const KINDS = [["v1", "Secret"], ["v1", "Service"], ["v1", "ConfigMap"], ["v1", "PersistentVolumeClaim"], ["v1", "ResourceQuota"], ["v1", "LimitRange"], ["v1", "ServiceAccount"],
  ["apps/v1", "Deployment"], ["apps/v1", "StatefulSet"], ["batch/v1", "CronJob"], ["networking.k8s.io/v1", "Ingress"], ["networking.k8s.io/v1", "NetworkPolicy"]] as const;

describe("the real program through the engine on a local control plane", function () {
  this.timeout(600_000);
  let cluster: LocalCluster;
  let core: k8s.CoreV1Api;
  let apps: k8s.AppsV1Api;
  let objects: k8s.KubernetesObjectApi;
  const engine = tempEngine("integration");
  /** Everything the engine printed, over every run: no secret may be in it. */
  const printed: string[] = [];

  const up = (tenants: TenantInput[], extra: Partial<StackConfigInput> = {}, onEvent?: (e: EngineEvent) => void): Promise<DeployOutcome<UpResult>> =>
    deployStack({
      stackName: STACK, engine, kubeconfig: cluster.kubeconfig, kc: cluster.kc,
      config: stackConfigMap({ ...validConfig(tenants), ...extra }),
      onOutput: (text) => printed.push(text),
      ...(onEvent ? { onEvent } : {}),
    });

  const expectUp = async (tenants: TenantInput[], extra: Partial<StackConfigInput> = {}): Promise<UpResult> => {
    const outcome = await up(tenants, extra);
    if (!outcome.ok) expect.fail(`up failed (${outcome.failure}): ${outcome.message}`);
    return outcome.result;
  };

  /** uid of every object in a namespace, by `Kind/name`. */
  const uids = async (namespace: string): Promise<Map<string, string>> => {
    const out = new Map<string, string>();
    for (const [apiVersion, kind] of KINDS) {
      const list = await objects.list(apiVersion, kind, namespace);
      for (const item of list.items) {
        if (kind === "ServiceAccount" && item.metadata?.name === "default") continue;
        out.set(`${kind}/${item.metadata?.name}`, item.metadata?.uid ?? "");
      }
    }
    return out;
  };

  /** resourceVersion of every object in a namespace: proves what did not change at all. */
  const versions = async (namespace: string): Promise<Record<string, string>> => {
    const out: Record<string, string> = {};
    for (const [apiVersion, kind] of KINDS) {
      for (const item of (await objects.list(apiVersion, kind, namespace)).items) out[`${kind}/${item.metadata?.name}`] = item.metadata?.resourceVersion ?? "";
    }
    return out;
  };

  const secretValue = async (namespace: string, name: string, key: string): Promise<string> => {
    const secret = await core.readNamespacedSecret({ name, namespace });
    const data = secret.data ?? {};
    return Buffer.from(Object.hasOwn(data, key) ? data[key] ?? "" : "", "base64").toString("utf8");
  };

  before(() => {
    cluster = startLocalCluster(3);
    core = cluster.kc.makeApiClient(k8s.CoreV1Api);
    apps = cluster.kc.makeApiClient(k8s.AppsV1Api);
    objects = k8s.KubernetesObjectApi.makeApiClient(cluster.kc);
  });
  after(() => {
    cluster?.down();
    fs.rmSync(engine.dir, { recursive: true, force: true });
  });

  it("creates 3 tenants; every object in their namespaces carries the Kubernetes provider's field manager", async () => {
    const result = await expectUp([ALPHA, BETA, GAMMA]);
    expect(result.summary.result).to.equal("succeeded");
    expect(result.summary.resourceChanges?.create).to.be.greaterThan(70);
    await waitForPods(cluster.kc, allRunning(6), 120_000);
    for (const id of ["alpha", "beta", "gamma"]) {
      const namespace = tenantNames(id).namespace;
      const found = await uids(namespace);
      expect(found.size, namespace).to.be.greaterThan(20);
      for (const [apiVersion, kind] of KINDS) {
        for (const item of (await objects.list(apiVersion, kind, namespace)).items) {
          if (kind === "ServiceAccount" && item.metadata?.name === "default") continue;
          if (kind === "ConfigMap" && item.metadata?.name === "kube-root-ca.crt") continue;
          // The database volume's claim is made by the StatefulSet controller from its template.
          if (kind === "PersistentVolumeClaim" && item.metadata?.name === `data-${tenantNames(id).postgres}-0`) continue;
          const managers = (item.metadata?.managedFields ?? []).map((m) => m.manager ?? "");
          expect(managers.some((m) => m.startsWith("pulumi-kubernetes")), `${kind}/${item.metadata?.name}: ${managers.join(",")}`).to.equal(true);
        }
      }
    }
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
    const phase = new Map(claims.items.map((c) => [c.metadata?.name, c.status?.phase]));
    // Claims of running pods are bound by the real scheduler; the backup volume waits for its first job.
    expect([phase.get("data-beta-postgres-0"), phase.get("beta-odoo-data"), phase.get("beta-backups")]).to.deep.equal(["Bound", "Bound", "Pending"]);
    const networking = cluster.kc.makeApiClient(k8s.NetworkingV1Api);
    const policies = await networking.listNamespacedNetworkPolicy({ namespace: "tenant-beta" });
    expect(policies.items.map((p) => p.metadata?.name).sort()).to.deep.equal([
      "allow-dns-egress", "allow-same-namespace-egress", "default-deny", "odoo-from-ingress-controller", "odoo-internet-egress", "postgres-from-db-clients",
    ]);
    const ingress = await networking.readNamespacedIngress({ name: "beta", namespace: "tenant-beta" });
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

  it("stores every field the component sent, unchanged (the plugin accepts what the npm SDK sends)", async () => {
    const state = JSON.parse(fs.readFileSync(stateFile(engine, STACK), "utf8")) as { checkpoint: { latest: { resources: Array<{ type: string; inputs?: Record<string, unknown> }> } } };
    const sent = state.checkpoint.latest.resources.filter((r) => r.type.startsWith("kubernetes:") && !r.type.startsWith("kubernetes:core/v1:Secret") && r.inputs);
    expect(sent.length).to.be.greaterThan(60);
    const mismatches: string[] = [];
    for (const resource of sent) {
      const inputs = resource.inputs as { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } };
      const live = await objects.read({ apiVersion: inputs.apiVersion, kind: inputs.kind, metadata: { name: inputs.metadata.name, ...(inputs.metadata.namespace ? { namespace: inputs.metadata.namespace } : {}) } });
      // The client's models rename reserved words (`from` -> `_from`): compare the wire form.
      const wire = toWire<unknown>(live, `V1${inputs.kind}`);
      for (const path of missingFrom(inputs, wire)) mismatches.push(`${inputs.kind}/${inputs.metadata.name}${path}`);
    }
    expect(mismatches).to.deep.equal([]);
  });

  it("a second up changes nothing (preview with expect-no-changes passes, up reports only 'same')", async () => {
    const preview = await previewStack({ stackName: STACK, engine, kubeconfig: cluster.kubeconfig, kc: cluster.kc, config: stackConfigMap(validConfig([ALPHA, BETA, GAMMA])), expectNoChanges: true });
    if (!preview.ok) expect.fail(preview.message);
    const result = await expectUp([ALPHA, BETA, GAMMA]);
    expect(Object.keys(result.summary.resourceChanges ?? {})).to.deep.equal(["same"]);
  });

  it("passwords are ciphertext in the state file and never appear in the engine's output", async () => {
    const text = fs.readFileSync(stateFile(engine, STACK), "utf8");
    expect(text).to.include("ciphertext");
    for (const id of ["alpha", "beta", "gamma"]) {
      const names = tenantNames(id);
      for (const [secret, key] of [[names.dbSecret, "password"], [names.dbSuperuserSecret, "password"], [names.adminSecret, "password"]] as const) {
        const value = await secretValue(names.namespace, secret, key);
        expect(value, `${secret}.${key}`).to.match(/^[A-Za-z0-9]{32}$/);
        expect(text.includes(value), `${secret}.${key} in the state`).to.equal(false);
        expect(printed.join("").includes(value), `${secret}.${key} in the engine output`).to.equal(false);
      }
    }
  });

  it("a plan change updates quota, limits and odoo.conf in place; the database StatefulSet and every volume keep their uid", async () => {
    const names = tenantNames("alpha");
    const before = await uids(names.namespace);
    const others = { beta: await versions("tenant-beta"), gamma: await versions("tenant-gamma") };
    expect(await secretValue(names.namespace, names.odooConfigSecret, "odoo.conf")).to.match(/^workers = 0$/m);
    const result = await expectUp([{ ...ALPHA, plan: "business" }, BETA, GAMMA]);
    expect(result.summary.resourceChanges?.replace ?? 0).to.equal(0);
    expect(result.summary.resourceChanges?.update).to.be.greaterThan(0);

    const quota = await core.readNamespacedResourceQuota({ name: names.quota, namespace: names.namespace });
    expect(quota.spec?.hard?.["limits.memory"]).to.equal("6Gi");
    const deployment = await apps.readNamespacedDeployment({ name: names.odoo, namespace: names.namespace });
    const odoo = deployment.spec?.template.spec?.containers.find((c) => c.name === "odoo");
    expect(odoo?.resources?.limits?.memory).to.equal("3Gi");
    expect(await secretValue(names.namespace, names.odooConfigSecret, "odoo.conf")).to.match(/^workers = 2$/m);

    const after = await uids(names.namespace);
    for (const [key, uid] of before) {
      if (key.startsWith("StatefulSet/") || key.startsWith("PersistentVolumeClaim/")) expect(after.get(key), key).to.equal(uid);
    }
    expect([...before.keys()].filter((k) => k.startsWith("PersistentVolumeClaim/"))).to.have.length.greaterThan(1);
    // Only alpha's objects changed.
    expect({ beta: await versions("tenant-beta"), gamma: await versions("tenant-gamma") }).to.deep.equal(others);
  });

  it("suspend scales Odoo to 0, resume brings it back", async () => {
    const names = tenantNames("gamma");
    await expectUp([{ ...ALPHA, plan: "business" }, BETA, { ...GAMMA, suspended: true }]);
    expect((await apps.readNamespacedDeployment({ name: names.odoo, namespace: names.namespace })).spec?.replicas).to.equal(0);
    await waitForPods(cluster.kc, (pods) => !pods.some((p) => p.tenant === "gamma" && p.component === "odoo"), 60_000);
    expect((await tenantPods(cluster.kc)).filter((p) => p.tenant === "gamma").map((p) => p.component)).to.deep.equal(["postgres"]);

    await expectUp([{ ...ALPHA, plan: "business" }, BETA, GAMMA]);
    expect((await apps.readNamespacedDeployment({ name: names.odoo, namespace: names.namespace })).spec?.replicas).to.equal(1);
    await waitForPods(cluster.kc, allRunning(6), 120_000);
  });

  it("removal retires: workloads gone; namespace, Secrets and volumes kept; re-adding the id is refused before anything is created", async () => {
    const names = tenantNames("gamma");
    const kept = await uids(names.namespace);
    await expectUp([{ ...ALPHA, plan: "business" }, BETA]);
    const left = await uids(names.namespace);
    for (const kind of ["Deployment", "StatefulSet", "CronJob", "Service", "Ingress", "NetworkPolicy", "ResourceQuota", "ConfigMap"]) {
      // kube-root-ca.crt is the cluster's own, in every namespace.
      expect([...left.keys()].filter((k) => k.startsWith(`${kind}/`) && k !== "ConfigMap/kube-root-ca.crt"), kind).to.deep.equal([]);
    }
    for (const [key, uid] of kept) {
      if (key.startsWith("Secret/") || key.startsWith("PersistentVolumeClaim/")) expect(left.get(key), key).to.equal(uid);
    }
    expect((await core.readNamespace({ name: names.namespace })).metadata?.uid).to.be.a("string");
    await waitForPods(cluster.kc, allRunning(4), 120_000);

    const again = await up([{ ...ALPHA, plan: "business" }, BETA, GAMMA]);
    expect(again.ok).to.equal(false);
    if (again.ok) return;
    expect(again.failure).to.equal("held-outside-stack");
    expect(again.message).to.match(/tenant "gamma": namespace tenant-gamma already exists outside this stack.*tenant:purge/s);
    expect(await uids(names.namespace)).to.deep.equal(left);
  });

  it("an invalid config fails naming the tenant and field, and creates nothing", async () => {
    const before = fs.readFileSync(stateFile(engine, STACK), "utf8");
    const outcome = await up([{ ...ALPHA, plan: "business" }, BETA, tenant({ id: "delta", plan: "platinum" })]);
    expect(outcome.ok).to.equal(false);
    if (outcome.ok) return;
    expect(outcome.failure).to.equal("invalid-config");
    expect(outcome.message).to.match(/tenants\[2\] \(id "delta"\): plan/);
    expect(fs.readFileSync(stateFile(engine, STACK), "utf8")).to.equal(before);
    expect((await core.listNamespace()).items.map((n) => n.metadata?.name)).not.to.include("tenant-delta");
  });

  it("kill -9 of the engine mid-up: the next run converges with no manual step and nothing duplicated", async () => {
    const tenants = [{ ...ALPHA, plan: "business" }, BETA, tenant({ id: "hooli" })];
    let killed = false;
    const outcome = await up(tenants, {}, (event) => {
      const started = event.resourcePreEvent?.metadata;
      // Kill while hooli's objects are being created: some done, some in flight.
      if (killed || started?.op !== "create" || !started.urn.endsWith("::hooli-db-secret")) return;
      killed = true;
      for (const pid of pidsMatching("pulumi", " up ", `--stack ${STACK}`)) {
        const plugins = childPids(pid);
        process.kill(pid, "SIGKILL");
        for (const child of plugins) try { process.kill(child, "SIGKILL"); } catch { /* gone */ }
      }
    });
    expect(killed, "the engine was killed mid-update").to.equal(true);
    expect(outcome.ok).to.equal(false);
    const lockDir = `${engine.backendDir}/.pulumi/locks/organization/odoo-saas/${STACK}`;
    expect(fs.readdirSync(lockDir), "the killed engine left its lock").to.have.length.greaterThan(0);

    const recovered = await expectUp(tenants);
    expect(recovered.summary.result).to.equal("succeeded");
    expect(fs.readdirSync(lockDir), "no lock left").to.deep.equal([]);
    const state = JSON.parse(fs.readFileSync(stateFile(engine, STACK), "utf8")) as { checkpoint: { latest: { resources: Array<{ urn: string }>; pending_operations?: unknown[] } } };
    const urns = state.checkpoint.latest.resources.map((r) => r.urn);
    expect(new Set(urns).size, "no URN twice in the state").to.equal(urns.length);
    expect(state.checkpoint.latest.pending_operations ?? []).to.deep.equal([]);
    expect((await uids("tenant-hooli")).size).to.equal((await uids("tenant-alpha")).size);
    const preview = await previewStack({ stackName: STACK, engine, kubeconfig: cluster.kubeconfig, kc: cluster.kc, config: stackConfigMap(validConfig(tenants)), expectNoChanges: true });
    if (!preview.ok) expect.fail(preview.message);
  });
});

/** Paths where `stored` lacks or differs from `sent` (what was sent must be a subset). */
function missingFrom(sent: unknown, stored: unknown, at = ""): string[] {
  if (Array.isArray(sent)) {
    if (!Array.isArray(stored)) return [at];
    return sent.flatMap((item, i) => missingFrom(item, stored[i], `${at}[${i}]`));
  }
  if (typeof sent === "object" && sent !== null) {
    if (typeof stored !== "object" || stored === null) return [at];
    return Object.entries(sent).flatMap(([k, v]) => missingFrom(v, Object.hasOwn(stored, k) ? (stored as Record<string, unknown>)[k] : undefined, `${at}.${k}`));
  }
  return sent === stored ? [] : [`${at} (${JSON.stringify(sent)} != ${JSON.stringify(stored)})`];
}

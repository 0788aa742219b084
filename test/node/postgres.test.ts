/**
 * Pods that run, on the local cluster's real node: the node itself, cluster DNS from a pod, and
 * the platform's own PostgreSQL StatefulSet (components/specs/postgres.ts) from the locally
 * built PostgreSQL 15 image on a local PersistentVolume in a real folder.
 */
import { expect } from "chai";
import * as k8s from "@kubernetes/client-node";
import { postgresService, postgresStatefulSet } from "../../components/specs/postgres";
import { roleSetupSources } from "../../components/specs/postgres-roles";
import { tenantNames } from "../../components/naming";
import { argsFor } from "../support/tenant-args";
import { image, podReady, realCluster, restrictedNamespace, runPython, waitFor } from "./real-cluster";

const DB_PASSWORD = "node-suite-db-password";
const SUPERUSER_PASSWORD = "node-suite-superuser-password";
// Connects through the Service, retrying while its endpoints follow a new pod (kube-proxy answers
// "connection refused" for a Service with no ready endpoint until it has the new one).
const PSQL = `
import os, time, psycopg2
deadline = time.time() + 60
while True:
    try:
        conn = psycopg2.connect(host=os.environ["DB_HOST"], dbname="pgnode", user=os.environ["DB_USER"], password=os.environ["DB_PASSWORD"], connect_timeout=5)
        break
    except psycopg2.OperationalError:
        if time.time() > deadline:
            raise
        time.sleep(0.5)
conn.autocommit = True
cur = conn.cursor()
cur.execute(os.environ["SQL"])
print("RESULT", cur.fetchone()[0] if cur.description else "ok")
`;

describe("real node: pods that run", function () {
  this.timeout(300_000);

  it("is Ready under its own name, and CoreDNS (k8s-app: kube-dns) answers cluster names from a pod", async () => {
    const core = realCluster().kc.makeApiClient(k8s.CoreV1Api);
    const node = await core.readNode({ name: "real-node-1" });
    expect(node.status?.conditions?.find((c) => c.type === "Ready")?.status).to.equal("True");
    expect(node.status?.addresses?.find((a) => a.type === "InternalIP")?.address).to.equal("10.201.0.2");
    expect(node.status?.nodeInfo?.containerRuntimeVersion).to.match(/^containerd:\/\//);
    const dns = await core.listNamespacedPod({ namespace: "kube-system", labelSelector: "k8s-app=kube-dns" });
    expect(dns.items.map((p) => p.spec?.nodeName)).to.deep.equal(["real-node-1"]);

    await restrictedNamespace("node-dns");
    const run = await runPython("node-dns", "resolve", "import socket; print('ADDR', socket.gethostbyname('kubernetes.default.svc.cluster.local'))");
    expect(run.phase, run.log).to.equal("Succeeded");
    expect(run.log).to.contain("ADDR 10.96.0.1");
  });

  it("runs the platform's PostgreSQL StatefulSet from the local image on a local PV, and keeps the data when its pod is deleted", async () => {
    const { kc } = realCluster();
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const apps = kc.makeApiClient(k8s.AppsV1Api);
    const args = argsFor({ id: "pgnode" }, { images: { postgres: image("postgres") }, storageClassName: "local-pool" });
    const names = tenantNames(args.id);
    const ns = names.namespace;
    await restrictedNamespace(ns);
    await core.createNamespacedServiceAccount({ namespace: ns, body: { metadata: { name: names.postgresServiceAccount } } });
    await core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: names.dbSecret }, stringData: { username: names.dbUser, password: DB_PASSWORD } } });
    await core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: names.dbSuperuserSecret }, stringData: { username: names.dbSuperuser, password: SUPERUSER_PASSWORD } } });
    // The role set-up the pod's init container runs (the same files the component ships).
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: names.postgresSetup }, data: roleSetupSources() } });
    // The spec functions return plain objects in the API's own shape (no Pulumi Outputs inside).
    const service = postgresService(args);
    await core.createNamespacedService({ namespace: ns, body: { apiVersion: "v1", kind: "Service", ...service } as unknown as k8s.V1Service });
    const sts = postgresStatefulSet(args);
    const t0 = Date.now();
    await apps.createNamespacedStatefulSet({ namespace: ns, body: { apiVersion: "apps/v1", kind: "StatefulSet", ...sts } as unknown as k8s.V1StatefulSet });
    const first = await waitFor("PostgreSQL Ready", () => podReady(ns, "app.kubernetes.io/name=postgres"), 180_000);
    console.log(`      (PostgreSQL Ready ${((Date.now() - t0) / 1000).toFixed(1)} s after the StatefulSet was created)`);
    expect(first.spec?.nodeName).to.equal("real-node-1");
    const claim = await core.readNamespacedPersistentVolumeClaim({ name: `data-${names.postgres}-0`, namespace: ns });
    expect(claim.spec?.volumeName).to.match(/^local-pv-real-node-1-/);

    const setupLog = await core.readNamespacedPodLog({ name: first.metadata!.name!, namespace: ns, container: "setup-roles" });
    expect(setupLog).to.contain(`application role ${names.dbUser}`);
    const env = { DB_HOST: `${names.postgres}.${ns}.svc.cluster.local`, DB_USER: names.dbUser, DB_PASSWORD };
    const write = await runPython(ns, "write", PSQL, { env: { ...env, SQL: "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('survives'); SELECT count(*) FROM kept" }, labels: { "odoo-saas.io/db-client": "true" } });
    expect(write.phase, write.log).to.equal("Succeeded");
    expect(write.log).to.contain("RESULT 1");

    await core.deleteNamespacedPod({ name: first.metadata!.name!, namespace: ns });
    const t1 = Date.now();
    const second = await waitFor("PostgreSQL Ready again", async () => {
      const p = await podReady(ns, "app.kubernetes.io/name=postgres");
      return p !== undefined && p.metadata?.uid !== first.metadata?.uid ? p : undefined;
    }, 180_000);
    console.log(`      (PostgreSQL Ready ${((Date.now() - t1) / 1000).toFixed(1)} s after its pod was deleted)`);
    const log = await core.readNamespacedPodLog({ name: second.metadata!.name!, namespace: ns, container: "postgres" });
    expect(log).to.contain("Skipping initialization");
    const read = await runPython(ns, "read", PSQL, { env: { ...env, SQL: "SELECT string_agg(v, ',') FROM kept" }, labels: { "odoo-saas.io/db-client": "true" } });
    expect(read.phase, read.log).to.equal("Succeeded");
    expect(read.log).to.contain("RESULT survives");
  });
});

/**
 * One tenant of the real program on the real node: the engine deploys the dev stack's objects
 * (namespace under "restricted", NetworkPolicies, quota, Secrets, the PostgreSQL StatefulSet, the
 * Odoo Deployment with its init container) with the image settings pointing at the locally built
 * images. PostgreSQL becomes Ready on its local PV, the init container initialises the database
 * through the tenant's own policies and cluster DNS, and the ODOO STAND-IN (not Odoo: Odoo
 * cannot be had here) becomes Ready through the Deployment's own probes against it.
 */
import { expect } from "chai";
import * as k8s from "@kubernetes/client-node";
import { deployStack } from "../../automation/engine/deploy";
import { startOnDemandBackup } from "../../backup/k8s";
import { stackConfigMap, tempEngine } from "../support/engine-stack";
import { tenant, validConfig } from "../support/fixtures";
import { image, podReady, realCluster, restrictedNamespace, runPython, waitFor } from "./real-cluster";

// GET URL with a Host header, retried for SECONDS; prints the status and the start of the body, or FAILED.
const HTTP = `
import os, time, urllib.request
deadline = time.time() + float(os.environ["SECONDS"])
while True:
    try:
        req = urllib.request.Request(os.environ["URL"], headers={"Host": os.environ["HOST"]})
        with urllib.request.urlopen(req, timeout=3) as res:
            print("STATUS", res.status, res.read(300).decode(errors="replace").replace("\\n", " "))
        break
    except Exception as err:
        if time.time() > deadline:
            print("FAILED", err)
            break
        time.sleep(0.5)
`;

describe("real node: tenants deployed by the real engine", function () {
  this.timeout(600_000);

  it("ends with PostgreSQL and the Odoo stand-in Ready through their probes; a restart does not initialise again", async () => {
    const { kc, kubeconfig } = realCluster();
    const standin = { image: image("odoo-standin"), uid: 101, gid: 101 };
    // Two tenants: the isolation test (isolation.test.ts) probes between them afterwards.
    const config = { ...validConfig([tenant({ id: "acme" }), tenant({ id: "globex" })]), images: { odoo: { "17.0": standin, "18.0": standin }, postgres: image("postgres"), backup: image("backup") } };
    const t0 = Date.now();
    const outcome = await deployStack({ stackName: "node", engine: tempEngine("node"), kubeconfig, kc, config: stackConfigMap(config) });
    expect(outcome.ok, outcome.ok ? "" : outcome.message).to.equal(true);
    const odoo = await waitFor("the Odoo stand-in Ready", () => podReady("tenant-acme", "app.kubernetes.io/name=odoo"), 300_000);
    console.log(`      (deployed and Ready in ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    expect(odoo.spec?.nodeName).to.equal("real-node-1");
    const postgres = await podReady("tenant-acme", "app.kubernetes.io/name=postgres");
    expect(postgres?.spec?.nodeName).to.equal("real-node-1");

    const core = kc.makeApiClient(k8s.CoreV1Api);
    const init = await core.readNamespacedPodLog({ name: odoo.metadata!.name!, namespace: "tenant-acme", container: "init-database" });
    expect(init).to.contain("administrator login and password set");
    const server = await core.readNamespacedPodLog({ name: odoo.metadata!.name!, namespace: "tenant-acme", container: "odoo" });
    expect(server).to.contain("stand-in, not Odoo");

    // Through the ingress controller by the tenant's host name; directly, the tenant's policies refuse.
    await restrictedNamespace("node-client");
    const viaIngress = await runPython("node-client", "via-ingress", HTTP, { env: { URL: "http://traefik.traefik.svc.cluster.local/web/login", HOST: "acme.odoo-saas.test", SECONDS: "60" } });
    expect(viaIngress.log).to.match(/^STATUS 200 .*Odoo stand-in/);
    const direct = await runPython("node-client", "direct", HTTP, { env: { URL: `http://${odoo.status!.podIP!}:8069/web/login`, HOST: "acme.odoo-saas.test", SECONDS: "6" } });
    expect(direct.log).to.match(/^FAILED/);

    // A new Odoo pod finds the database initialised and starts without touching it.
    await core.deleteNamespacedPod({ name: odoo.metadata!.name!, namespace: "tenant-acme" });
    const again = await waitFor("a new Odoo stand-in Ready", async () => {
      const p = await podReady("tenant-acme", "app.kubernetes.io/name=odoo");
      return p !== undefined && p.metadata?.uid !== odoo.metadata?.uid ? p : undefined;
    }, 300_000);
    const second = await core.readNamespacedPodLog({ name: again.metadata!.name!, namespace: "tenant-acme", container: "init-database" });
    expect(second).to.contain("already initialised");
  });

  it("runs a backup Job from the tenant's CronJob in the locally built backup image: pg_dump through the tenant's policies, an archive on the backup volume", async () => {
    const { kc } = realCluster();
    const t0 = Date.now();
    const result = await startOnDemandBackup(kc, "acme", { wait: true, timeoutMs: 240_000, pollMs: 2_000 });
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const pods = await core.listNamespacedPod({ namespace: "tenant-acme", labelSelector: `job-name=${result.jobName}` });
    const log = pods.items[0] ? await core.readNamespacedPodLog({ name: pods.items[0].metadata!.name!, namespace: "tenant-acme" }) : "(no pod)";
    expect(result.outcome, log).to.deep.equal({ succeeded: true });
    console.log(`      (backup Job done in ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    expect(result.backupName, log).to.match(/^acme-\d{8}T\d{6}Z-on-demand\.zip$/);
    expect(pods.items[0]?.spec?.nodeName).to.equal("real-node-1");
  });
});

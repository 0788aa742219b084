/**
 * Create, suspend and resume on the real node (issue 20 §3, issue 22 item 4), with the customer
 * status computed by the server's own parts against the real cluster and the real ingress:
 * PostgreSQL Ready on its local volume, the init container initialising the database once,
 * the Odoo STAND-IN (not Odoo) Ready through its probes, the tenant answering through Traefik by
 * host name, and only then "ready"; a Ready pod without a route is not "ready"; a tenant whose
 * database cannot start never is. Suspend and resume stop and start the Odoo pod; the data
 * survives the PostgreSQL pod's deletion.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { expect } from "chai";
import * as k8s from "@kubernetes/client-node";
import { deployStack } from "../../automation/engine/deploy";
import { stackConfigMap, tempEngine } from "../support/engine-stack";
import { podReady, realCluster, sleep, waitFor } from "./real-cluster";
import { DOMAIN, adminCredentials, lifeConfig, postgresVolumeDir, statusNow, throughIngress } from "./tenant-life";

describe("real node: a tenant's life, and 'ready' only when its address answers through the ingress", function () {
  this.timeout(900_000);
  const engine = tempEngine("node-life");
  const deploy = async (tenants: Array<{ id: string; suspended?: boolean }>): Promise<void> => {
    const { kc, kubeconfig } = realCluster();
    const outcome = await deployStack({ stackName: "life", engine, kubeconfig, kc, config: stackConfigMap(lifeConfig(tenants)) });
    expect(outcome.ok, outcome.ok ? "" : outcome.message).to.equal(true);
  };
  const core = (): k8s.CoreV1Api => realCluster().kc.makeApiClient(k8s.CoreV1Api);
  const host = `delta.${DOMAIN}`;

  after(async () => {
    // Frees the node for the suite's later files (the PVs stay Released, as Retain says).
    for (const ns of ["tenant-delta", "tenant-echo"]) await core().deleteNamespace({ name: ns }).catch(() => undefined);
  });

  it("create: PostgreSQL Ready on its volume, initialised once, the stand-in Ready, the host answering through Traefik; only then 'ready'", async () => {
    const samples: Array<{ status: string; pg: boolean; odoo: boolean; health: number }> = [];
    let deploying = true;
    // Sample what the customer would read while the engine works, with what was true at that moment.
    const sampler = (async () => {
      while (deploying) {
        const status = (await statusNow("delta").catch(() => undefined))?.status ?? "error";
        const pg = (await podReady("tenant-delta", "app.kubernetes.io/name=postgres").catch(() => undefined)) !== undefined;
        const odoo = (await podReady("tenant-delta", "app.kubernetes.io/name=odoo").catch(() => undefined)) !== undefined;
        const health = (await throughIngress(host, "GET", "/web/health").catch(() => ({ status: 0 }))).status;
        samples.push({ status, pg, odoo, health });
        await sleep(1_000);
      }
    })();
    try {
      await deploy([{ id: "delta" }, { id: "echo" }]);
      await waitFor("delta 'ready'", async () => ((await statusNow("delta")).status === "ready" ? true : undefined), 300_000);
    } finally {
      deploying = false;
      await sampler;
    }
    const ready = samples.filter((s) => s.status === "ready");
    // Whenever it said "ready", PostgreSQL and Odoo were Ready and the host answered 200.
    expect(ready.every((s) => s.pg && s.odoo && s.health === 200), JSON.stringify(samples)).to.equal(true);
    expect(samples.some((s) => s.status !== "ready"), "the sampler saw the tenant before it was ready").to.equal(true);

    const pg = await podReady("tenant-delta", "app.kubernetes.io/name=postgres");
    expect(pg?.spec?.nodeName).to.equal("real-node-1");
    expect(fs.existsSync(path.join(await postgresVolumeDir("delta"), "pgdata", "PG_VERSION")), "PostgreSQL's data on the local PV's folder").to.equal(true);
    const odoo = await podReady("tenant-delta", "app.kubernetes.io/name=odoo");
    const first = await core().readNamespacedPodLog({ name: odoo!.metadata!.name!, namespace: "tenant-delta", container: "init-database" });
    expect(first).to.contain("administrator login and password set");
    const login = await throughIngress(host, "GET", "/web/login");
    expect(login.status).to.equal(200);
    expect(login.body).to.contain("Odoo stand-in");

    // A Ready pod behind no route is not "ready": without its Ingress the host answers 404.
    const net = realCluster().kc.makeApiClient(k8s.NetworkingV1Api);
    const ingresses = (await net.listNamespacedIngress({ namespace: "tenant-delta" })).items;
    expect(ingresses.length).to.equal(1);
    await net.deleteNamespacedIngress({ name: ingresses[0]!.metadata!.name!, namespace: "tenant-delta" });
    const unrouted = await waitFor("delta's host without a route", async () => {
      const s = await statusNow("delta");
      return s.status !== "ready" ? s : undefined;
    }, 60_000);
    expect(unrouted.status).to.equal("starting");
    expect(unrouted.detail.reason).to.match(/public address does not answer yet: delta\.odoo-saas\.test answered HTTP 404/);
    expect(await podReady("tenant-delta", "app.kubernetes.io/name=odoo")).to.not.equal(undefined);
    await deploy([{ id: "delta" }, { id: "echo" }]); // the engine's refresh finds the Ingress gone and makes it again
    await waitFor("delta 'ready' again", async () => ((await statusNow("delta")).status === "ready" ? true : undefined), 120_000);

    // A restart of the Odoo pod does not initialise again.
    await core().deleteNamespacedPod({ name: odoo!.metadata!.name!, namespace: "tenant-delta" });
    const again = await waitFor("a new Odoo pod Ready", async () => {
      const p = await podReady("tenant-delta", "app.kubernetes.io/name=odoo");
      return p !== undefined && p.metadata?.uid !== odoo!.metadata?.uid ? p : undefined;
    }, 240_000);
    const second = await core().readNamespacedPodLog({ name: again.metadata!.name!, namespace: "tenant-delta", container: "init-database" });
    expect(second).to.contain("already initialised");
    expect(second).to.not.contain("administrator login and password set");
  });

  it("suspend stops the Odoo pod (and the host stops answering); resume starts it and it is 'ready' again", async () => {
    await deploy([{ id: "delta", suspended: true }, { id: "echo" }]);
    await waitFor("no Odoo pod of delta", async () => ((await core().listNamespacedPod({ namespace: "tenant-delta", labelSelector: "app.kubernetes.io/name=odoo" })).items.length === 0 ? true : undefined), 120_000);
    expect((await statusNow("delta", true)).status).to.equal("suspended");
    expect((await throughIngress(host, "GET", "/web/health")).status).to.not.equal(200);
    expect(await podReady("tenant-delta", "app.kubernetes.io/name=postgres"), "PostgreSQL keeps running").to.not.equal(undefined);
    await deploy([{ id: "delta" }, { id: "echo" }]);
    await waitFor("delta 'ready' after resume", async () => ((await statusNow("delta")).status === "ready" ? true : undefined), 240_000);
  });

  it("the data survives the PostgreSQL pod's deletion: the admin signs in with the password set at the first start", async () => {
    const { login, password } = await adminCredentials("delta");
    expect((await throughIngress(host, "POST", "/web/login", { login, password })).status).to.equal(200);
    const old = await podReady("tenant-delta", "app.kubernetes.io/name=postgres");
    await core().deleteNamespacedPod({ name: "delta-postgres-0", namespace: "tenant-delta" });
    await waitFor("a new PostgreSQL pod Ready", async () => {
      const p = await podReady("tenant-delta", "app.kubernetes.io/name=postgres");
      return p !== undefined && p.metadata?.uid !== old?.metadata?.uid ? p : undefined;
    }, 240_000);
    // The same Odoo pod, a new connection, the same res_users row; a wrong password still fails.
    const signIn = await waitFor("sign-in after the restart", async () => {
      const r = await throughIngress(host, "POST", "/web/login", { login, password });
      return r.status === 200 ? r : undefined;
    }, 60_000);
    expect(signIn.body).to.contain(login);
    expect((await throughIngress(host, "POST", "/web/login", { login, password: `${password}x` })).status).to.equal(401);
  });

  it("a tenant whose database cannot start is never 'ready'", async () => {
    await waitFor("echo 'ready' first", async () => ((await statusNow("echo")).status === "ready" ? true : undefined), 240_000);
    // Its data folder now claims another PostgreSQL version: the server refuses to start on it.
    const version = path.join(await postgresVolumeDir("echo"), "pgdata", "PG_VERSION");
    fs.writeFileSync(version, "9\n");
    const odoo = await podReady("tenant-echo", "app.kubernetes.io/name=odoo");
    await core().deleteNamespacedPod({ name: "echo-postgres-0", namespace: "tenant-echo" });
    await core().deleteNamespacedPod({ name: odoo!.metadata!.name!, namespace: "tenant-echo" });
    const seen = new Set<string>();
    const until = Date.now() + 60_000;
    while (Date.now() < until) {
      const s = await statusNow("echo");
      seen.add(s.status);
      expect(s.status, s.detail.reason).to.not.equal("ready");
      await sleep(2_000);
    }
    expect(await podReady("tenant-echo", "app.kubernetes.io/name=postgres"), "PostgreSQL is not Ready on the broken folder").to.equal(undefined);
    const log = await core().readNamespacedPodLog({ name: "echo-postgres-0", namespace: "tenant-echo", container: "postgres", previous: false }).catch(() => "");
    console.log(`      (echo's statuses: ${[...seen].join(", ")}; PostgreSQL said: ${log.trim().split("\n").at(-1) ?? "(nothing yet)"})`);
    expect([...seen].every((s) => s === "starting" || s === "failed"), [...seen].join(",")).to.equal(true);
  });
});

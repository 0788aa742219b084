/**
 * Recovery on the real node (issue 20 §3): the kubelet is stopped and started again, as an
 * upgrade does; while it is down the Odoo stand-in's process is killed. The new kubelet takes
 * the running pods over (same pods, PostgreSQL untouched), restarts the killed container, and
 * the tenant answers through the ingress and is "ready" again.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { expect } from "chai";
import * as k8s from "@kubernetes/client-node";
import { deployStack } from "../../automation/engine/deploy";
import { repoRoot } from "../../automation/engine/engine-env";
import { stackConfigMap, tempEngine } from "../support/engine-stack";
import { podReady, realCluster, waitFor } from "./real-cluster";
import { podCgroup } from "./sockets";
import { DOMAIN, lifeConfig, statusNow, throughIngress } from "./tenant-life";

/** Pids in the pod's cgroup (cgroup v1 pids hierarchy) whose command line mentions `word`. */
function podProcesses(stateDir: string, podUid: string, word: string): number[] {
  const root = path.join("/sys/fs/cgroup/pids", podCgroup(stateDir));
  const found: number[] = [];
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) walk(path.join(dir, e.name));
      else if (e.name === "cgroup.procs" && dir.includes(`pod${podUid}`)) {
        for (const l of fs.readFileSync(path.join(dir, e.name), "utf8").split("\n").filter((x) => x !== "")) {
          try {
            if (fs.readFileSync(`/proc/${l}/cmdline`, "utf8").includes(word)) found.push(Number(l));
          } catch { /* ended */ }
        }
      }
    }
  };
  walk(root);
  return found;
}

describe("real node: recovery from a kubelet restart", function () {
  this.timeout(600_000);
  const core = (): k8s.CoreV1Api => realCluster().kc.makeApiClient(k8s.CoreV1Api);

  after(async () => {
    await core().deleteNamespace({ name: "tenant-foxtrot" }).catch(() => undefined);
  });

  it("pods keep running across it, a container killed meanwhile is restarted, and the tenant is 'ready' again", async () => {
    const { kc, kubeconfig, dir } = realCluster();
    const outcome = await deployStack({ stackName: "recovery", engine: tempEngine("node-recovery"), kubeconfig, kc, config: stackConfigMap(lifeConfig([{ id: "foxtrot" }])) });
    expect(outcome.ok, outcome.ok ? "" : outcome.message).to.equal(true);
    await waitFor("foxtrot 'ready'", async () => ((await statusNow("foxtrot")).status === "ready" ? true : undefined), 300_000);
    const odoo = (await podReady("tenant-foxtrot", "app.kubernetes.io/name=odoo"))!;
    const pg = (await podReady("tenant-foxtrot", "app.kubernetes.io/name=postgres"))!;
    const restarts = odoo.status?.containerStatuses?.find((c) => c.name === "odoo")?.restartCount ?? 0;
    const kubeletBefore = fs.readFileSync(path.join(dir, "pids", "kubelet"), "utf8").trim();
    const standin = podProcesses(dir, odoo.metadata!.uid!, "odoo");
    expect(standin.length, "the stand-in's process in its pod's cgroup").to.be.greaterThan(0);

    const env = { ...process.env, ODOO_SAAS_CLUSTER_DIR: dir };
    const script = path.join(repoRoot(), "scripts", "local-cluster");
    // Stop the kubelet, kill the stand-in while nobody watches it, start the kubelet again.
    execFileSync(script, ["kubelet", "stop"], { env, stdio: ["ignore", "inherit", "inherit"], timeout: 60_000 });
    for (const pid of standin) process.kill(pid, "SIGKILL");
    execFileSync(script, ["kubelet", "start"], { env, stdio: ["ignore", "inherit", "inherit"], timeout: 180_000 });
    const kubeletAfter = fs.readFileSync(path.join(dir, "pids", "kubelet"), "utf8").trim();
    expect(kubeletAfter).to.not.equal(kubeletBefore);

    const back = await waitFor("the stand-in restarted in the same pod", async () => {
      const p = await core().readNamespacedPod({ name: odoo.metadata!.name!, namespace: "tenant-foxtrot" });
      const c = p.status?.containerStatuses?.find((s) => s.name === "odoo");
      return c !== undefined && c.restartCount > restarts && c.ready ? p : undefined;
    }, 240_000);
    expect(back.metadata?.uid).to.equal(odoo.metadata?.uid);
    const pgNow = await podReady("tenant-foxtrot", "app.kubernetes.io/name=postgres");
    expect(pgNow?.metadata?.uid).to.equal(pg.metadata?.uid);
    expect(pgNow?.status?.containerStatuses?.find((c) => c.name === "postgres")?.restartCount).to.equal(pg.status?.containerStatuses?.find((c) => c.name === "postgres")?.restartCount);
    await waitFor("foxtrot 'ready' again", async () => ((await statusNow("foxtrot")).status === "ready" ? true : undefined), 120_000);
    expect((await throughIngress(`foxtrot.${DOMAIN}`, "GET", "/web/health")).status).to.equal(200);
  });
});

/**
 * Two real nodes (issue 20, section 1), in a cluster of this file's own: LOCAL_CLUSTER_REAL_NODES=2
 * in a state folder of its own, so the node suite's cluster (test/node/real-cluster.ts) keeps its
 * one node. It proves what one node cannot:
 * - required pod anti-affinity puts two pods on different real nodes, and a third finds none;
 * - a pod on real-node-1 reaches a pod on real-node-2 by pod IP, by Service and by DNS name,
 *   across the control plane's bridge; a NetworkPolicy default deny in the target namespace
 *   blocks it (kube-router on real-node-2 enforces), an allow rule from the client's namespace
 *   opens it again;
 * - every socket of both nodes' processes stays on loopback or inside the set-up's namespaces;
 * - `down` removes both nodes: processes, namespaces, cgroups, mounts.
 * It logs the start time and each daemon's resident memory (README "A real node").
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as k8s from "@kubernetes/client-node";
import { expect } from "chai";
import { repoRoot } from "../../automation/engine/engine-env";
import { startLocalCluster, type LocalCluster } from "../../local/local-cluster";
import { clusterProcesses, isInside, podCgroup, socketsOf } from "./sockets";
import { waitFor } from "./real-cluster";
import { createPod, probe, rssMiB, running, until } from "./two-nodes-pods";

const CLIENT_NS = "two-nodes-client";
const SERVER_NS = "two-nodes-server";
const CLIENT = { namespace: CLIENT_NS, name: "client" };
// The bridge and veths of the control plane's namespace, the pods, the Services.
const INSIDE: Array<[string, number]> = [["10.201.0.0", 24], ["10.245.0.0", 16], ["10.96.0.0", 16]];
const WEB = { app: "web" };
const apart: k8s.V1Affinity = {
  podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: "kubernetes.io/hostname", labelSelector: { matchLabels: WEB } }] },
};

function ip(args: string[]): unknown[] {
  return JSON.parse(execFileSync("ip", ["-j", ...args], { encoding: "utf8" }) || "[]") as unknown[];
}

function pidFiles(dir: string): Map<string, number> {
  const pids = new Map<string, number>();
  for (const f of fs.readdirSync(path.join(dir, "pids"))) pids.set(f, Number(fs.readFileSync(path.join(dir, "pids", f), "utf8").trim()));
  return pids;
}

describe("two real nodes: anti-affinity, cross-node traffic and policy, in a cluster of their own", function () {
  this.timeout(300_000);
  let cluster: LocalCluster | undefined;
  let kc: k8s.KubeConfig;
  let core: k8s.CoreV1Api;
  let target: k8s.V1Pod;
  let service = "";

  before(function () {
    this.timeout(900_000);
    const t0 = Date.now();
    cluster = startLocalCluster(1, 1, { realNode: true, realNodes: 2, realPvs: 1 });
    console.log(`      (local cluster with two real nodes up in ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    kc = cluster.kc;
    core = kc.makeApiClient(k8s.CoreV1Api);
  });

  after(function () {
    this.timeout(180_000);
    cluster?.down();
    cluster = undefined;
  });

  it("required pod anti-affinity puts two pods on different real nodes, and a third finds no node", async () => {
    const image = cluster!.images["odoo-standin"]!;
    for (const ns of [CLIENT_NS, SERVER_NS]) await core.createNamespace({ body: { metadata: { name: ns } } });
    const serve = ["python3", "-m", "http.server", "8080", "--bind", "0.0.0.0", "--directory", "/tmp"];
    const web = (slot: string): Promise<void> => createPod(kc, { name: `web-${slot}`, namespace: SERVER_NS, image, command: serve, labels: { ...WEB, slot }, affinity: apart });
    await Promise.all(["a", "b"].map(web));
    const pods = await Promise.all(["a", "b"].map((slot) => running(kc, SERVER_NS, `web-${slot}`)));
    expect(pods.map((p) => p.spec?.nodeName).sort()).to.deep.equal(["real-node-1", "real-node-2"]);
    await web("c");
    const scheduled = await waitFor("web-c's scheduling verdict", async () => {
      const c = (await core.readNamespacedPod({ name: "web-c", namespace: SERVER_NS })).status?.conditions?.find((x) => x.type === "PodScheduled");
      return c?.status === "False" ? c : undefined;
    }, 60_000);
    expect(scheduled?.reason).to.equal("Unschedulable");
    expect(scheduled?.message).to.match(/anti-affinity/);
    target = pods.find((p) => p.spec?.nodeName === "real-node-2")!;
  });

  it("a pod on real-node-1 reaches a pod on real-node-2 by pod IP, by Service and by DNS name", async () => {
    await createPod(kc, { ...CLIENT, image: cluster!.images["odoo-standin"]!, command: ["python3", "-c", "import time; time.sleep(3600)"], nodeName: "real-node-1" });
    const client = await running(kc, CLIENT_NS, "client");
    expect(client.spec?.nodeName).to.equal("real-node-1");
    expect(client.status?.podIP).to.match(/^10\.245\.1\./);
    expect(target.status?.podIP).to.match(/^10\.245\.2\./);
    const svc = await core.createNamespacedService({
      namespace: SERVER_NS,
      body: { metadata: { name: "web" }, spec: { selector: { slot: target.metadata!.labels!["slot"]! }, ports: [{ port: 80, targetPort: 8080 }] } },
    });
    service = svc.spec!.clusterIP!;
    await until(kc, CLIENT, [[target.status!.podIP!, 8080], [service, 80], [`web.${SERVER_NS}.svc.cluster.local`, 80]], "open");
  });

  it("a default deny in the target namespace blocks it (kube-router on real-node-2); an allow from the client's namespace opens it", async () => {
    const net = kc.makeApiClient(k8s.NetworkingV1Api);
    const targets: Array<[string, number]> = [[target.status!.podIP!, 8080], [service, 80]];
    await net.createNamespacedNetworkPolicy({ namespace: SERVER_NS, body: { metadata: { name: "default-deny" }, spec: { podSelector: {}, policyTypes: ["Ingress"] } } });
    let t0 = Date.now();
    const blocked = await until(kc, CLIENT, targets, "blocked");
    // Still shut a moment later: the deny holds, it was no passing hiccup.
    await new Promise((r) => setTimeout(r, 1_000));
    for (const [h, port] of targets) expect(await probe(kc, CLIENT_NS, "client", h, port), `${h}:${port}`).to.match(/^blocked /);
    console.log(`      (deny effective in ${Date.now() - t0} ms: ${blocked.join("; ")})`);
    t0 = Date.now();
    await net.createNamespacedNetworkPolicy({
      namespace: SERVER_NS,
      body: {
        metadata: { name: "allow-client" },
        spec: {
          podSelector: { matchLabels: WEB }, policyTypes: ["Ingress"],
          ingress: [{ _from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": CLIENT_NS } } }], ports: [{ port: 8080, protocol: "TCP" }] }],
        },
      },
    });
    await until(kc, CLIENT, targets, "open");
    console.log(`      (allow effective in ${Date.now() - t0} ms)`);
    // The allow names one namespace: a pod of another (the target's own, on real-node-1) stays shut out.
    const other = (await core.listNamespacedPod({ namespace: SERVER_NS, labelSelector: "app=web" })).items.find((p) => p.spec?.nodeName === "real-node-1");
    expect(other?.metadata?.name).to.be.a("string");
    expect(await probe(kc, SERVER_NS, other!.metadata!.name!, target.status!.podIP!, 8080)).to.match(/^blocked /);
  });

  it("every socket of both nodes' processes stays on loopback or inside the set-up's namespaces", () => {
    const { dir } = cluster!;
    const rootNetns = fs.readlinkSync("/proc/self/ns/net");
    const pids = clusterProcesses(dir, 2);
    const uses = pids.flatMap((pid) => socketsOf(pid));
    const outside = uses.filter((u) => !isInside(u.remote, INSIDE));
    expect(outside, JSON.stringify(outside, null, 1)).to.deep.equal([]);
    const rootUses = uses.filter((u) => u.netns === rootNetns && !/^(127\.|0\.0\.0\.0|::)/.test(u.remote));
    expect(rootUses, JSON.stringify(rootUses, null, 1)).to.deep.equal([]);
    const daemons = pidFiles(dir);
    expect(socketsOf(daemons.get("kubelet-2")!).some((u) => u.remote.startsWith("10.201.0.1:")), "kubelet-2 -> API server over the bridge").to.equal(true);
    const env = execFileSync(path.join(repoRoot(), "scripts", "local-cluster"), ["env"], { env: { ...process.env, ODOO_SAAS_CLUSTER_DIR: dir }, encoding: "utf8" });
    const n1 = /LOCAL_CLUSTER_NODE_NETNS='([^']+)'/.exec(env)?.[1];
    const n2 = /LOCAL_CLUSTER_NODE_NETNS_2='([^']+)'/.exec(env)?.[1];
    expect(n2, env).to.equal(n1?.replace("osaas-n1-", "osaas-n2-"));
    for (const ns of [n1!, n2!, n1!.replace("osaas-n1-", "osaas-cp-")]) {
      expect(ip(["-n", ns, "route", "show", "default"]), `default route in ${ns}`).to.deep.equal([]);
    }
    const root = JSON.stringify([...ip(["addr"]), ...ip(["route"])]);
    for (const prefix of ["10.201.", "10.245.", "10.96."]) expect(root).to.not.contain(`"${prefix}`);
    // Pods of node 2 run in node 2's cgroup and in namespaces of their own (not node 1's, not the root's).
    const node2Pods = pids.filter((pid) => { try { return fs.readFileSync(`/proc/${pid}/cgroup`, "utf8").includes(`/${podCgroup(dir, 2)}/`); } catch { return false; } });
    expect(node2Pods.length, "node 2's pod processes").to.be.greaterThan(1);
    for (const pid of node2Pods) expect(fs.readlinkSync(`/proc/${pid}/ns/net`)).to.not.equal(rootNetns);
    // Memory, for the README: each daemon, then each node's pods (with their shims).
    const rows = [...daemons].map(([name, pid]) => `${name} ${rssMiB(pid).toFixed(0)} MiB`);
    const node2 = ["containerd-2", "kubelet-2", "kube-proxy-2", "kube-router-2"].reduce((sum, n) => sum + rssMiB(daemons.get(n)!), 0);
    const all = pids.reduce((sum, pid) => sum + rssMiB(pid), 0);
    console.log(`      (RSS: ${rows.join(", ")}; node 2's daemons ${node2.toFixed(0)} MiB; every process of the cluster ${all.toFixed(0)} MiB)`);
  });

  it("down removes both nodes: processes, network namespaces, cgroups, mounts", () => {
    const { dir } = cluster!;
    const pids = clusterProcesses(dir, 2);
    const tag = podCgroup(dir).replace("odoo-saas-", "");
    cluster!.down();
    cluster = undefined;
    const alive = pids.filter((pid) => { try { return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(dir); } catch { return false; } });
    expect(alive).to.deep.equal([]);
    for (const ns of [`osaas-cp-${tag}`, `osaas-n1-${tag}`, `osaas-n2-${tag}`]) expect(fs.existsSync(`/run/netns/${ns}`), ns).to.equal(false);
    for (const h of fs.readdirSync("/sys/fs/cgroup")) {
      for (const n of [1, 2]) expect(fs.existsSync(path.join("/sys/fs/cgroup", h, podCgroup(dir, n))), `${h}/${podCgroup(dir, n)}`).to.equal(false);
    }
    expect(fs.readFileSync("/proc/self/mountinfo", "utf8")).to.not.contain(dir);
  });
});

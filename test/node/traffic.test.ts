/**
 * All traffic stays on the machine (issue 20): after the other node tests ran, every socket of
 * every process the cluster runs (components, pods, shims) is connected to loopback or to an
 * address that exists only inside the network namespaces the set-up made; those namespaces have
 * no default route; the root namespace holds none of their addresses and its connection
 * tracking saw none of them. Runs last in the node suite (test/mocharc.node.json).
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { expect } from "chai";
import { repoRoot } from "../../automation/engine/engine-env";
import { clusterProcesses, isInside, podCgroup, socketsOf, type SocketUse } from "./sockets";
import { realCluster } from "./real-cluster";

// The veth between the control plane and the node, the pods, the Services.
const INSIDE: Array<[string, number]> = [["10.201.0.0", 24], ["10.245.0.0", 16], ["10.96.0.0", 16]];

function ip(args: string[]): unknown[] {
  return JSON.parse(execFileSync("ip", ["-j", ...args], { encoding: "utf8" }) || "[]") as unknown[];
}

describe("real node: no traffic leaves the machine", function () {
  this.timeout(120_000);

  it("every socket of the cluster's processes is connected to loopback or an address inside its own namespaces", () => {
    const { dir } = realCluster();
    const rootNetns = fs.readlinkSync("/proc/self/ns/net");
    const pids = clusterProcesses(dir);
    const uses: SocketUse[] = pids.flatMap((pid) => socketsOf(pid));
    const outside = uses.filter((u) => !isInside(u.remote, INSIDE));
    expect(outside, JSON.stringify(outside, null, 1)).to.deep.equal([]);
    // In the root namespace only loopback is allowed (the API forwarder's listener and its clients).
    const rootUses = uses.filter((u) => u.netns === rootNetns && !/^(127\.|0\.0\.0\.0|::)/.test(u.remote));
    expect(rootUses, JSON.stringify(rootUses, null, 1)).to.deep.equal([]);
    // The check saw real traffic: the kubelet's connection to the API server over the veth, and pods.
    expect(uses.some((u) => u.command === "kubelet" && u.remote.startsWith("10.201.0.1:")), "kubelet -> API server").to.equal(true);
    expect(new Set(uses.map((u) => u.netns)).size, "namespaces seen").to.be.greaterThan(3);
    expect(pids.length).to.be.greaterThan(10);
  });

  it("the set-up's namespaces have no default route, and the root namespace has none of their addresses or connections", () => {
    const env = execFileSync(path.join(repoRoot(), "scripts", "local-cluster"), ["env"], {
      env: { ...process.env, ODOO_SAAS_CLUSTER_DIR: realCluster().dir }, encoding: "utf8",
    });
    const nodeNs = /LOCAL_CLUSTER_NODE_NETNS='([^']+)'/.exec(env)?.[1];
    expect(nodeNs, env).to.match(/^osaas-n1-/);
    const cpNs = nodeNs!.replace("osaas-n1-", "osaas-cp-");
    for (const ns of [cpNs, nodeNs!]) {
      expect(ip(["-n", ns, "route", "show", "default"]), `default route in ${ns}`).to.deep.equal([]);
      expect(ip(["-n", ns, "-6", "route", "show", "default"]), `IPv6 default route in ${ns}`).to.deep.equal([]);
    }
    const rootAddrs = JSON.stringify(ip(["addr"]));
    for (const prefix of ["10.201.", "10.245.", "10.96."]) expect(rootAddrs).to.not.contain(`"${prefix}`);
    const rootRoutes = JSON.stringify(ip(["route"]));
    for (const prefix of ["10.201.", "10.245.", "10.96."]) expect(rootRoutes).to.not.contain(`"${prefix}`);
    // The root namespace's connection tracking: no flow of the cluster's ranges ever crossed it.
    const tracked = execFileSync("conntrack", ["-L"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    const ours = tracked.split("\n").filter((l) => /(src|dst)=10\.(201|245|96)\./.test(l));
    expect(ours).to.deep.equal([]);
  });

  it("no pod process runs in the root network namespace", () => {
    const rootNetns = fs.readlinkSync("/proc/self/ns/net");
    const pods = clusterProcesses(realCluster().dir).filter((pid) => {
      try {
        return fs.readFileSync(`/proc/${pid}/cgroup`, "utf8").includes(`/${podCgroup(realCluster().dir)}/`);
      } catch {
        return false;
      }
    });
    expect(pods.length, "pod processes found").to.be.greaterThan(2);
    const inRoot = pods.filter((pid) => { try { return fs.readlinkSync(`/proc/${pid}/ns/net`) === rootNetns; } catch { return false; } });
    expect(inRoot).to.deep.equal([]);
  });
});

/**
 * NetworkPolicy is enforced on the real node (kube-router, firewall only): traffic flows without
 * a policy, a default deny blocks it, and an allow rule opens exactly the labelled source. A new
 * pod's address reaches kube-router's rules up to ~1.3 s after it starts, so clients retry.
 */
import { expect } from "chai";
import * as k8s from "@kubernetes/client-node";
import { image, podReady, realCluster, restrictedContainer, restrictedNamespace, runPython, sleep, waitFor } from "./real-cluster";

const NS = "node-policy";
// Tries to connect for SECONDS; prints CONNECTED at the first success, else BLOCKED and the last error.
const CLIENT = `
import os, socket, time
deadline = time.time() + float(os.environ["SECONDS"])
err = None
while time.time() < deadline:
    try:
        socket.create_connection((os.environ["TARGET"], 8080), timeout=1).close()
        print("CONNECTED")
        break
    except OSError as e:
        err = e
        time.sleep(0.3)
else:
    print("BLOCKED", err)
`;

describe("real node: NetworkPolicy (kube-router)", function () {
  this.timeout(300_000);
  let target = "";
  let n = 0;
  const tryConnect = async (seconds: number, labels: Record<string, string> = {}): Promise<string> => {
    const run = await runPython(NS, `client-${++n}`, CLIENT, { env: { TARGET: target, SECONDS: String(seconds) }, labels });
    expect(run.phase, run.log).to.equal("Succeeded");
    return run.log.trim();
  };

  before(async () => {
    const core = realCluster().kc.makeApiClient(k8s.CoreV1Api);
    await restrictedNamespace(NS);
    await core.createNamespacedPod({
      namespace: NS,
      body: {
        metadata: { name: "web", labels: { app: "web" } },
        spec: {
          automountServiceAccountToken: false,
          securityContext: { runAsNonRoot: true, runAsUser: 101, runAsGroup: 101, seccompProfile: { type: "RuntimeDefault" } },
          containers: [{
            ...restrictedContainer("web", image("odoo-standin"), ["python3", "-m", "http.server", "8080", "--directory", "/tmp"]),
            readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 },
            volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
          }],
          volumes: [{ name: "tmp", emptyDir: {} }],
        },
      },
    });
    const pod = await waitFor("the web pod Ready", () => podReady(NS, "app=web"), 120_000);
    target = pod.status!.podIP!;
  });

  it("lets traffic through without a policy, blocks it under a default deny, and an allow rule opens it for the labelled source only", async () => {
    expect(await tryConnect(20)).to.equal("CONNECTED");

    const net = realCluster().kc.makeApiClient(k8s.NetworkingV1Api);
    await net.createNamespacedNetworkPolicy({ namespace: NS, body: { metadata: { name: "default-deny" }, spec: { podSelector: {}, policyTypes: ["Ingress"] } } });
    await sleep(5_000); // kube-router's sync after a policy change
    expect(await tryConnect(6)).to.match(/^BLOCKED/);

    await net.createNamespacedNetworkPolicy({
      namespace: NS,
      body: {
        metadata: { name: "allow-clients" },
        spec: {
          podSelector: { matchLabels: { app: "web" } },
          policyTypes: ["Ingress"],
          ingress: [{ _from: [{ podSelector: { matchLabels: { role: "client" } } }], ports: [{ protocol: "TCP", port: 8080 }] }],
        },
      },
    });
    await sleep(5_000);
    expect(await tryConnect(20, { role: "client" })).to.equal("CONNECTED");
    expect(await tryConnect(6)).to.match(/^BLOCKED/);
  });
});

/**
 * Isolation, live (issue 20): `check:isolation` on the real node sends real traffic from a probe
 * pod in acme's namespace (the tenants tenant.test.ts deployed) and finds every fence as the
 * README's table says; with acme's NetworkPolicies removed it finds the path that opened, so
 * the probe can fail.
 */
import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { expect } from "chai";
import * as k8s from "@kubernetes/client-node";
import { repoRoot } from "../../automation/engine/engine-env";
import { image, realCluster } from "./real-cluster";

function checkIsolation(): { code: number; out: string } {
  try {
    const out = execFileSync(process.execPath, [path.join(repoRoot(), "dist", "scripts", "check-isolation.js"), "acme", "globex", "--image", image("probe")], {
      env: { ...process.env, KUBECONFIG: realCluster().kubeconfig }, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 240_000,
    });
    return { code: 0, out };
  } catch (err) {
    const e = err as { status: number; stdout: string; stderr: string };
    return { code: e.status, out: `${e.stdout}${e.stderr}` };
  }
}

describe("real node: check:isolation sends real traffic", function () {
  this.timeout(600_000);

  it("finds every fence as designed between two tenants, and the opened path once acme's policies are gone", async () => {
    const fenced = checkIsolation();
    expect(fenced.code, fenced.out).to.equal(0);
    expect(fenced.out).to.match(/acme PostgreSQL \(own\)\s+\S+\s+open\s+open\s+ok/);
    expect(fenced.out).to.match(/globex PostgreSQL\s+\S+\s+closed\s+closed\s+ok/);
    expect(fenced.out).to.not.contain("WRONG");

    const net = realCluster().kc.makeApiClient(k8s.NetworkingV1Api);
    await net.deleteCollectionNamespacedNetworkPolicy({ namespace: "tenant-acme" });
    await new Promise((r) => setTimeout(r, 5_000)); // kube-router's sync
    const opened = checkIsolation();
    expect(opened.code, opened.out).to.equal(1);
    expect(opened.out).to.match(/acme Odoo \(own, not from the ingress controller\)\s+\S+\s+closed\s+open\s+WRONG/);
    expect(opened.out).to.match(/globex PostgreSQL\s+\S+\s+closed\s+closed\s+ok/);
  });
});

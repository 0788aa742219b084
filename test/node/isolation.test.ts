/**
 * Isolation, live (issue 20): `check:isolation acme globex` on the real node sends real TCP
 * connections from probe pods with each role's labels in both tenants' namespaces, the ingress
 * controller's namespace and an outside one, along every path of the README's fence table and
 * both ways between the tenants (tenant.test.ts deployed them): 0 cross-tenant paths, every
 * fence as designed (exit 0). With acme's default deny removed it finds what opened, a pod of
 * acme's with no role reachable from every namespace but globex's (exit 3): the probe can fail.
 * globex's own egress fence still holds, so no cross-tenant path opens from one side alone.
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
      env: { ...process.env, KUBECONFIG: realCluster().kubeconfig }, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 300_000,
    });
    return { code: 0, out };
  } catch (err) {
    const e = err as { status: number; stdout: string; stderr: string };
    return { code: e.status, out: `${e.stdout}${e.stderr}` };
  }
}

const row = (from: string, to: string, expected: string, actual: string, verdict: string): RegExp =>
  new RegExp(`^${from}\\s{2,}${to}\\s{2,}\\S+\\s{2,}.+?\\s{2,}${expected}\\s+${actual}\\s+${verdict}$`, "m");

describe("real node: check:isolation sends real traffic", function () {
  this.timeout(600_000);

  it("finds 0 cross-tenant paths and every fence as designed; with acme's default deny removed, the opened path (exit 3)", async () => {
    const fenced = checkIsolation();
    expect(fenced.code, fenced.out).to.equal(0);
    expect(fenced.out).to.contain("80 paths probed from 10 pods; 32 between tenants, 0 of them open; 0 not as designed");
    // Paths that must exist answered, so "closed" elsewhere is the fence, not a dead service.
    expect(fenced.out).to.match(row("acme odoo", "acme PostgreSQL \\(own\\)", "open", "open", "ok"));
    expect(fenced.out).to.match(row("ingress controller namespace \\(traefik\\)", "globex Odoo", "open", "open", "ok"));
    expect(fenced.out).to.match(row("globex backup job", "acme PostgreSQL", "closed", "closed", "ok"));
    expect(fenced.out).to.not.match(/WRONG|CROSS-TENANT PATH/);

    const net = realCluster().kc.makeApiClient(k8s.NetworkingV1Api);
    const deny = await net.readNamespacedNetworkPolicy({ name: "default-deny", namespace: "tenant-acme" });
    await net.deleteNamespacedNetworkPolicy({ name: "default-deny", namespace: "tenant-acme" });
    try {
      const opened = checkIsolation();
      expect(opened.code, opened.out).to.equal(3);
      for (const from of ["acme pod without a role", "acme postgres", "ingress controller namespace \\(traefik\\)", "outside namespace \\(default\\)"]) {
        expect(opened.out).to.match(row(from, "acme pod without a role \\(listener\\)", "closed", "open", "WRONG"));
      }
      expect(opened.out).to.match(row("globex pod without a role", "acme pod without a role \\(listener\\)", "closed", "closed", "ok"));
      expect(opened.out).to.contain("32 between tenants, 0 of them open");
    } finally {
      // Put the fence back for the tests after this one.
      await net.createNamespacedNetworkPolicy({ namespace: "tenant-acme", body: { metadata: { name: "default-deny", labels: deny.metadata?.labels }, spec: deny.spec } });
    }
  });
});

import { expect } from "chai";
import type { TenantPod } from "../../checks/cluster-view";
import { distribution } from "../../checks/distribution";
import { isSimulated, judge, parseProbeLog, probePod, probeTargets } from "../../checks/isolation-probe";
import { formatBytes, formatCores, sumPodMetrics } from "../../checks/usage";

const pod = (tenant: string, node?: string): TenantPod => ({ tenant, component: "odoo", name: `${tenant}-odoo-x`, namespace: `tenant-${tenant}`, node, phase: node ? "Running" : "Pending", ready: node !== undefined });

describe("node distribution", () => {
  it("accepts an even spread and states the limit", () => {
    const r = distribution({ nodes: ["n1", "n2", "n3"], runningTenants: ["a", "b", "c", "d"], odooPods: [pod("a", "n1"), pod("b", "n2"), pod("c", "n3"), pod("d", "n1")] });
    expect(r.limit).to.equal(2);
    expect(r.ok).to.equal(true);
    expect(r.perNode).to.deep.equal([{ node: "n1", tenants: ["a", "d"] }, { node: "n2", tenants: ["b"] }, { node: "n3", tenants: ["c"] }]);
  });
  it("fails when one node holds more than an even spread allows", () => {
    const r = distribution({ nodes: ["n1", "n2", "n3"], runningTenants: ["a", "b", "c"], odooPods: [pod("a", "n1"), pod("b", "n1"), pod("c", "n2")] });
    expect(r.ok).to.equal(false);
    expect(r.overloaded).to.deep.equal([{ node: "n1", count: 2 }]);
  });
  it("fails when a running tenant's Odoo pod is unscheduled or missing", () => {
    const r = distribution({ nodes: ["n1", "n2"], runningTenants: ["a", "b", "c"], odooPods: [pod("a", "n1"), pod("b")] });
    expect(r.unscheduled).to.deep.equal(["b", "c"]);
    expect(r.ok).to.equal(false);
  });
  it("does not count suspended tenants", () => {
    const r = distribution({ nodes: ["n1", "n2"], runningTenants: ["a", "b"], odooPods: [pod("a", "n1"), pod("b", "n2"), pod("zzz-suspended-leftover", "n1")] });
    expect(r.ok).to.equal(true);
    expect(r.limit).to.equal(1);
  });
});

describe("isolation probe (pure parts)", () => {
  const targets = probeTargets("acme", "globex");
  it("expects own PostgreSQL open and everything of the other tenant closed", () => {
    expect(targets.map((t) => [t.host, t.port, t.expect])).to.deep.equal([
      ["acme-postgres.tenant-acme.svc", 5432, "open"],
      ["acme-odoo.tenant-acme.svc", 8069, "closed"],
      ["globex-postgres.tenant-globex.svc", 5432, "closed"],
      ["globex-odoo.tenant-globex.svc", 8069, "closed"],
    ]);
  });
  it("runs as a restricted, non-root pod with targets passed as data", () => {
    const p = probePod("acme", targets, "busybox:1.36");
    expect(p.metadata?.namespace).to.equal("tenant-acme");
    expect(p.spec?.securityContext).to.include({ runAsNonRoot: true, runAsUser: 65534 });
    const c = p.spec?.containers[0];
    expect(c?.securityContext?.capabilities?.drop).to.deep.equal(["ALL"]);
    expect(c?.command?.[2]).to.not.contain("acme");
    expect(c?.env?.[0]?.value).to.equal("acme-postgres.tenant-acme.svc:5432 acme-odoo.tenant-acme.svc:8069 globex-postgres.tenant-globex.svc:5432 globex-odoo.tenant-globex.svc:8069");
  });
  it("judges the probe's output, a missing answer being a failure", () => {
    const results = parseProbeLog("probe acme-postgres.tenant-acme.svc:5432 open\nprobe globex-postgres.tenant-globex.svc:5432 open\nnoise\nprobe acme-odoo.tenant-acme.svc:8069 closed\n");
    const verdicts = judge(targets, results);
    expect(verdicts.map((v) => [v.actual, v.ok])).to.deep.equal([["open", true], ["closed", true], ["open", false], ["no answer", false]]);
  });
  it("recognises a KWOK-simulated cluster", () => {
    expect(isSimulated([{ metadata: { name: "kwok-node-1", annotations: { "kwok.x-k8s.io/node": "fake" } } }])).to.equal(true);
    expect(isSimulated([{ metadata: { name: "kwok-node-1", annotations: { "kwok.x-k8s.io/node": "fake" } } }, { metadata: { name: "real" } }])).to.equal(false);
  });
});

describe("usage figures", () => {
  it("sums pod metrics in any unit", () => {
    const total = sumPodMetrics([
      { containers: [{ usage: { cpu: "250000000n", memory: "524288Ki" } }, { usage: { cpu: "5m", memory: "1Gi" } }] },
      { containers: [{ usage: { cpu: "1", memory: "100M" } }] },
    ]);
    expect(total.cpu).to.be.closeTo(1.255, 1e-9);
    expect(total.memory).to.equal(524288 * 1024 + 2 ** 30 + 100e6);
  });
  it("formats cores and bytes for people", () => {
    expect(formatCores(0.25)).to.equal("250m");
    expect(formatCores(1.5)).to.equal("1.5");
    expect(formatCores(undefined)).to.equal("n/a");
    expect(formatBytes(1536 * 2 ** 20)).to.equal("1.5Gi");
    expect(formatBytes(30 * 2 ** 30)).to.equal("30Gi");
  });
});

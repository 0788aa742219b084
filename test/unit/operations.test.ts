import { expect } from "chai";
import type { TenantPod } from "../../checks/cluster-view";
import { distribution } from "../../checks/distribution";
import { exitCodeOf, isSimulated, judge, parseProbeLog, probePlan, probePod } from "../../checks/isolation-probe";
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
  const plan = probePlan(["acme", "globex"], { ingressNamespace: "traefik", dnsNamespace: "kube-system", outsideNamespace: "default" });
  const source = (pod: string, ns: string) => plan.find((s) => s.pod === pod && s.namespace === ns)!;
  it("probes from each tenant's Odoo, backup job, PostgreSQL and a pod without a role, the ingress controller's namespace and an outside one", () => {
    expect(plan.map((s) => `${s.namespace}/${s.pod}`)).to.deep.equal([
      "tenant-acme/isolation-probe-odoo", "tenant-acme/isolation-probe-backup", "tenant-acme/isolation-probe-postgres", "tenant-acme/isolation-probe-none",
      "tenant-globex/isolation-probe-odoo", "tenant-globex/isolation-probe-backup", "tenant-globex/isolation-probe-postgres", "tenant-globex/isolation-probe-none",
      "traefik/isolation-probe-ingress", "default/isolation-probe-outside",
    ]);
  });
  it("expects own PostgreSQL open to database clients only, and every path to the other tenant closed", () => {
    expect(source("isolation-probe-odoo", "tenant-acme").targets.map((t) => [t.host, t.port, t.expect, t.crossTenant])).to.deep.equal([
      ["kube-dns.kube-system.svc", 53, "open", false],
      ["acme-postgres.tenant-acme.svc", 5432, "open", false],
      ["acme-odoo.tenant-acme.svc", 8069, "closed", false],
      ["kubernetes.default.svc", 443, "closed", false],
      ["globex-postgres.tenant-globex.svc", 5432, "closed", true],
      ["globex-odoo.tenant-globex.svc", 8069, "closed", true],
      ["globex-odoo.tenant-globex.svc", 8072, "closed", true],
    ]);
    expect(source("isolation-probe-none", "tenant-globex").targets.find((t) => t.host === "globex-postgres.tenant-globex.svc")?.expect).to.equal("closed");
    expect(source("isolation-probe-ingress", "traefik").targets.filter((t) => t.expect === "open").map((t) => `${t.host}:${t.port}`))
      .to.deep.equal(["kube-dns.kube-system.svc:53", "acme-odoo.tenant-acme.svc:8069", "globex-odoo.tenant-globex.svc:8069"]);
    expect(source("isolation-probe-outside", "default").targets.filter((t) => t.expect === "open").map((t) => t.host)).to.deep.equal(["kube-dns.kube-system.svc"]);
    expect(plan.flatMap((s) => s.targets).filter((t) => t.crossTenant)).to.have.length(4 * 3 * 2);
  });
  it("adds each tenant's listener as a target every source must find closed, cross-tenant from the other tenant", () => {
    const withListeners = probePlan(["acme", "globex"], { ingressNamespace: "traefik", dnsNamespace: "kube-system", outsideNamespace: "default" }, new Map([["acme", "10.245.1.7"], ["globex", "10.245.1.8"]]));
    const listenerRows = withListeners.flatMap((s) => s.targets.filter((t) => t.port === 8080).map((t) => `${s.namespace}/${s.pod} ${t.host} ${t.expect} ${t.crossTenant}`));
    expect(listenerRows).to.have.length(10 * 2);
    expect(listenerRows).to.include.members([
      "tenant-acme/isolation-probe-none 10.245.1.7 closed false", "tenant-acme/isolation-probe-none 10.245.1.8 closed true",
      "default/isolation-probe-outside 10.245.1.7 closed false",
    ]);
  });
  it("runs as a restricted, non-root, never-Ready pod owned by the run, with targets passed as data", () => {
    const p = probePod(source("isolation-probe-odoo", "tenant-acme"), "busybox:1.36", { name: "isolation-probe", uid: "u-1" });
    expect(p.metadata?.namespace).to.equal("tenant-acme");
    expect(p.metadata?.labels).to.include({ "app.kubernetes.io/name": "odoo", "app.kubernetes.io/instance": "acme", "odoo-saas.io/db-client": "true" });
    expect(p.metadata?.ownerReferences).to.deep.equal([{ apiVersion: "v1", kind: "ConfigMap", name: "isolation-probe", uid: "u-1", controller: true }]);
    expect(p.spec?.securityContext).to.include({ runAsNonRoot: true, runAsUser: 65534 });
    const c = p.spec?.containers[0];
    expect(c?.securityContext?.capabilities?.drop).to.deep.equal(["ALL"]);
    expect(c?.readinessProbe?.exec?.command).to.deep.equal(["false"]);
    expect(c?.command?.[2]).to.not.contain("acme");
    expect(c?.env?.[0]?.value).to.contain("acme-postgres.tenant-acme.svc:5432:open").and.to.contain("globex-postgres.tenant-globex.svc:5432:closed");
  });
  it("judges the probe's output, a missing answer being a failure; an open denied path is exit 3", () => {
    const acme = source("isolation-probe-backup", "tenant-acme");
    const verdicts = judge(acme, parseProbeLog("probe kube-dns.kube-system.svc:53 open\nprobe acme-postgres.tenant-acme.svc:5432 open\nnoise\nprobe globex-postgres.tenant-globex.svc:5432 open\n"));
    expect(verdicts.slice(0, 4).map((v) => [v.actual, v.ok])).to.deep.equal([["open", true], ["open", true], ["no answer", false], ["open", false]]);
    expect(exitCodeOf(verdicts)).to.equal(3);
    const closedOnly = judge(acme, parseProbeLog(acme.targets.map((t) => `probe ${t.host}:${t.port} closed`).join("\n")));
    expect(exitCodeOf(closedOnly)).to.equal(1);
    expect(exitCodeOf(judge(acme, parseProbeLog(acme.targets.map((t) => `probe ${t.host}:${t.port} ${t.expect}`).join("\n"))))).to.equal(0);
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

/**
 * The administrators' overview as built from the records and one cluster reading (a pure
 * function): the fleet stack's tenants are listed even when the cluster cannot be read, an owner
 * is an e-mail or nothing (never the account's id), backup health comes from the CronJob's last
 * success, and the actions offered are the ones the API accepts.
 */
import { expect } from "chai";
import { buildOverview, readyWithoutRecords, type ClusterSnapshot, type SelfServiceTenant } from "../../automation/admin-overview";
import type { TenantPod } from "../../checks/cluster-view";
import { distribution } from "../../checks/distribution";

const UUID = "3f2b1c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d";

const selfService: SelfServiceTenant[] = [
  { id: "shop", ownerId: UUID, ownerEmail: "", plan: "starter", status: "ready", statusReason: "Odoo pod is ready", canSuspend: true },
  { id: "cafe", ownerId: UUID, ownerEmail: "ann@example.com", plan: "business", status: "failed", statusReason: "update failed", reference: "op_1", retry: "suspend" },
];

function snapshot(extra: Partial<ClusterSnapshot> = {}): ClusterSnapshot {
  return {
    namespaces: [{ tenant: "acme", owner: UUID, adminEmail: "admin@acme.example", plan: "starter" }, { tenant: "shop", owner: UUID }],
    deployments: new Map([["acme", 1], ["shop", 1]]),
    pods: [],
    usage: [],
    distribution: distribution({ nodes: ["n1"], runningTenants: [], odooPods: [] }),
    ...extra,
  };
}

describe("admin overview (pure)", () => {
  it("lists the fleet stack's tenants when the cluster cannot be read, and never an owner's id", () => {
    const o = buildOverview(selfService, { unreachable: "no cluster" }, ["acme", "globex", "initech"]);
    expect(o.tenants.map((t) => [t.id, t.source, t.owner, t.status])).to.deep.equal([
      ["acme", "pull-request", null, "unknown"], ["cafe", "self-service", "ann@example.com", "failed"],
      ["globex", "pull-request", null, "unknown"], ["initech", "pull-request", null, "unknown"], ["shop", "self-service", null, "ready"],
    ]);
    expect(JSON.stringify(o.tenants)).to.not.contain(UUID);
  });

  it("reads backup health from the CronJob's last success; unknown when not read", () => {
    const at = "2026-12-06T02:00:05.000Z";
    const o = buildOverview(selfService, snapshot({ backups: new Map([["acme", { lastSuccess: at }], ["shop", { lastSuccess: null }]]) }), ["acme", "globex"]);
    const by = new Map(o.tenants.map((t) => [t.id, t]));
    expect(by.get("acme")?.backup).to.deep.equal({ lastSuccess: at });
    expect(by.get("shop")?.backup).to.deep.equal({ lastSuccess: null });
    expect(by.get("cafe")?.backup).to.equal(null);
    // In the fleet config, not (yet) in the cluster: listed, status unknown with the reason.
    expect(by.get("globex")).to.include({ source: "pull-request", status: "unknown" });
    expect(by.get("acme")?.owner).to.equal("admin@acme.example");
    expect(JSON.stringify(o.tenants)).to.not.contain(UUID);
  });

  it("offers Pause and Retry only for self-service tenants that allow them", () => {
    const o = buildOverview(selfService, snapshot(), ["acme"]);
    const by = new Map(o.tenants.map((t) => [t.id, t.actions]));
    expect(by.get("shop")).to.deep.equal({ suspend: true, retry: null });
    expect(by.get("cafe")).to.deep.equal({ suspend: false, retry: "suspend" });
    expect(by.get("acme")).to.deep.equal({ suspend: false, retry: null });
  });

  it("calls a pull-request tenant ready only once its address answered, as customers' status does", () => {
    const odooPod = (tenant: string): TenantPod => ({ tenant, component: "odoo", ready: true, phase: "Running", node: "n1", name: `${tenant}-odoo-1`, namespace: `tenant-${tenant}` });
    const snap = snapshot({
      namespaces: [{ tenant: "acme" }, { tenant: "globex" }, { tenant: "initech" }, { tenant: "shop" }],
      deployments: new Map([["acme", 1], ["globex", 1], ["initech", 1], ["shop", 1]]),
      pods: [odooPod("acme"), odooPod("globex"), odooPod("initech"), odooPod("shop")],
    });
    // Self-service tenants have their own status; only the others' addresses are asked.
    expect(readyWithoutRecords(snap, selfService)).to.deep.equal(["acme", "globex", "initech"]);
    const o = buildOverview(selfService, snap, ["acme", "globex", "initech"], new Map([
      ["acme", { checked: true, answered: true }],
      ["globex", { checked: true, answered: false, reason: "globex.example.test answered HTTP 404 through the ingress" }],
    ]));
    const by = new Map(o.tenants.map((t) => [t.id, [t.status, t.statusReason]]));
    expect(by.get("acme")).to.deep.equal(["ready", "Odoo answered its health check through the ingress by its host name"]);
    expect(by.get("globex")).to.deep.equal(["starting", "Odoo pod is ready, but its public address does not answer yet: globex.example.test answered HTTP 404 through the ingress"]);
    expect(by.get("initech")).to.deep.equal(["unknown", "Odoo pod is ready, but whether it answers is unknown, because its public address was not checked"]);
  });
});

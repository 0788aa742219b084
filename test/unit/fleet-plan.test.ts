/** Which tenants a change of the tenants file touches: compared by the schema's parsed values. */
import * as path from "node:path";
import { expect } from "chai";
import { FleetConfigError, planFleet, stableJson } from "../../automation/engine/fleet-plan";
import { platformConfigOf } from "../../automation/engine/fleet-stacks";
import { readStackConfigMap } from "../../tenants/config-source";
import { fleetMarkdown } from "../../scripts/fleet";
import { summarizeChanges } from "../../automation/engine/change-summary";
import { stackConfigMap } from "../support/engine-stack";
import { tenant, validConfig } from "../support/fixtures";

const base = stackConfigMap(validConfig([tenant({ id: "acme" }), tenant({ id: "globex", plan: "business" }), tenant({ id: "initech" })]));

describe("fleet plan (the tenants a stack-file change touches)", () => {
  it("an identical or merely reordered/re-spelled file touches no tenant", () => {
    expect(planFleet(base, base)).to.include({ unchanged: 3 }).and.deep.include({ changed: [], removed: [] });
    const reordered = stackConfigMap(validConfig([tenant({ id: "initech" }), tenant({ id: "globex", plan: "business" }), { adminEmail: "admin@acme.example", id: "acme", plan: "starter", suspended: false }]));
    expect(planFleet(base, reordered)).to.deep.include({ changed: [], removed: [], unchanged: 3 });
  });

  it("names the changed, added and removed tenants only", () => {
    const head = stackConfigMap(validConfig([tenant({ id: "acme", suspended: true }), tenant({ id: "globex", plan: "business" }), tenant({ id: "umbrella" })]));
    const plan = planFleet(base, head);
    expect(plan.changed).to.deep.equal(["acme", "umbrella"]);
    expect(plan.removed).to.deep.equal(["initech"]);
    expect(plan.unchanged).to.equal(1);
  });

  it("a platform key touches the tenants it reaches: a plan its tenants, the domain every tenant", () => {
    // Pulumi.dev.yaml: acme and initech on starter, globex on business.
    const dev = readStackConfigMap(path.join(__dirname, "../../../Pulumi.dev.yaml"));
    const plans = structuredClone(dev["odoo-saas:plans"]) as { business: { workers: number } };
    plans.business.workers += 2;
    expect(planFleet(dev, { ...dev, "odoo-saas:plans": plans }).changed).to.deep.equal(["globex"]);
    const domain = planFleet(base, { ...base, "odoo-saas:baseDomain": "other.test" });
    expect(domain.changed).to.deep.equal(["acme", "globex", "initech"]);
    const foreign = planFleet(base, { ...base, "kubernetes:context": "prod" });
    expect(foreign.changed).to.have.length(3);
  });

  it("without a base every tenant is new; an invalid head or base plans nothing", () => {
    expect(planFleet(undefined, base).changed).to.deep.equal(["acme", "globex", "initech"]);
    const bad = { ...base, "odoo-saas:tenants": [{ id: "Bad Id", adminEmail: "x", plan: "starter" }] };
    expect(() => planFleet(base, bad)).to.throw(FleetConfigError, /head stack file is invalid/);
    expect(() => planFleet(bad, base)).to.throw(FleetConfigError, /base stack file is invalid/);
  });

  it("stableJson ignores key order; the fleet's platform keys refuse a secret value", () => {
    expect(stableJson({ b: 1, a: [{ d: 2, c: 3 }] })).to.equal(stableJson({ a: [{ c: 3, d: 2 }], b: 1 }));
    expect(() => platformConfigOf({ ...base, "odoo-saas:smtp": { secure: "v1:abc" } })).to.throw(/secret value/);
    expect(Object.keys(platformConfigOf(base))).to.not.include("odoo-saas:tenants");
  });

  it("the PR comment says what was touched, and that a no-op started no engine", () => {
    const none = fleetMarkdown("preview", "dev", planFleet(base, base), [], 0.4);
    expect(none).to.include("no tenant changed; no engine was started").and.include("3 unchanged (not run)");
    const head = stackConfigMap(validConfig([tenant({ id: "acme" }), tenant({ id: "globex", plan: "business" })]));
    const failed = fleetMarkdown("up", "dev", planFleet(base, head), [{ id: "initech", action: "retire", ok: false, summary: summarizeChanges([]), message: "stack locked", seconds: 1 }], 2);
    expect(failed).to.include("1 of 1 touched tenant(s) failed").and.include("**initech** (retire) failed: stack locked").and.include("1 removed");
  });
});

/**
 * The one reader of the fleet stack for the signup server (automation/fleet-platform.ts): the ids
 * and hosts its pull-request tenants use (taken for signups, listed for administrators), its
 * plans by own name, and a broken file answered as 503 in customer words, the reason logged only.
 */
import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { ApiError } from "../../automation/api-error";
import { jsonLogger, Redactor } from "../../automation/log";
import { FleetPlatform, PLATFORM_BUSY } from "../../automation/fleet-platform";
import { PROJECT_NAME } from "../../tenants/config-source";

describe("FleetPlatform: every read of the fleet stack's tenants and platform keys", () => {
  let dir: string;
  const logged: string[] = [];
  const log = jsonLogger(new Redactor(), { write: (line) => logged.push(line) });
  const write = (config: Record<string, unknown>): string => {
    const file = path.join(dir, `Pulumi.ops-${fs.readdirSync(dir).length}.yaml`);
    fs.writeFileSync(file, yaml.dump({ config: Object.fromEntries(Object.entries(config).map(([k, v]) => [`${PROJECT_NAME}:${k}`, v])) }));
    return file;
  };
  const platformKeys = { baseDomain: "odoo-saas.test", storageClassName: "local-pool", ingress: { awaitLoadBalancer: false } };

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-platform-"));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("takes the ids of pull-request tenants, the hosts they are served at and their custom domains", () => {
    const fleet = new FleetPlatform(write({
      ...platformKeys,
      tenants: [{ id: "acme", plan: "starter", adminEmail: "a@example.com", customDomains: ["shop.odoo-saas.test"] }, { id: "globex", plan: "nosuch" }],
    }), log);
    expect([...fleet.tenantIds()].sort()).to.deep.equal(["acme", "globex"]);
    // An invalid pull-request tenant still reserves its id.
    expect(["acme", "globex", "shop", "initech"].map((id) => fleet.takenByFleetTenant(id))).to.deep.equal([true, true, true, false]);
  });

  it("finds plans by their own names only", () => {
    const fleet = new FleetPlatform(write(platformKeys), log);
    expect(fleet.plan("starter")?.databaseStorage).to.be.a("string");
    expect(fleet.plan("__proto__")).to.equal(undefined);
    expect(fleet.plan("toString")).to.equal(undefined);
    expect(fleet.tenantIds().size).to.equal(0);
  });

  it("a missing file or invalid platform keys: 503 in customer words for callers, the reason for start-up choices and the log", () => {
    const missing = new FleetPlatform(path.join(dir, "Pulumi.none.yaml"), log);
    const refused = (() => {
      try {
        missing.takenByFleetTenant("acme");
      } catch (err) {
        return err;
      }
      return undefined;
    })();
    expect(refused).to.be.instanceOf(ApiError);
    expect((refused as ApiError).status).to.equal(503);
    expect((refused as ApiError).message).to.equal(PLATFORM_BUSY);
    expect(logged.some((line) => line.includes("Pulumi.none.yaml"))).to.equal(true);
    const none = missing.tryConfig();
    expect(none.ok).to.equal(false);
    expect(!none.ok && none.reason).to.match(/^the fleet stack file cannot be read/);
    const invalid = new FleetPlatform(write({ ...platformKeys, baseDomain: 42 }), log);
    expect(invalid.tryConfig()).to.deep.equal({ ok: false, reason: "the fleet stack's platform keys are invalid" });
    expect(invalid.plan("starter")).to.equal(undefined);
  });
});

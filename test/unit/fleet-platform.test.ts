/**
 * The one reader of the ops stack for the signup server (automation/ops-platform.ts): the ids
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
import { OpsPlatform, PLATFORM_BUSY } from "../../automation/ops-platform";
import { PROJECT_NAME } from "../../tenants/config-source";

describe("OpsPlatform: every read of the ops stack's tenants and platform keys", () => {
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
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "ops-platform-"));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("takes the ids of pull-request tenants, the hosts they are served at and their custom domains", () => {
    const ops = new OpsPlatform(write({
      ...platformKeys,
      tenants: [{ id: "acme", plan: "starter", adminEmail: "a@example.com", customDomains: ["shop.odoo-saas.test"] }, { id: "globex", plan: "nosuch" }],
    }), log);
    expect([...ops.tenantIds()].sort()).to.deep.equal(["acme", "globex"]);
    // An invalid pull-request tenant still reserves its id.
    expect(["acme", "globex", "shop", "initech"].map((id) => ops.takenByOpsTenant(id))).to.deep.equal([true, true, true, false]);
  });

  it("finds plans by their own names only", () => {
    const ops = new OpsPlatform(write(platformKeys), log);
    expect(ops.plan("starter")?.databaseStorage).to.be.a("string");
    expect(ops.plan("__proto__")).to.equal(undefined);
    expect(ops.plan("toString")).to.equal(undefined);
    expect(ops.tenantIds().size).to.equal(0);
  });

  it("a missing file or invalid platform keys: 503 in customer words for callers, the reason for start-up choices and the log", () => {
    const missing = new OpsPlatform(path.join(dir, "Pulumi.none.yaml"), log);
    const refused = (() => {
      try {
        missing.takenByOpsTenant("acme");
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
    expect(!none.ok && none.reason).to.match(/^the ops stack file cannot be read/);
    const invalid = new OpsPlatform(write({ ...platformKeys, baseDomain: 42 }), log);
    expect(invalid.tryConfig()).to.deep.equal({ ok: false, reason: "the ops stack's platform keys are invalid" });
    expect(invalid.plan("starter")).to.equal(undefined);
  });
});

import { expect } from "chai";
import { DEFAULT_ODOO_VERSION, type StackConfigInput } from "../../tenants/schema";
import { formatIssue, parseStackConfig, planUploadLimit, tenantRetention, type ConfigIssue } from "../../tenants/validate";
import { tenant, validConfig } from "../support/fixtures";
import { REJECTIONS } from "../support/rejection-cases";

function issuesOf(config: unknown): ConfigIssue[] {
  const result = parseStackConfig(config);
  if (result.ok) throw new Error("expected the config to be rejected");
  return result.issues;
}

/** The one issue for tenants[index], checked to name the tenant's index, id and field. */
function tenantIssue(config: unknown, index: number, field: string, message: RegExp): void {
  const issues = issuesOf(config);
  const found = issues.find((i) => i.tenant?.index === index && i.field === field);
  expect(found, `issues: ${issues.map(formatIssue).join(" | ")}`).to.not.equal(undefined);
  const text = formatIssue(found as ConfigIssue);
  expect(text).to.match(message);
  expect(text).to.contain(`tenants[${index}]`);
  expect(text).to.contain(field);
}

function withTenants(...tenants: NonNullable<StackConfigInput["tenants"]>): StackConfigInput {
  return validConfig(tenants);
}

describe("stack config schema", () => {
  it("accepts a valid config and fills in defaults", () => {
    const result = parseStackConfig(validConfig([tenant({ id: "acme" })]));
    if (!result.ok) throw new Error(result.issues.map(formatIssue).join("\n"));
    const { config } = result;
    expect(config.tenants[0]?.odooVersion).to.equal(DEFAULT_ODOO_VERSION);
    expect(config.tenants[0]?.suspended).to.equal(false);
    expect(config.ingress.className).to.equal("traefik");
    expect(config.ingress.controllerNamespace).to.equal("traefik");
    expect(config.backup.retention).to.deep.equal({ daily: 7, weekly: 4, monthly: 3, onDemand: 5 });
    expect(config.backup.store).to.deep.equal({ type: "pvc" });
    expect(config.images.postgres).to.equal("postgres:15");
    expect(Object.keys(config.plans)).to.include.members(["starter", "business"]);
  });

  describe("rejects, naming tenant and field", () => {
    for (const c of REJECTIONS) {
      it(c.title, () => tenantIssue(validConfig(c.tenants), c.index, c.field, c.message));
    }
  });

  it("rejects platform problems with the field path", () => {
    const issues = issuesOf({ ...validConfig(), baseDomain: "Not A Domain", colour: "blue", backup: { keep: 7 } });
    const text = issues.map(formatIssue);
    expect(text).to.include.members([
      "baseDomain: must be a lower-case DNS name such as erp.example.com",
      "colour: unknown key (check the spelling; see the config reference in README.md)",
      'backup.keep: keep was replaced by retention: { daily, weekly, monthly, onDemand } (defaults 7, 4, 3, 5; see "Config reference" in README.md); remove keep',
    ]);
  });

  it("takes a plan's optional display name and description for customers, and nothing empty", () => {
    const solo = {
      displayName: "Solo", description: "One person, one company.",
      odoo: { cpu: { request: "250m", limit: "1" }, memory: { request: "512Mi", limit: "1536Mi" } },
      postgres: { cpu: { request: "100m", limit: "500m" }, memory: { request: "256Mi", limit: "512Mi" } },
      workers: 0, databaseStorage: "5Gi", filestoreStorage: "5Gi", backupStorage: "20Gi",
      quota: { cpu: "3", memory: "4Gi", storage: "40Gi", pods: 10 },
    };
    const result = parseStackConfig({ ...validConfig([tenant({ id: "acme", plan: "solo" })]), plans: { solo } });
    if (!result.ok) throw new Error(result.issues.map(formatIssue).join("\n"));
    expect(result.config.plans.solo).to.include({ displayName: "Solo", description: "One person, one company." });
    const text = issuesOf({ ...validConfig([tenant({ id: "acme", plan: "solo" })]), plans: { solo: { ...solo, displayName: "" } } }).map(formatIssue).join("\n");
    expect(text).to.contain("plans.solo.displayName");
  });

  it("rejects a platform retention rule naming the field", () => {
    const text = (retention: unknown): string[] => issuesOf({ ...validConfig(), backup: { retention } }).map(formatIssue);
    expect(text({ daily: -1 })).to.deep.equal(["backup.retention.daily: must be a whole number from 0 to 1000"]);
    expect(text({ weekly: 1.5, monthly: "3" })).to.deep.equal([
      "backup.retention.weekly: must be a whole number from 0 to 1000",
      "backup.retention.monthly: must be a whole number from 0 to 1000",
    ]);
    expect(text({ daily: 0, weekly: 0, monthly: 0 })).to.deep.equal([
      "backup.retention: daily, weekly and monthly are all 0: every scheduled backup but the newest would be removed as soon as it is made; set at least one above 0",
    ]);
    expect(text({ daily: 7, hourly: 24 })).to.deep.equal(["backup.retention.hourly: unknown key (check the spelling; see the config reference in README.md)"]);
  });

  it("retention: platform defaults, platform override, per-tenant override field by field", () => {
    const parsed = parseStackConfig({
      ...validConfig([
        tenant({ id: "acme" }),
        tenant({ id: "globex", backup: { retention: { daily: 14, onDemand: 0 } } }),
        // Zero daily is fine while the platform keeps weekly backups.
        tenant({ id: "initech", backup: { retention: { daily: 0 } } }),
      ]),
      backup: { retention: { weekly: 8, monthly: 12 } },
    });
    if (!parsed.ok) throw new Error(parsed.issues.map(formatIssue).join("\n"));
    const { config } = parsed;
    expect(config.backup.retention).to.deep.equal({ daily: 7, weekly: 8, monthly: 12, onDemand: 5 });
    expect(config.tenants.map((t) => tenantRetention(config, t))).to.deep.equal([
      { daily: 7, weekly: 8, monthly: 12, onDemand: 5 },
      { daily: 14, weekly: 8, monthly: 12, onDemand: 0 },
      { daily: 0, weekly: 8, monthly: 12, onDemand: 5 },
    ]);
  });

  it("a tenant override is checked against the platform's values it inherits", () => {
    const config = { ...validConfig([tenant({ id: "acme", backup: { retention: { daily: 0 } } })]), backup: { retention: { daily: 3, weekly: 0, monthly: 0 } } };
    tenantIssue(config, 0, "backup.retention", /^tenants\[0\] \(id "acme"\): backup.retention: daily, weekly and monthly are all 0.*over the platform's backup.retention/);
    // The same override is fine on the default platform rule.
    expect(parseStackConfig(validConfig([tenant({ id: "acme", backup: { retention: { daily: 0 } } })])).ok).to.equal(true);
  });

  it("rejects a plan whose quota cannot hold its own containers", () => {
    const starter = {
      odoo: { cpu: { request: "2", limit: "1" }, memory: { request: "1Gi", limit: "2Gi" } },
      postgres: { cpu: { request: "1", limit: "1" }, memory: { request: "1Gi", limit: "1Gi" } },
      workers: 0, databaseStorage: "10Gi", filestoreStorage: "10Gi", backupStorage: "10Gi",
      quota: { cpu: "1", memory: "1Gi", storage: "5Gi", pods: 5 },
    };
    const text = issuesOf({ ...validConfig([tenant({ id: "acme" })]), plans: { starter } }).map(formatIssue).join("\n");
    expect(text).to.contain("plans.starter.odoo.cpu: request 2 exceeds limit 1");
    expect(text).to.contain("plans.starter.quota.cpu: 1 is below the CPU limits");
    expect(text).to.contain("plans.starter.quota.memory: 1Gi is below the memory limits");
    expect(text).to.contain("plans.starter.quota.storage: 5Gi is below the volumes");
  });

  it("a plan's uploadLimit: default both volumes, checked against them, a quantity", () => {
    const plan = (extra: Record<string, unknown>) => ({
      odoo: { cpu: { request: "250m", limit: "1" }, memory: { request: "512Mi", limit: "1536Mi" } },
      postgres: { cpu: { request: "100m", limit: "500m" }, memory: { request: "256Mi", limit: "512Mi" } },
      workers: 0, databaseStorage: "5Gi", filestoreStorage: "3Gi", backupStorage: "20Gi",
      quota: { cpu: "3", memory: "4Gi", storage: "40Gi", pods: 10 },
      ...extra,
    });
    const parsed = (extra: Record<string, unknown>) => parseStackConfig({ ...validConfig([tenant({ id: "acme" })]), plans: { starter: plan(extra) } });
    const fallback = parsed({});
    if (!fallback.ok) throw new Error(fallback.issues.map(formatIssue).join("\n"));
    expect(planUploadLimit(fallback.config.plans["starter"]!)).to.equal(8 * 2 ** 30);
    const set = parsed({ uploadLimit: "2Gi" });
    if (!set.ok) throw new Error(set.issues.map(formatIssue).join("\n"));
    expect(planUploadLimit(set.config.plans["starter"]!)).to.equal(2 * 2 ** 30);
    const text = (extra: Record<string, unknown>) => issuesOf({ ...validConfig([tenant({ id: "acme" })]), plans: { starter: plan(extra) } }).map(formatIssue).join("\n");
    expect(text({ uploadLimit: "9Gi" })).to.contain("plans.starter.uploadLimit: 9Gi is above the volumes an upload is restored into (5Gi + 3Gi)");
    expect(text({ uploadLimit: "100Ki" })).to.contain("plans.starter.uploadLimit: 100Ki is below 1Mi");
    expect(text({ uploadLimit: "lots" })).to.contain("plans.starter.uploadLimit: must be a Kubernetes quantity");
  });

  it("reports every problem of every tenant in one report", () => {
    const issues = issuesOf(withTenants(
      tenant({ id: "Bad_Id" }),
      tenant({ id: "acme", adminEmail: "nope" }),
      tenant({ id: "globex", plan: "gold" }),
      tenant({ id: "globex" }),
    ));
    const text = issues.map(formatIssue);
    expect(text.some((t) => t.startsWith('tenants[0] (id "Bad_Id"): id:'))).to.equal(true);
    expect(text.some((t) => t.startsWith('tenants[1] (id "acme"): adminEmail:'))).to.equal(true);
    // Cross-field problems are found even though other tenants have shape errors.
    expect(text.some((t) => t.startsWith('tenants[2] (id "globex"): plan: unknown plan "gold"'))).to.equal(true);
    expect(text.some((t) => t.startsWith('tenants[3] (id "globex"): id: duplicate id'))).to.equal(true);
  });
});

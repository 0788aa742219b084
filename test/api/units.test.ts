/**
 * The signup server's pure parts: engine-event attribution and sanitising, the id pattern
 * published for the page against the schema's own check, the worker count, and config from
 * the environment.
 */
import { expect } from "chai";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { parseAdminClaim } from "../../automation/auth";
import { parseUrn, sanitizeDiagnostic, tenantByName, UpdateTracker } from "../../automation/engine/engine-events";
import { Redactor } from "../../automation/log";
import { ConfigProblem, configFromEnv, describeConfig, requireDatabaseUrl } from "../../automation/server-config";
import { defaultWorkerCount, ENGINE_RSS_BYTES, MAX_WORKERS, workerCount, WorkerCountProblem } from "../../automation/queue/worker-count";
import { RESERVED_TENANT_ID_PREFIXES, RESERVED_TENANT_IDS, TENANT_ID_MAX_LENGTH, TENANT_ID_PATTERN, tenantIdProblem } from "../../tenants/schema";

const STACK = "urn:pulumi:dev-selfservice::odoo-saas::pulumi:pulumi:Stack::odoo-saas-dev-selfservice";
const urn = (type: string, name: string): string => `urn:pulumi:dev-selfservice::odoo-saas::${type}::${name}`;

function step(kind: "resourcePreEvent" | "resOutputsEvent" | "resOpFailedEvent", op: string, resource: string, parent: string): EngineEvent {
  const metadata = { op, urn: resource, type: parseUrn(resource).type, provider: "", new: { type: "", urn: resource, id: "", parent, inputs: { password: "hunter2-secret" }, outputs: {}, provider: "" } };
  return { sequence: 1, timestamp: 1, [kind]: kind === "resOpFailedEvent" ? { metadata, status: 1, steps: 1 } : { metadata } } as unknown as EngineEvent;
}

describe("engine event attribution", () => {
  const acme = urn("odoo-saas:index:OdooTenant", "acme");
  const acmeDb = urn("odoo-saas:index:OdooTenant", "acme-db");
  // Tenant acme's child "acme-db-password" looks like tenant "acme-db"'s by name alone.
  const acmeChild = urn("odoo-saas:index:OdooTenant$random:index/randomPassword:RandomPassword", "acme-db-password");
  const acmeDbChild = urn("odoo-saas:index:OdooTenant$kubernetes:core/v1:Namespace", "acme-db-namespace");

  it("parses URNs into name and own type", () => {
    expect(parseUrn(acmeChild)).to.deep.equal({ name: "acme-db-password", type: "random:index/randomPassword:RandomPassword" });
  });

  it("by name: the longest tenant id that is the name or its `<id>-` prefix", () => {
    expect(tenantByName("acme-db-namespace", ["acme", "acme-db"])).to.equal("acme-db");
    expect(tenantByName("acme-odoo", ["acme", "acme-db"])).to.equal("acme");
    expect(tenantByName("acmex-odoo", ["acme"])).to.equal(undefined);
  });

  it("by parent chain first: a child belongs to its top-level component", () => {
    const tracker = new UpdateTracker(["acme", "acme-db"], (t) => t);
    tracker.handle(step("resourcePreEvent", "create", acme, STACK));
    tracker.handle(step("resourcePreEvent", "create", acmeDb, STACK));
    const [attributed] = tracker.handle(step("resourcePreEvent", "create", acmeChild, acme));
    expect(attributed).to.deep.equal({ tenant: "acme", event: { type: "step", status: "started", op: "create", resource: "acme-db-password", kind: "random:index/randomPassword:RandomPassword" } });
    expect(tracker.handle(step("resourcePreEvent", "create", acmeDbChild, acmeDb))[0]?.tenant).to.equal("acme-db");
  });

  it("never forwards inputs, outputs, the prelude (config), stdout or debug diagnostics", () => {
    const tracker = new UpdateTracker(["acme"], (t) => t);
    const events = [
      step("resourcePreEvent", "create", acme, STACK),
      { sequence: 2, timestamp: 1, preludeEvent: { config: { "odoo-saas:tenants": "[...]" } } },
      { sequence: 3, timestamp: 1, stdoutEvent: { message: "hello", color: "never" } },
      { sequence: 4, timestamp: 1, diagnosticEvent: { message: "RegisterResource RPC prepared", color: "never", severity: "debug" } },
    ] as unknown as EngineEvent[];
    const out = events.flatMap((e) => tracker.handle(e));
    expect(JSON.stringify(out)).to.not.contain("hunter2");
    expect(out).to.have.length(1);
  });

  it("attributes errors to tenants, keeps the resource's own message over the program's echo", () => {
    const tracker = new UpdateTracker(["acme", "beta"], (t) => t.replace("s3cr3t-value", "[secret]"));
    const child = urn("odoo-saas:index:OdooTenant$kubernetes:core/v1:Secret", "acme-admin-secret");
    tracker.handle(step("resourcePreEvent", "create", acme, STACK));
    tracker.handle(step("resourcePreEvent", "create", child, acme));
    tracker.handle({ sequence: 5, timestamp: 1, diagnosticEvent: { urn: STACK, message: "Unhandled exception: Error: resource acme-admin-secret [kubernetes:core/v1:Secret] failed to register\n    at /x/y.js:1:1\n", color: "never", severity: "error" } } as EngineEvent);
    tracker.handle({ sequence: 6, timestamp: 1, diagnosticEvent: { urn: child, message: "\u001b[31msecrets \"acme-admin\" is forbidden: exceeded quota s3cr3t-value\u001b[0m\n", color: "never", severity: "error" } } as EngineEvent);
    tracker.handle(step("resOpFailedEvent", "create", child, acme));
    expect(tracker.errorsFor("acme")).to.deep.equal(['secrets "acme-admin" is forbidden: exceeded quota [secret]']);
    expect(tracker.errorsFor("beta")).to.deep.equal([]);
    expect(tracker.generalErrors()).to.deep.equal([]);
    expect(tracker.changesFor("acme")).to.deep.equal({ failed: 1 });
  });

  it("sanitises diagnostics: no colours, no stack frames, bounded, redacted", () => {
    const redactor = new Redactor();
    redactor.add("passphrase-1234567890");
    const text = sanitizeDiagnostic(`\u001b[1mboom passphrase-1234567890\u001b[0m\n    at foo (/a/b.js:1:2)\n${"x".repeat(2000)}`, (t) => redactor.redact(t));
    expect(text.startsWith("boom [secret]\n")).to.equal(true);
    expect(text).to.not.contain("at foo");
    expect(text.length).to.be.at.most(610);
    expect(redactor.redact("token eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln")).to.equal("token [token]");
  });
});

describe("the id pattern published for the page agrees with the schema", () => {
  const pattern = new RegExp(TENANT_ID_PATTERN.source);
  const corpus = [
    "a", "ab", "a1", "a-b", "acme", "my-shop-2", "x".repeat(40), "x".repeat(41), "", "1abc", "-abc", "abc-", "ab_c", "Abc", "a.b", "a b", "é",
    "kube-x", "tenant-a", "openshift-x", "kubex", "tenantx", ...RESERVED_TENANT_IDS, "a--b", "a-1", "z9",
  ];
  it("accepts exactly the ids tenantIdProblem accepts (with length, reserved ids and prefixes)", () => {
    for (const id of corpus) {
      const local = id.length > 0 && id.length <= TENANT_ID_MAX_LENGTH && pattern.test(id)
        && !RESERVED_TENANT_IDS.includes(id) && !RESERVED_TENANT_ID_PREFIXES.some((p) => id.startsWith(p));
      expect(local, id).to.equal(tenantIdProblem(id) === undefined);
    }
  });
});

describe("worker count", () => {
  const GiB = 1024 ** 3;
  it("defaults to free memory over one engine run's memory, clamped to 1..8", () => {
    expect(defaultWorkerCount(0)).to.equal(1);
    expect(defaultWorkerCount(ENGINE_RSS_BYTES * 3 + 1)).to.equal(3);
    expect(defaultWorkerCount(1_000 * GiB)).to.equal(MAX_WORKERS);
  });
  it("takes ODOO_SAAS_WORKERS from 1 to 8 and refuses anything else", () => {
    expect(workerCount("4", 0)).to.equal(4);
    expect(workerCount(undefined, ENGINE_RSS_BYTES * 2)).to.equal(2);
    for (const bad of ["0", "9", "2.5", "two", "-1"]) expect(() => workerCount(bad), bad).to.throw(WorkerCountProblem, "ODOO_SAAS_WORKERS");
  });
});

describe("server config from the environment", () => {
  const base = { SUPABASE_URL: "https://abc.supabase.co/" };
  it("derives issuer, JWKS URL and the self-service stack, and prints no secret", () => {
    const secret = "s".repeat(40);
    const config = configFromEnv({ ...base, SUPABASE_JWT_SECRET: secret, ODOO_SAAS_OPS_STACK: "prod" }, "/repo");
    expect(config).to.include({ issuer: "https://abc.supabase.co/auth/v1", jwksUrl: "https://abc.supabase.co/auth/v1/.well-known/jwks.json", selfServiceStack: "prod-selfservice", storeDir: "/repo/.state/signup", tenantLimit: 3, audience: "authenticated" });
    expect(describeConfig(config).join("\n")).to.not.contain(secret);
  });
  it("needs DATABASE_URL to serve, names it when missing, and never prints its password", () => {
    const without = configFromEnv(base, "/repo");
    expect(() => requireDatabaseUrl(without)).to.throw(ConfigProblem, "DATABASE_URL is required");
    const config = configFromEnv({ ...base, DATABASE_URL: "postgres://app:pa55-w0rd-secret@db.internal:5433/odoo_saas", ODOO_SAAS_WORKERS: "3" }, "/repo");
    expect(requireDatabaseUrl(config)).to.equal("postgres://app:pa55-w0rd-secret@db.internal:5433/odoo_saas");
    expect(config.workers).to.equal(3);
    const described = describeConfig(config).join("\n");
    expect(described).to.contain("postgres db.internal:5433/odoo_saas; workers: 3");
    expect(described).to.not.contain("pa55-w0rd-secret");
    expect(() => configFromEnv({ ...base, ODOO_SAAS_WORKERS: "12" }, "/repo")).to.throw(ConfigProblem, "ODOO_SAAS_WORKERS");
  });
  it("refuses missing or unsafe settings", () => {
    expect(() => configFromEnv({}, "/repo")).to.throw(ConfigProblem, "SUPABASE_URL");
    expect(() => configFromEnv({ ...base, SUPABASE_JWKS_URL: "none" }, "/repo")).to.throw(ConfigProblem);
    expect(() => configFromEnv({ ...base, ODOO_SAAS_ADMIN_CLAIM: "user_metadata.role=admin" }, "/repo")).to.throw(ConfigProblem, "app_metadata");
    expect(() => configFromEnv({ ...base, ODOO_SAAS_TENANT_LIMIT: "-1" }, "/repo")).to.throw(ConfigProblem);
    expect(parseAdminClaim("app_metadata.roles=admin")).to.deep.equal({ path: ["app_metadata", "roles"], equals: "admin" });
  });
});

/**
 * The signup server's pure parts: engine-event attribution and sanitising, the id pattern
 * published for the page against the schema's own check, the durable store, the desired
 * tenant list, and config from the environment.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect } from "chai";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { parseAdminClaim } from "../../automation/auth";
import { parseUrn, sanitizeDiagnostic, tenantByName, UpdateTracker } from "../../automation/engine-events";
import { Redactor } from "../../automation/log";
import { ConfigProblem, configFromEnv, describeConfig } from "../../automation/server-config";
import { SignupStore, StoreLockedError, type TenantRecord } from "../../automation/signup-store";
import { desiredTenants } from "../../automation/stack-operator";
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

describe("the durable signup store", () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "odoo-saas-store-"));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const tenant = (id: string): TenantRecord => ({
    id, ownerId: "u1", adminEmail: "a@b.example", plan: "starter", odooVersion: "18.0", suspended: false, state: "pending",
    createdAt: "2026-01-01T00:00:00.000Z", updatedAt: "2026-01-01T00:00:00.000Z", lastOperationId: "op_1",
  });

  it("persists every mutation before returning (a new process sees it)", () => {
    const store = new SignupStore(dir);
    store.mutate((doc) => {
      doc.tenants.a = tenant("a");
    });
    const onDisk = JSON.parse(fs.readFileSync(path.join(dir, "signups.json"), "utf8")) as { tenants: Record<string, unknown> };
    expect(Object.keys(onDisk.tenants)).to.deep.equal(["a"]);
    expect(fs.readdirSync(dir).filter((f) => f.endsWith(".tmp"))).to.deep.equal([]);
    store.close();
    const again = new SignupStore(dir);
    expect(again.tenant("a")?.plan).to.equal("starter");
    again.close();
  });

  it("leaves the document unchanged when a mutation throws", () => {
    const store = new SignupStore(dir);
    expect(() => store.mutate((doc) => {
      doc.tenants.b = tenant("b");
      throw new Error("refused");
    })).to.throw("refused");
    expect(store.tenant("b")).to.equal(undefined);
    expect(store.tenant("__proto__")).to.equal(undefined);
    store.close();
  });

  it("one server per store; a lock left by a dead process is taken over", () => {
    const store = new SignupStore(dir);
    fs.writeFileSync(path.join(dir, "server.lock"), "1\n"); // pid 1 is alive: someone else's
    expect(() => new SignupStore(dir)).to.throw(StoreLockedError);
    fs.writeFileSync(path.join(dir, "server.lock"), "2147483646\n"); // no such process
    const next = new SignupStore(dir);
    expect(fs.readFileSync(path.join(dir, "server.lock"), "utf8").trim()).to.equal(String(process.pid));
    next.close();
    store.close();
  });
});

describe("desired tenant list", () => {
  const record = (id: string, state: TenantRecord["state"], suspended = false): TenantRecord => ({
    id, ownerId: `owner-${id}`, adminEmail: `${id}@x.example`, plan: "starter", odooVersion: "18.0", suspended, state,
    createdAt: `2026-01-0${id.length}T00:00:00.000Z`, updatedAt: "", lastOperationId: "",
  });

  it("applied tenants plus the batch's operations in order; failed, retired and unbatched signups excluded", () => {
    const tenants = [record("a", "active"), record("bb", "active", true), record("ccc", "pending"), record("dddd", "pending"), record("e", "retired"), record("f", "failed")];
    const batch = [
      { kind: "create" as const, tenantId: "ccc" },
      { kind: "resume" as const, tenantId: "bb" },
      { kind: "suspend" as const, tenantId: "a" },
      { kind: "delete" as const, tenantId: "a" },
    ];
    expect(desiredTenants(tenants, batch)).to.deep.equal([
      { id: "bb", adminEmail: "bb@x.example", plan: "starter", odooVersion: "18.0", suspended: false, ownerId: "owner-bb" },
      { id: "ccc", adminEmail: "ccc@x.example", plan: "starter", odooVersion: "18.0", suspended: false, ownerId: "owner-ccc" },
    ]);
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
  it("refuses missing or unsafe settings", () => {
    expect(() => configFromEnv({}, "/repo")).to.throw(ConfigProblem, "SUPABASE_URL");
    expect(() => configFromEnv({ ...base, SUPABASE_JWKS_URL: "none" }, "/repo")).to.throw(ConfigProblem);
    expect(() => configFromEnv({ ...base, ODOO_SAAS_ADMIN_CLAIM: "user_metadata.role=admin" }, "/repo")).to.throw(ConfigProblem, "app_metadata");
    expect(() => configFromEnv({ ...base, ODOO_SAAS_TENANT_LIMIT: "-1" }, "/repo")).to.throw(ConfigProblem);
    expect(parseAdminClaim("app_metadata.roles=admin")).to.deep.equal({ path: ["app_metadata", "roles"], equals: "admin" });
  });
});

/**
 * The tenant API on the real server and engine (STAND-IN program, which fails on demand for
 * the retry cases; the real program's signup is test/api/real-program.test.ts): validation
 * through the one schema, ids the fleet stack owns,
 * limits, request hygiene, ownership, credentials, suspend/resume/delete.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { expect } from "chai";
import * as yaml from "js-yaml";
import { tenantIdProblem } from "../../tenants/schema";
import { parseStackConfig } from "../../tenants/validate";
import type { OperationView, TenantView } from "../../automation/tenant-views";
import { Harness, FLEET_TENANTS, userId } from "../support/signup-harness";

interface Created {
  tenant: TenantView;
  operation: OperationView;
  note?: string;
}
type ErrorBody = { error: { code: string; message: string; field?: string } };

describe("signup API: tenants (real server and engine, stand-in program)", function () {
  this.timeout(180_000);
  let h: Harness;
  let alice: string;
  let bob: string;
  let admin: string;

  before(async () => {
    h = await Harness.start({ tenantLimit: 2 });
    h.auth.admins.add("root@example.com");
    alice = await h.token("alice");
    bob = await h.token("bob");
    admin = await h.token("root", { admin: true });
  });
  after(async () => h.close());

  const create = (token: string, body: unknown) => h.request<Created & ErrorBody>("POST", "/api/tenants", { token, body });

  describe("validation (400, with the schema's own messages)", () => {
    it("names the field and gives the PR check's message for a bad id", async () => {
      const res = await create(alice, { id: "Bad_Id", plan: "starter" });
      expect(res.status).to.equal(400);
      expect(res.body.error).to.deep.equal({ code: "invalid_tenant", field: "id", message: tenantIdProblem("Bad_Id") });
    });

    it("refuses reserved and too long ids with the schema's reasons", async () => {
      for (const id of ["admin", "kube-system", "tenant-x", "a".repeat(41)]) {
        const res = await create(alice, { id, plan: "starter" });
        expect(res.status, id).to.equal(400);
        expect(res.body.error.field).to.equal("id");
        expect(res.body.error.message).to.equal(tenantIdProblem(id));
      }
    });

    it("refuses an unknown plan exactly as parseStackConfig words it", async () => {
      const res = await create(alice, { id: "planless", plan: "platinum" });
      expect(res.status).to.equal(400);
      const expected = parseStackConfig({ baseDomain: "odoo-saas.test", tenants: [{ id: "planless", adminEmail: "a@b.example", plan: "platinum" }] });
      expect(expected.ok).to.equal(false);
      expect(res.body.error).to.deep.equal({ code: "invalid_tenant", field: "plan", message: expected.ok ? "" : expected.issues[0]?.message });
    });

    it("refuses names every JavaScript object has (plan, odooVersion, id), naming the field and queuing nothing", async () => {
      const before = (await h.request<{ tenants: TenantView[] }>("GET", "/api/tenants", { token: admin })).body.tenants.length;
      const cases: Array<[string, string]> = [
        ['{"id":"proto-plan","plan":"__proto__"}', "plan"],
        ['{"id":"proto-plan","plan":"toString"}', "plan"],
        ['{"id":"proto-plan","plan":"constructor"}', "plan"],
        ['{"id":"proto-plan","plan":"hasOwnProperty"}', "plan"],
        ['{"id":"proto-version","plan":"starter","odooVersion":"constructor"}', "odooVersion"],
        ['{"id":"__proto__","plan":"starter"}', "id"],
        ['{"id":"toString","plan":"starter"}', "id"],
      ];
      for (const [raw, field] of cases) {
        const res = await h.request<ErrorBody>("POST", "/api/tenants", { token: alice, raw, headers: { "Content-Type": "application/json" } });
        expect(res.status, raw).to.equal(400);
        expect(res.body.error, raw).to.include({ code: "invalid_tenant", field });
        if (field === "plan") expect(res.body.error.message, raw).to.match(/^unknown plan ".+" \(plans: starter, business\)$/);
      }
      const after = (await h.request<{ tenants: TenantView[] }>("GET", "/api/tenants", { token: admin })).body.tenants;
      expect(after.length).to.equal(before);
      expect(after.map((t) => t.id)).to.not.include.members(["proto-plan", "proto-version"]);
      expect((await h.request("GET", "/api/tenants/proto-plan", { token: alice })).status).to.equal(404);
    });

    it("refuses an unsupported Odoo version and a missing plan", async () => {
      const version = await create(alice, { id: "oldie", plan: "starter", odooVersion: "16.0" });
      expect(version.status).to.equal(400);
      expect(version.body.error.field).to.equal("odooVersion");
      expect(version.body.error.message).to.equal("must be one of 17.0, 18.0");
      const noPlan = await create(alice, { id: "noplan" });
      expect(noPlan.status).to.equal(400);
      expect(noPlan.body.error.field).to.equal("plan");
    });

    it("rejects unknown fields by name, including ones only the server may set", async () => {
      for (const field of ["adminEmail", "ownerId", "suspended", "customDomains", "__proto__"]) {
        const res = await h.request<ErrorBody>("POST", "/api/tenants", { token: alice, raw: `{"id":"x1","plan":"starter","${field}":"v"}`, headers: { "Content-Type": "application/json" } });
        expect(res.status, field).to.equal(400);
        expect(res.body.error).to.include({ code: "unknown_field", field });
      }
    });

    it("413 for a body over 16 KiB, 415 for a non-JSON content type, 400 for bad JSON or a non-object", async () => {
      const big = await h.request<ErrorBody>("POST", "/api/tenants", { token: alice, body: { id: "big", plan: "starter", pad: "x".repeat(17 * 1024) } });
      expect(big.status).to.equal(413);
      expect(big.body.error.code).to.equal("body_too_large");
      const form = await h.request<ErrorBody>("POST", "/api/tenants", { token: alice, raw: "id=x&plan=starter", headers: { "Content-Type": "application/x-www-form-urlencoded" } });
      expect(form.status).to.equal(415);
      const broken = await h.request<ErrorBody>("POST", "/api/tenants", { token: alice, raw: "{\"id\":", headers: { "Content-Type": "application/json" } });
      expect(broken.status).to.equal(400);
      expect(broken.body.error.code).to.equal("invalid_json");
      const array = await h.request<ErrorBody>("POST", "/api/tenants", { token: alice, body: [{ id: "x" }] });
      expect(array.body.error.code).to.equal("invalid_body");
    });

    it("checks authentication before reading the body", async () => {
      const res = await h.request<ErrorBody>("POST", "/api/tenants", { body: { id: "x", plan: "starter" } });
      expect(res.status).to.equal(401);
    });

    it("403 when the token has no e-mail address (the Odoo login needs one)", async () => {
      const token = await h.auth.sign({ sub: "no-email-user" });
      const res = await create(token, { id: "mailless", plan: "starter" });
      expect(res.status).to.equal(403);
      expect(res.body.error.code).to.equal("email_required");
    });

    it("404 for unknown routes, 405 for a known route with the wrong method", async () => {
      expect((await h.request<ErrorBody>("GET", "/api/nothing", { token: alice })).body.error.code).to.equal("not_found");
      const put = await h.request<ErrorBody>("PUT", "/api/tenants", { token: alice });
      expect(put.status).to.equal(405);
      expect(put.headers.allow).to.equal("POST, GET");
      // Tenant routes take only what the schema's id rule accepts (a leading digit is not an id).
      for (const p of ["/api/tenants/1abc", "/api/tenants/1abc/credentials", "/api/tenants/Acme"]) {
        const res = await h.request<ErrorBody>("GET", p, { token: alice });
        expect(res.status, p).to.equal(404);
        expect(res.body.error.code, p).to.equal("not_found");
      }
    });
  });

  describe("ids the platform already uses (409)", () => {
    it("refuses an id the fleet stack (pull-request tenants) uses", async () => {
      const res = await create(alice, { id: (FLEET_TENANTS[0] as { id: string }).id, plan: "starter" });
      expect(res.status).to.equal(409);
      expect(res.body.error).to.include({ code: "id_taken", field: "id" });
    });

    it("refuses an id whose host an fleet tenant serves as a custom domain", async () => {
      const res = await create(alice, { id: "shop", plan: "starter" });
      expect(res.status).to.equal(409);
    });

    it("check-id answers the same rules for inline validation", async () => {
      expect((await h.request("GET", "/api/check-id?id=fresh", { token: alice })).body).to.deep.equal({ id: "fresh", available: true });
      expect((await h.request("GET", "/api/check-id?id=globex", { token: alice })).body).to.include({ available: false });
      expect((await h.request("GET", "/api/check-id?id=Nope", { token: alice })).body).to.deep.equal({ id: "Nope", available: false, problem: tenantIdProblem("Nope") });
    });
  });

  describe("lifecycle, ownership and credentials", () => {
    let first: Created;

    it("creates alice's tenant: 202, then the operation succeeds", async () => {
      const res = await create(alice, { id: "alpha", plan: "starter", odooVersion: "17.0" });
      expect(res.status, res.text).to.equal(202);
      first = res.body;
      expect(first.tenant).to.include({ id: "alpha", plan: "starter", odooVersion: "17.0", state: "pending", status: "creating", url: "http://alpha.odoo-saas.test" });
      expect(first.tenant).to.not.have.property("ownerId");
      const credsEarly = await h.request<ErrorBody>("GET", "/api/tenants/alpha/credentials", { token: alice });
      expect(credsEarly.status).to.equal(404);
      expect(credsEarly.body.error.code).to.equal("credentials_not_ready");
      const op = await h.waitForOperation(alice, first.operation.id);
      expect(op.status).to.equal("succeeded");
    });

    it("409 for the same id from another user, while it is pending or active", async () => {
      const res = await create(bob, { id: "alpha", plan: "business" });
      expect(res.status).to.equal(409);
    });

    it("shows alice her tenant with status, URL, plan, version, created time and last operation", async () => {
      const res = await h.request<TenantView>("GET", "/api/tenants/alpha", { token: alice });
      expect(res.status).to.equal(200);
      // No cluster to read here: applied, but not observed answering, so "unknown", never a hopeful "ready".
      expect(res.body).to.include({ id: "alpha", state: "active", status: "unknown", url: "http://alpha.odoo-saas.test", host: "alpha.odoo-saas.test", plan: "starter", odooVersion: "17.0" });
      expect(res.body.statusReason).to.equal("We cannot check on your instance right now.");
      expect(res.body.cluster).to.deep.equal({ reachable: false });
      const forAdmin = await h.request<TenantView>("GET", "/api/tenants/alpha", { token: admin });
      expect(forAdmin.body.cluster).to.deep.equal({ reachable: false, reason: "no cluster configured" });
      expect(res.body.lastOperation).to.include({ kind: "create", status: "succeeded", error: null });
      expect(Date.parse(res.body.createdAt)).to.be.a("number").and.not.NaN;
    });

    it("hides alice's tenant from bob (404, the same answer as for a missing one)", async () => {
      const theirs = await h.request<ErrorBody>("GET", "/api/tenants/alpha", { token: bob });
      const missing = await h.request<ErrorBody>("GET", "/api/tenants/zulu", { token: bob });
      expect(theirs.status).to.equal(404);
      expect(theirs.body.error.code).to.equal(missing.body.error.code);
      expect((await h.request("GET", "/api/tenants", { token: bob })).body).to.deep.equal({ tenants: [], limit: { used: 0, max: 2, storage: { usedGb: 0, keptGb: 0, maxGb: 150 } } });
      for (const [method, path] of [["GET", "/api/tenants/alpha/credentials"], ["POST", "/api/tenants/alpha/suspend"], ["DELETE", "/api/tenants/alpha"], ["GET", `/api/operations/${first.operation.id}`]] as const) {
        expect((await h.request(method, path, { token: bob })).status, `${method} ${path}`).to.equal(404);
      }
    });

    it("gives the credentials to the owner only; not even an admin reads them", async () => {
      const res = await h.request<{ login: string; password: string; url: string }>("GET", "/api/tenants/alpha/credentials", { token: alice });
      expect(res.status).to.equal(200);
      expect(res.headers["cache-control"]).to.equal("no-store");
      expect(res.body.login).to.equal("alice@example.com");
      expect(res.body.url).to.equal("http://alpha.odoo-saas.test");
      expect(res.body.password).to.have.length(24);
      expect((await h.request("GET", "/api/tenants/alpha/credentials", { token: admin })).status).to.equal(404);
      expect(h.logLines.join("")).to.not.contain(res.body.password);
    });

    it("lets an admin see every tenant in the overview, owners by e-mail; the admin's own list holds only the admin's own", async () => {
      await create(bob, { id: "bravo", plan: "business" }).then((r) => h.waitForOperation(bob, r.body.operation.id));
      const own = await h.request<{ tenants: TenantView[] }>("GET", "/api/tenants", { token: admin });
      expect(own.body.tenants).to.deep.equal([]);
      const res = await h.request<{ tenants: Array<{ id: string; owner: string | null; source: string }> }>("GET", "/api/admin/overview", { token: admin });
      // The fleet stack's tenants block customers' names, so they are listed too (no cluster: status unknown).
      expect(res.body.tenants.map((t) => [t.id, t.source, t.owner])).to.deep.equal([
        ["acme", "pull-request", null], ["alpha", "self-service", "alice@example.com"],
        ["bravo", "self-service", "bob@example.com"], ["globex", "pull-request", null],
      ]);
      const ids = await h.request<{ ids: string[]; hosts: string[]; stack: string }>("GET", "/api/admin/tenant-ids", { token: admin });
      // One stack per self-service tenant: `stack` names the pattern.
      expect(ids.body).to.deep.include({ stack: "dev-tenant-<id>", ids: ["alpha", "bravo"] });
      expect(ids.body.hosts).to.deep.equal(["alpha.odoo-saas.test", "bravo.odoo-saas.test"]);
    });

    it("403 over the per-user limit (2 here)", async () => {
      const second = await create(alice, { id: "alpha-two", plan: "starter" });
      expect(second.status).to.equal(202);
      const third = await create(alice, { id: "alpha-three", plan: "starter" });
      expect(third.status).to.equal(403);
      expect(third.body.error.code).to.equal("tenant_limit");
      await h.waitForOperation(alice, second.body.operation.id);
    });

    it("suspends and resumes (409 when already in that state)", async () => {
      const suspend = await h.request<Created>("POST", "/api/tenants/alpha/suspend", { token: alice });
      expect(suspend.status).to.equal(202);
      expect((await h.request<ErrorBody>("POST", "/api/tenants/alpha/suspend", { token: alice })).status).to.equal(409);
      expect((await h.waitForOperation(alice, suspend.body.operation.id)).status).to.equal("succeeded");
      const suspended = await h.request<TenantView>("GET", "/api/tenants/alpha", { token: alice });
      expect(suspended.body).to.include({ status: "suspended", suspended: true });
      expect(h.journal()).to.include("updated alpha suspended=true");
      const resume = await h.request<Created>("POST", "/api/tenants/alpha/resume", { token: alice, body: {} });
      expect(resume.status).to.equal(202);
      expect((await h.waitForOperation(alice, resume.body.operation.id)).status).to.equal("succeeded");
      expect((await h.request<TenantView>("GET", "/api/tenants/alpha", { token: alice })).body).to.include({ status: "unknown", suspended: false });
      expect((await h.request<ErrorBody>("POST", "/api/tenants/alpha/resume", { token: alice })).body.error.code).to.equal("not_suspended");
      const withField = await h.request<ErrorBody>("POST", "/api/tenants/alpha/suspend", { token: alice, body: { now: true } });
      expect(withField.body.error).to.include({ code: "unknown_field", field: "now" });
    });

    it("deletes: retires the tenant (data kept, said so), frees a slot, keeps the id reserved", async () => {
      const del = await h.request<Created>("DELETE", "/api/tenants/alpha-two", { token: alice });
      expect(del.status).to.equal(202);
      expect(del.body.note).to.equal('"alpha-two" is being deleted: it goes offline and leaves your list. Its database, files and backups are kept '
        + "until they are permanently removed, and the name stays with them until then.");
      const during = await h.request<TenantView>("GET", "/api/tenants/alpha-two", { token: alice });
      expect(during.body.status).to.equal("deleting");
      expect((await h.waitForOperation(alice, del.body.operation.id)).status).to.equal("succeeded");
      expect((await h.request("GET", "/api/tenants/alpha-two", { token: alice })).status).to.equal(404);
      expect(h.journal()).to.include("deleted alpha-two");
      const again = await create(alice, { id: "alpha-two", plan: "starter" });
      expect(again.status).to.equal(409);
      // Her own deleted name: told the truth, not "taken" as if someone else had it.
      expect(again.body.error.message).to.equal('you deleted "alpha-two"; its data is kept until it is permanently removed, and the name stays with it until then. Choose another name');
      expect((await create(bob, { id: "alpha-two", plan: "starter" })).body.error.message).to.equal('"alpha-two" is already taken; choose another name');
      const ids = await h.request<{ ids: string[] }>("GET", "/api/admin/tenant-ids", { token: admin });
      expect(ids.body.ids).to.include("alpha-two");
      const slot = await create(alice, { id: "alpha-three", plan: "starter" });
      expect(slot.status).to.equal(202);
      await h.waitForOperation(alice, slot.body.operation.id);
    });

    it("lets the owner sign up again under the id of her own failed signup", async () => {
      await h.request("DELETE", "/api/tenants/alpha-three", { token: alice }).then((r) => h.waitForOperation(alice, (r.body as unknown as Created).operation.id));
      const failing = await create(alice, { id: "retry-fail", plan: "starter" });
      expect((await h.waitForOperation(alice, failing.body.operation.id)).status).to.equal("failed");
      expect((await create(bob, { id: "retry-fail", plan: "starter" })).status).to.equal(409);
      const retry = await create(alice, { id: "retry-fail", plan: "business" });
      expect(retry.status).to.equal(202);
      expect((await h.waitForOperation(alice, retry.body.operation.id)).status).to.equal("failed");
    });
  });

  describe("where tenants live", () => {
    const settingsFile = (id: string): string => path.join(h.dir, "engine", "workspaces", `dev-tenant-${id}`, `Pulumi.dev-tenant-${id}.yaml`);
    const settings = (id: string): { encryptionsalt?: string; config: Record<string, unknown> } => yaml.load(fs.readFileSync(settingsFile(id), "utf8")) as { encryptionsalt?: string; config: Record<string, unknown> };

    it("each self-service tenant has its own stack: the fleet stack's platform keys and that tenant alone", async () => {
      await h.app.idle();
      for (const [id, owner] of [["alpha", "alice"], ["bravo", "bob"]] as const) {
        const { config, encryptionsalt } = settings(id);
        expect(config["odoo-saas:baseDomain"]).to.equal("odoo-saas.test");
        expect(config["odoo-saas:ingress"]).to.deep.equal({ awaitLoadBalancer: false });
        expect(config["kubernetes:context"]).to.equal("odoo-saas-test");
        const tenants = config["odoo-saas:tenants"] as Array<{ id: string; ownerId: string; adminEmail: string }>;
        expect(tenants.map((t) => t.id)).to.deep.equal([id]);
        expect(tenants[0]).to.include({ ownerId: userId(owner), adminEmail: `${owner}@example.com` });
        expect(encryptionsalt, "the stack's own secrets settings are kept").to.be.a("string");
      }
    });

    it("never writes the fleet stack file (pull-request tenants stay there, untouched)", () => {
      const fleet = yaml.load(fs.readFileSync(path.join(h.dir, "Pulumi.dev.yaml"), "utf8")) as { config: Record<string, unknown> };
      expect(fleet.config["odoo-saas:tenants"]).to.deep.equal(FLEET_TENANTS);
    });

    const business = {
      odoo: { cpu: { request: "500m", limit: "2" }, memory: { request: "1Gi", limit: "3Gi" } },
      postgres: { cpu: { request: "250m", limit: "1" }, memory: { request: "512Mi", limit: "1Gi" } },
      workers: 2, databaseStorage: "20Gi", filestoreStorage: "20Gi", backupStorage: "80Gi",
      quota: { cpu: "5", memory: "6Gi", storage: "150Gi", pods: 10 },
    };
    const starter = {
      odoo: { cpu: { request: "250m", limit: "1" }, memory: { request: "512Mi", limit: "1536Mi" } },
      postgres: { cpu: { request: "100m", limit: "500m" }, memory: { request: "256Mi", limit: "512Mi" } },
      workers: 0, databaseStorage: "5Gi", filestoreStorage: "5Gi", backupStorage: "20Gi",
      quota: { cpu: "3", memory: "4Gi", storage: "40Gi", pods: 10 },
    };
    const setPlans = (plans: Record<string, unknown>): void => {
      const file = path.join(h.dir, "Pulumi.dev.yaml");
      const fleet = yaml.load(fs.readFileSync(file, "utf8")) as { config: Record<string, unknown> };
      fleet.config["odoo-saas:plans"] = plans;
      fs.writeFileSync(file, yaml.dump(fleet));
    };

    // What a plan gives, in the one size format of the page and the upload limit.
    const gives = (storage: string, resources: string): Record<string, string> => ({ storage, resources, backups: "daily backups, 5 more on request a day" });

    it("takes a changed platform key (a new plan) at the next update", async () => {
      setPlans({ starter, business, pro: { ...business, workers: 4, displayName: "Professional", description: "For a whole company." } });
      const plans = await h.request<{ plans: Array<{ name: string }> }>("GET", "/api/config/public");
      expect(plans.body.plans.map((p) => p.name)).to.deep.equal(["starter", "business", "pro"]);
      // Customer words from the platform config, derived where it says nothing; never Mi or Gi.
      expect(plans.body.plans).to.deep.equal([
        { name: "starter", displayName: "Starter", description: "For getting started and small teams.", storageGb: 10, ...gives("10.7 GB", "1 CPU, 1.6 GB memory") },
        { name: "business", displayName: "Business", description: "For teams using Odoo all day.", storageGb: 42, ...gives("42.9 GB", "2 CPU, 3.2 GB memory") },
        { name: "pro", displayName: "Professional", description: "For a whole company.", storageGb: 42, ...gives("42.9 GB", "2 CPU, 3.2 GB memory") },
      ]);
      const carl = await h.token("carl");
      const res = await create(carl, { id: "charlie", plan: "pro" });
      expect(res.status, res.text).to.equal(202);
      expect((await h.waitForOperation(carl, res.body.operation.id)).status).to.equal("succeeded");
      const copied = settings("charlie").config["odoo-saas:plans"] as Record<string, { workers: number }>;
      expect(copied.pro?.workers).to.equal(4);
    });

    it("when the fleet stack drops a plan a tenant uses: signups on it are refused, that tenant's operations fail, others go on, admins see why", async () => {
      setPlans({ business, pro: { ...business, workers: 4 } });
      const carl = await h.token("carl");
      const refused = await create(carl, { id: "delta", plan: "starter" });
      expect(refused.status).to.equal(400);
      expect(refused.body.error).to.include({ field: "plan", message: 'unknown plan "starter" (plans: business, pro)' });
      // Another tenant's stack does not hold alpha: its plan is not in the way.
      const res = await create(carl, { id: "delta", plan: "business" });
      expect((await h.waitForOperation(carl, res.body.operation.id)).status).to.equal("succeeded");
      // alpha's plan is gone: its next operation is refused before the engine runs, not retried.
      const suspend = await h.request<Created>("POST", "/api/tenants/alpha/suspend", { token: alice });
      const op = await h.waitForOperation(alice, suspend.body.operation.id);
      expect(op).to.include({ status: "failed", attempts: 1 });
      const recent = await h.request<{ operations: Array<{ id: string; error: { code: string; message: string } | null; details?: string[] }> }>("GET", "/api/admin/operations", { token: admin });
      const seen = recent.body.operations.find((o) => o.id === op.id);
      expect(seen?.error).to.deep.equal({ code: "suspend_failed", message: 'plan: unknown plan "starter" (plans: business, pro)' });
      expect(seen?.details?.join("\n")).to.contain('(id "alpha"): plan: unknown plan "starter"');
      expect(settings("delta").config["odoo-saas:plans"]).to.have.property("pro");
    });
  });
});

/**
 * The work queue through the HTTP API: concurrent signups run in parallel, each in its own
 * tenant's stack with its own result (a failing tenant gets its own error), one tenant's
 * operations run in request order, and progress streams as Server-Sent Events. Real HTTP
 * server, real runner and Pulumi engine; the STAND-IN program replaces odooSaasProgram for
 * fault injection: ids containing "fail" make its dynamic resource throw, and its updates
 * can be slowed.
 */
import { expect } from "chai";
import { CUSTOMER_ERROR_MESSAGES } from "../../automation/customer-messages";
import type { OperationView, TenantView } from "../../automation/tenant-views";
import { Harness, readEventStream } from "../support/signup-harness";

interface Created {
  tenant: TenantView;
  operation: OperationView;
}

/** The most operations whose [startedAt, finishedAt] overlap at one moment. */
function maxOverlap(ops: readonly OperationView[]): number {
  const points = ops.flatMap((op) => [[Date.parse(op.startedAt ?? ""), 1], [Date.parse(op.finishedAt ?? ""), -1]] as Array<[number, number]>)
    .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let current = 0;
  let max = 0;
  for (const [, delta] of points) max = Math.max(max, (current += delta));
  return max;
}

describe("signup queue: parallel tenants, per-tenant order and results, SSE progress (real engine, stand-in program)", function () {
  this.timeout(300_000);
  let h: Harness;
  let admin: string;

  before(async () => {
    h = await Harness.start({ tenantLimit: 5, delayMs: 800, workers: 2 });
    h.auth.admins.add("root@example.com");
    admin = await h.token("root", { admin: true });
  });
  after(async () => h.close());

  const names = ["ada", "bea", "cyd", "dot", "eve", "flo"];
  const ids = ["orchid", "tulip", "lotus-fail", "iris", "daisy", "poppy"];
  const created: Record<string, Created> = {};
  const tokens: Record<string, string> = {};
  const results: Record<string, OperationView> = {};

  it("answers 202 at once for six concurrent signups, one of which fails on purpose", async () => {
    for (const name of names) tokens[name] = await h.token(name);
    const started = Date.now();
    const responses = await Promise.all(ids.map((id, i) => h.request<Created>("POST", "/api/tenants", { token: tokens[names[i] as string], body: { id, plan: "starter" } })));
    expect(Date.now() - started, "answered without waiting for the engine").to.be.below(3_000);
    responses.forEach((res, i) => {
      expect(res.status, res.text).to.equal(202);
      expect(res.headers.location).to.equal(`/api/operations/${res.body.operation.id}`);
      expect(res.body.operation.status).to.equal("queued");
      expect(res.body.tenant.status).to.equal("creating");
      created[ids[i] as string] = res.body;
    });
  });

  it("runs them two at a time (the worker count), each operation with its own result", async () => {
    for (const [i, id] of ids.entries()) {
      results[id] = await h.waitForOperation(tokens[names[i] as string] as string, (created[id] as Created).operation.id);
    }
    // Read as an administrator: start and end times of every operation.
    const ops = await Promise.all(ids.map(async (id) => (await h.request<OperationView>("GET", `/api/operations/${results[id]?.id}`, { token: admin })).body));
    expect(maxOverlap(ops), "different tenants run in parallel, at most 2 at once").to.equal(2);
    for (const id of ids.filter((x) => !x.includes("fail"))) expect(results[id]?.status, id).to.equal("succeeded");
    const failed = results["lotus-fail"] as OperationView;
    expect(failed.status).to.equal("failed");
    // A refusal of the program is not retried.
    expect(failed.attempts).to.equal(1);
    // The owner reads the fixed customer message and a reference; the engine's text is for administrators.
    expect(failed.error).to.deep.equal({ code: "provisioning_failed", message: CUSTOMER_ERROR_MESSAGES[0], reference: failed.id });
    const raw = (await h.request<OperationView>("GET", `/api/operations/${failed.id}`, { token: admin })).body;
    expect(raw.error?.message).to.contain('tenant "lotus-fail" fails on purpose');
    // Its error names no other tenant.
    for (const other of ids.filter((x) => x !== "lotus-fail")) expect(raw.error?.message).to.not.contain(other);
  });

  it("reports the failed tenant as failed (customer words, a reference) and the others' credentials as available", async () => {
    const failed = await h.request<TenantView>("GET", "/api/tenants/lotus-fail", { token: tokens.cyd });
    expect(failed.body.status).to.equal("failed");
    expect(failed.body.state).to.equal("failed");
    expect(failed.body.statusReason).to.equal(CUSTOMER_ERROR_MESSAGES[0]);
    expect(failed.body.reference).to.equal((created["lotus-fail"] as Created).operation.id);
    expect(failed.body).to.not.have.property("detail");
    const forAdmin = await h.request<TenantView>("GET", "/api/tenants/lotus-fail", { token: admin });
    expect(forAdmin.body.detail?.reason).to.contain("fails on purpose");
    const creds = await h.request("GET", "/api/tenants/lotus-fail/credentials", { token: tokens.cyd });
    expect(creds.status).to.equal(404);
    for (const [i, id] of ids.entries()) {
      if (id.includes("fail")) continue;
      const res = await h.request<{ login: string; password: string }>("GET", `/api/tenants/${id}/credentials`, { token: tokens[names[i] as string] });
      expect(res.status, `${id}: ${res.text}`).to.equal(200);
      expect(res.body.login).to.equal(`${names[i]}@example.com`);
      expect(res.body.password).to.match(/^[A-Za-z0-9_-]{24}$/);
    }
    // Each applied tenant was created once in the "external world"; the failed one never.
    expect(h.journal().filter((line) => line.startsWith("created ")).sort()).to.deep.equal(
      ids.filter((id) => !id.includes("fail")).map((id) => `created ${id}`).sort(),
    );
  });

  it("runs one tenant's operations in request order, never two at once: suspend, resume, delete sent together", async () => {
    const token = tokens.ada as string;
    const sent: OperationView[] = [];
    for (const kind of ["suspend", "resume"] as const) {
      const res = await h.request<Created>("POST", `/api/tenants/orchid/${kind}`, { token });
      expect(res.status, res.text).to.equal(202);
      sent.push(res.body.operation);
    }
    const del = await h.request<Created>("DELETE", "/api/tenants/orchid", { token });
    expect(del.status, del.text).to.equal(202);
    sent.push(del.body.operation);
    const done = await Promise.all(sent.map((op) => h.waitForOperation(token, op.id)));
    expect(done.map((op) => `${op.kind}:${op.status}`)).to.deep.equal(["suspend:succeeded", "resume:succeeded", "delete:succeeded"]);
    const ops = await Promise.all(sent.map(async (op) => (await h.request<OperationView>("GET", `/api/operations/${op.id}`, { token: admin })).body));
    for (let i = 1; i < ops.length; i++) {
      expect(Date.parse(ops[i]?.startedAt ?? ""), `${ops[i]?.kind} started after ${ops[i - 1]?.kind} finished`).to.be.at.least(Date.parse(ops[i - 1]?.finishedAt ?? ""));
    }
    expect((await h.request("GET", "/api/tenants/orchid", { token })).status, "retired: gone from the owner's view").to.equal(404);
    const overview = await h.request<{ tenants: Array<{ id: string; status: string }> }>("GET", "/api/admin/overview", { token: admin });
    expect(overview.body.tenants.find((t) => t.id === "orchid")?.status).to.equal("deleted");
    const recent = await h.request<{ operations: OperationView[] }>("GET", "/api/admin/operations", { token: admin });
    expect(recent.body.operations.slice(0, 3).map((op) => op.kind)).to.deep.equal(["delete", "resume", "suspend"]);
  });

  describe("Server-Sent Events", () => {
    let live: Promise<Array<Record<string, unknown>>>;
    let op: OperationView;

    it("streams a signup's progress to its owner as steps in customer words, never resource names", async () => {
      const res = await h.request<Created>("POST", "/api/tenants", { token: tokens.flo, body: { id: "sage", plan: "starter" } });
      op = res.body.operation;
      live = readEventStream(h.url, op.events, tokens.flo as string);
      const events = await live;
      const shown = events.map((e) => e.type === "step" ? `${String(e.status)} ${String(e.label)}` : String(e.type));
      expect(shown[0]).to.equal("queued");
      expect(shown.at(-1)).to.equal("succeeded");
      // Each step once, whatever number of resources it took.
      expect(shown.slice(1, -1).sort()).to.deep.equal([
        "finished Setting up your instance", "finished Starting Odoo", "started", "started Setting up your instance", "started Starting Odoo",
      ]);
      expect(JSON.stringify(events)).to.not.match(/sage-odoo|update|resource|kind/);
    });

    it("streams the raw engine progress to administrators only (?view=admin): its own resource steps, summary", async () => {
      expect((await h.request("GET", `${op.events}?view=admin`, { token: tokens.flo })).status).to.equal(403);
      const events = await readEventStream(h.url, `${op.events}?view=admin`, admin);
      const types = events.map((e) => e.type);
      expect(types[0]).to.equal("queued");
      expect(types).to.include.members(["started", "step", "summary"]);
      expect(types.at(-1)).to.equal("succeeded");
      const steps = events.filter((e) => e.type === "step");
      expect(steps.map((e) => `${String(e.status)} ${String(e.op)} ${String(e.resource)}`)).to.include.members([
        "started create sage", "finished create sage", "started create sage-odoo", "finished create sage-odoo",
      ]);
      // Never another tenant's resources, never a secret.
      for (const step of steps) expect(String(step.resource)).to.match(/^sage(-|$)/);
      const summary = events.find((e) => e.type === "summary") as { changes: Record<string, number> };
      // The tenant's own stack, created with its first operation: the stack, the component, its resource.
      expect(summary.changes).to.deep.equal({ create: 3 });
      const creds = await h.request<{ password: string }>("GET", "/api/tenants/sage/credentials", { token: tokens.flo });
      const text = JSON.stringify(events);
      expect(text).to.not.contain(creds.body.password);
      expect(events.map((e) => e.seq)).to.deep.equal(events.map((_, i) => i + 1));
    });

    it("gives late subscribers the whole history, and resumes after Last-Event-ID", async () => {
      const again = await readEventStream(h.url, op.events, tokens.flo as string);
      expect(again.length).to.be.above(2);
      expect(again.map((e) => e.type)).to.deep.equal((await live).map((e) => e.type));
      const resumed = await readEventStream(h.url, op.events, tokens.flo as string, { "Last-Event-ID": "3" });
      expect(resumed[0]?.seq).to.be.at.least(4);
      expect(resumed.at(-1)?.type).to.equal("succeeded");
    });

    it("streams a failed signup's own error and ends with failed", async () => {
      const res = await h.request<Created>("POST", "/api/tenants", { token: tokens.flo, body: { id: "thistle-fail", plan: "starter" } });
      const own = await readEventStream(h.url, res.body.operation.events, tokens.flo as string);
      expect(own.at(-1)).to.deep.include({ type: "failed", error: { code: "provisioning_failed", message: CUSTOMER_ERROR_MESSAGES[0], reference: res.body.operation.id } });
      expect(own.some((e) => e.type === "step" && e.status === "failed" && e.label === "Starting Odoo")).to.equal(true);
      expect(JSON.stringify(own)).to.not.contain("fails on purpose");
      const events = await readEventStream(h.url, `${res.body.operation.events}?view=admin`, admin);
      const diagnostics = events.filter((e) => e.type === "diagnostic");
      expect(diagnostics.some((e) => String(e.message).includes('tenant "thistle-fail" fails on purpose'))).to.equal(true);
      expect(events.some((e) => e.type === "step" && e.status === "failed" && e.resource === "thistle-fail-odoo")).to.equal(true);
      const last = events.at(-1) as { type: string; error: { code: string } };
      expect(last.type).to.equal("failed");
      expect(last.error.code).to.equal("provisioning_failed");
      // No stack frames or file paths from the engine.
      expect(JSON.stringify(events)).to.not.match(/\bat \/|node_modules/);
    });

    it("is not readable by another user (404), nor without a token (401)", async () => {
      expect((await h.request("GET", op.events, { token: tokens.ada })).status).to.equal(404);
      expect((await h.request("GET", op.events)).status).to.equal(401);
    });
  });

  it("never wrote a password, the passphrase or a token into the log", async () => {
    await h.app.idle();
    const log = h.logLines.join("");
    for (const [i, id] of ids.entries()) {
      if (id.includes("fail")) continue;
      const res = await h.request<{ password: string }>("GET", `/api/tenants/${id}/credentials`, { token: tokens[names[i] as string] });
      expect(log).to.not.contain(res.body.password);
    }
    expect(log).to.not.contain(tokens.ada);
    expect(log).to.not.contain(h.auth.hs256Secret);
    expect(log).to.contain("operation succeeded");
  });
});

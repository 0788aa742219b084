/**
 * The server's default program is the real `odooSaasProgram` (no stand-in passed). On this
 * machine its update cannot succeed: the engine asks for the random and Kubernetes provider
 * plugins, which cannot be built here (the Go module proxy refuses them). This shows what a
 * customer and an admin then see: a plain failure for the customer, the engine's own
 * reason on the update record for the admin; nothing crashes.
 */
import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { jsonLogger, Redactor } from "../../automation/log";
import { startSignupApp, type SignupApp } from "../../automation/signup-app";
import { CUSTOMER_ERROR_MESSAGES } from "../../automation/customer-messages";
import type { OperationView } from "../../automation/tenant-service";
import { engineLocation, harnessConfig, request, userId, writeOpsStackFile } from "../support/signup-harness";
import { startAuthStandIn, type AuthStandIn } from "../support/supabase-auth-standin";

describe("the default program is the real odooSaasProgram (provider plugins missing on this machine)", function () {
  this.timeout(120_000);
  let auth: AuthStandIn;
  let dir: string;
  let app: SignupApp;

  before(async () => {
    auth = await startAuthStandIn();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "odoo-saas-real-program-"));
    writeOpsStackFile(dir);
    app = await startSignupApp(harnessConfig(dir, auth, ["jwks"]), { engine: engineLocation(dir), log: jsonLogger(new Redactor(), { write: () => undefined }) });
  });
  after(async () => {
    await app.close();
    await auth.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("runs the real component; the customer gets a plain failure, the admin the engine's reason", async () => {
    const token = await auth.sign({ sub: userId("rita"), email: "rita@example.com" });
    const res = await request<{ operation: OperationView }>(app.url, "POST", "/api/tenants", { token, body: { id: "realone", plan: "starter" } });
    expect(res.status).to.equal(202);
    await app.operator.idle();
    const op = await request<OperationView>(app.url, "GET", `/api/operations/${res.body.operation.id}`, { token });
    expect(op.body.status).to.equal("failed");
    expect(op.body.error).to.deep.equal({ code: "update_failed", message: CUSTOMER_ERROR_MESSAGES.at(-1), reference: res.body.operation.id });
    const admin = await auth.sign({ sub: userId("root"), email: "root@example.com", admin: true });
    const raw = await request<OperationView>(app.url, "GET", `/api/operations/${res.body.operation.id}`, { token: admin });
    expect(raw.body.error?.message).to.match(/^the platform could not apply this change \(update #1\)/);
    const updates = await request<{ updates: Array<{ id: number; errors?: string[] }> }>(app.url, "GET", "/api/admin/updates", { token: admin });
    const first = updates.body.updates.find((u) => u.id === 1);
    expect(first?.errors?.join("\n")).to.match(/no resource plugin 'pulumi-resource-(random|kubernetes)' found/);
    // The failed signup is taken out again: the reconcile update removes what it registered.
    const reconcile = updates.body.updates.find((u) => u.id === 2) as { kind: string; result: string; changes?: Record<string, number> } | undefined;
    expect(reconcile).to.deep.include({ kind: "reconcile", result: "succeeded" });
    expect(reconcile?.changes?.delete).to.equal(1);
    const tenant = await request<{ status: string; state: string }>(app.url, "GET", "/api/tenants/realone", { token });
    expect(tenant.body).to.include({ status: "failed", state: "failed" });
  });
});

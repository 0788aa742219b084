/**
 * Failed operations are POSTed to the operators' webhook (ODOO_SAAS_FAILURE_WEBHOOK_URL),
 * tested against a receiver on 127.0.0.1; successes are not; a receiver that is down delays
 * nothing and its URL (which may carry a token) is never logged. Real server and engine,
 * stand-in program (ids containing "fail" fail on purpose).
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { expect } from "chai";
import type { FailureNotice } from "../../automation/failure-notifier";
import type { OperationView } from "../../automation/tenant-views";
import { Harness } from "../support/signup-harness";

interface Receiver { url: string; notices: FailureNotice[]; close(): Promise<void> }

async function receiver(): Promise<Receiver> {
  const notices: FailureNotice[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (req.method === "POST" && req.headers["content-type"] === "application/json") notices.push(JSON.parse(Buffer.concat(chunks).toString("utf8")) as FailureNotice);
      res.writeHead(204);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/odoo-saas?token=hook-secret-123`,
    notices,
    close: () => new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections(); }),
  };
}

async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("failure notification webhook (real server and engine, local receiver)", function () {
  this.timeout(180_000);

  it("POSTs each failed operation with its reference; successes are not sent", async () => {
    const hook = await receiver();
    const h = await Harness.start({ failureWebhookUrl: hook.url });
    try {
      const token = await h.token("nina");
      const failed = await h.request<{ operation: OperationView }>("POST", "/api/tenants", { token, body: { id: "nina-fail", plan: "starter" } });
      const op = await h.waitForOperation(token, failed.body.operation.id);
      expect(op.status).to.equal("failed");
      await until(() => hook.notices.length > 0);
      expect(hook.notices).to.have.length(1);
      expect(hook.notices[0]).to.include({ event: "operation_failed", reference: op.id, tenant: "nina-fail", kind: "create", code: "provisioning_failed" });
      expect(hook.notices[0]?.message).to.contain("fails on purpose");
      const ok = await h.request<{ operation: OperationView }>("POST", "/api/tenants", { token: await h.token("omar"), body: { id: "omars", plan: "starter" } });
      expect((await h.waitForOperation(await h.token("omar"), ok.body.operation.id)).status).to.equal("succeeded");
      await new Promise((r) => setTimeout(r, 300));
      expect(hook.notices).to.have.length(1);
    } finally {
      await h.close();
      await hook.close();
    }
  });

  it("a receiver that is down delays nothing, and its URL is never logged", async () => {
    const hook = await receiver();
    await hook.close();
    const h = await Harness.start({ failureWebhookUrl: hook.url });
    try {
      const token = await h.token("pia");
      const res = await h.request<{ operation: OperationView }>("POST", "/api/tenants", { token, body: { id: "pia-fail", plan: "starter" } });
      expect((await h.waitForOperation(token, res.body.operation.id)).status).to.equal("failed");
      await until(() => h.logLines.some((l) => l.includes("failure webhook not reachable")));
      expect(h.logLines.join("\n")).to.not.contain("hook-secret-123");
    } finally {
      await h.close();
    }
  });
});

/**
 * The signup path's engine-free rules: whether a stack's state lists anything to refresh (read
 * from a real file-backend layout in a temp folder), the stack outputs taken from the engine's
 * event stream, and the phase timer's listeners.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect } from "chai";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { onPhase, PhaseTimer, type PhaseSample } from "../../automation/engine/phase-timer";
import { stateFileExists, stateFolder, stateHasResources } from "../../automation/engine/state-file";
import { stackOutputsOf } from "../../automation/engine/up-from-events";

describe("signup path: state without the engine, outputs from events, phase timing", () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "signup-path-"));
  const engine = { backendDir: path.join(root, "backend"), pulumiHome: path.join(root, "home") };
  const folder = stateFolder(engine) as string;
  const write = (stack: string, body: unknown): void => {
    fs.mkdirSync(folder, { recursive: true });
    fs.writeFileSync(path.join(folder, `${stack}.json`), typeof body === "string" ? body : JSON.stringify(body));
  };
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it("a stack with no state file, or a state without resources, has nothing to refresh", () => {
    expect(stateHasResources(engine, "dev-tenant-none")).to.equal(false);
    write("dev-tenant-new", { version: 3, checkpoint: { stack: "dev-tenant-new", latest: null } });
    expect(stateHasResources(engine, "dev-tenant-new")).to.equal(false);
    write("dev-tenant-empty", { version: 3, checkpoint: { latest: { resources: [] } } });
    expect(stateHasResources(engine, "dev-tenant-empty")).to.equal(false);
  });

  it("tells whether a stack has a state file, and that it cannot tell for an object store", () => {
    expect(stateFileExists(engine, "dev-tenant-never")).to.equal(false);
    write("dev-tenant-made", { version: 3, checkpoint: { latest: null } });
    expect(stateFileExists(engine, "dev-tenant-made")).to.equal(true);
    expect(stateFileExists({ ...engine, backendUrl: "s3://bucket" }, "dev-tenant-made")).to.equal(undefined);
  });

  it("resources or pending operations in the state, or a state it cannot read, mean refresh", () => {
    write("dev-tenant-some", { version: 3, checkpoint: { latest: { resources: [{ urn: "urn:pulumi:x::odoo-saas::pulumi:pulumi:Stack::x" }] } } });
    expect(stateHasResources(engine, "dev-tenant-some")).to.equal(true);
    write("dev-tenant-pending", { version: 3, checkpoint: { latest: { resources: [], pending_operations: [{ type: "creating" }] } } });
    expect(stateHasResources(engine, "dev-tenant-pending")).to.equal(true);
    write("dev-tenant-torn", "{\"version\": 3, \"checkp");
    expect(stateHasResources(engine, "dev-tenant-torn")).to.equal(undefined);
    write("dev-tenant-odd", { version: 3, checkpoint: { latest: { resources: "many" } } });
    expect(stateHasResources(engine, "dev-tenant-odd")).to.equal(undefined);
    fs.writeFileSync(path.join(folder, "dev-tenant-gz.json.gz"), "");
    expect(stateHasResources(engine, "dev-tenant-gz")).to.equal(undefined);
    expect(stateHasResources({ ...engine, backendUrl: "s3://bucket" }, "dev-tenant-none")).to.equal(undefined);
  });

  it("takes the stack's outputs from its stack resource's outputs event only, secrets marked", () => {
    const outputsEvent = (urn: string, outputs: Record<string, unknown>, planning = false): EngineEvent =>
      ({ sequence: 1, timestamp: 0, resOutputsEvent: { planning, metadata: { op: "same", urn, type: "", provider: "", new: { outputs } } } }) as unknown as EngineEvent;
    const stackUrn = "urn:pulumi:dev-tenant-a::odoo-saas::pulumi:pulumi:Stack::odoo-saas-dev-tenant-a";
    const tenants = { a: { url: "http://a.example", adminPassword: "[secret]" } };
    expect(stackOutputsOf(outputsEvent(stackUrn, { tenants, token: "[secret]" }))).to.deep.equal({
      tenants: { value: tenants, secret: false },
      token: { value: "[secret]", secret: true },
    });
    expect(stackOutputsOf(outputsEvent("urn:pulumi:dev-tenant-a::odoo-saas::odoo-saas:index:OdooTenant::a", { tenants }))).to.equal(undefined);
    expect(stackOutputsOf(outputsEvent(stackUrn, { tenants }, true))).to.equal(undefined);
  });

  it("tells listeners each phase with its operation, and nothing once they unsubscribe", async () => {
    const seen: PhaseSample[] = [];
    const stop = onPhase((s) => seen.push(s));
    const timer = new PhaseTimer("op_1");
    await timer.time("config writes", async () => new Promise((r) => setTimeout(r, 20)));
    await timer.time("engine run", async () => Promise.reject(new Error("engine failed"))).catch(() => undefined);
    stop();
    timer.record("status write", 0, 5);
    expect(seen.map((s) => [s.operationId, s.phase])).to.deep.equal([["op_1", "config writes"], ["op_1", "engine run"]]);
    expect(seen[0]?.ms).to.be.greaterThanOrEqual(15);
  });
});

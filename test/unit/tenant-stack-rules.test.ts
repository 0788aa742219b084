/**
 * The rules of the per-tenant stack runner that need no engine: names, the config an
 * operation leaves, which failures are worth a retry, the backend URL, and the memory reader
 * used to size workers.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect } from "chai";
import { ConcurrentUpdateError } from "@pulumi/pulumi/automation";
import { backendUrl, engineEnv } from "../../automation/engine/engine-env";
import type { TenantRecord } from "../../automation/records/types";
import { isLockError, tenantAfter } from "../../automation/engine/tenant-stack-rules";
import { tenantStackName } from "../../automation/engine/tenant-stacks";
import { selfServiceStackName } from "../../automation/engine/stack-migration";
import { descendants, rssOf, treeMemory } from "../../checks/process-rss";

const RECORD: TenantRecord = {
  id: "shop", ownerId: "u1", adminEmail: "a@shop.example", plan: "starter", odooVersion: "17.0", suspended: true,
  state: "active", createdAt: "2026-12-01T00:00:00Z", updatedAt: "2026-12-01T00:00:00Z", lastOperationId: "op_1",
};

describe("per-tenant stack rules", () => {
  it("derives the stack names from the fleet stack and the tenant id", () => {
    expect(tenantStackName("dev", "shop")).to.equal("dev-tenant-shop");
    expect(selfServiceStackName("prod")).to.equal("prod-selfservice");
  });

  it("lists the tenant as each operation leaves it, and nothing after a delete", () => {
    expect(tenantAfter(RECORD, "resume")?.suspended).to.equal(false);
    expect(tenantAfter({ ...RECORD, suspended: false }, "suspend")?.suspended).to.equal(true);
    expect(tenantAfter(RECORD, "create")).to.deep.equal({ id: "shop", adminEmail: "a@shop.example", plan: "starter", odooVersion: "17.0", suspended: true, ownerId: "u1" });
    expect(tenantAfter(RECORD, "delete")).to.equal(undefined);
  });

  it("recognises a stack lock, as the engine reports it, and nothing else", () => {
    expect(isLockError(new ConcurrentUpdateError({ stdout: "", stderr: "", code: 255, err: undefined } as never))).to.equal(true);
    expect(isLockError(new Error("error: the stack is currently locked by 1 lock(s)"))).to.equal(true);
    expect(isLockError(new Error("resource tenant-shop: admission webhook denied"))).to.equal(false);
  });

  it("gives the engine a file:// or s3:// backend and refuses any other scheme", () => {
    expect(backendUrl({ backendDir: "/srv/state", pulumiHome: "/srv/home" })).to.equal("file:///srv/state");
    const s3 = "s3://state?endpoint=http%3A%2F%2F127.0.0.1%3A9000&use_path_style=true&region=us-east-1";
    expect(backendUrl({ backendDir: "/srv/state", pulumiHome: "/srv/home", backendUrl: s3 })).to.equal(s3);
    expect(() => backendUrl({ backendDir: "/x", pulumiHome: "/y", backendUrl: "https://api.pulumi.com" })).to.throw(/file:\/\/ or s3:\/\//);
    // engineEnv makes its folders: a private temporary one, removed after.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "odoo-saas-rules-"));
    try {
      const env = engineEnv({ backendDir: path.join(dir, "backend"), pulumiHome: path.join(dir, "home"), backendUrl: s3 });
      expect(env.PULUMI_BACKEND_URL).to.equal(s3);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("reads the resident memory of a process tree (a child holding 64 MiB is counted)", async () => {
    const child = spawn(process.execPath, ["-e", "const b = Buffer.alloc(64 * 1024 * 1024, 1); setTimeout(() => b.length, 10000);"], { stdio: "ignore" });
    try {
      const deadline = Date.now() + 5_000;
      while (rssOf(child.pid as number) < 64 * 1024 * 1024 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(descendants(process.pid)).to.include(child.pid);
      const memory = treeMemory(process.pid);
      expect(memory.childrenBytes).to.be.greaterThan(64 * 1024 * 1024);
      expect(memory.selfBytes).to.be.greaterThan(10 * 1024 * 1024);
      expect(memory.engines).to.equal(0);
    } finally {
      child.kill("SIGKILL");
    }
    expect(rssOf(2 ** 22 + 12345)).to.equal(0);
  });
});

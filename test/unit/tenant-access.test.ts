/**
 * The one owner/visibility rule (automation/tenant-access.ts) that tenants, backups, uploads and
 * operations all use: the owner and administrators see a tenant, anyone else is told it does not
 * exist (404, the same answer as a missing one), a deleted tenant is nobody's, and the Odoo
 * password is the owner's alone. The api suite proves the routes answer by it.
 */
import { expect } from "chai";
import { ApiError } from "../../automation/api-error";
import type { Caller } from "../../automation/auth";
import { audienceOf, maySeeOperation, maySeeTenant, requireAdmin, TenantAccess } from "../../automation/tenant-access";
import type { OperationRecord, TenantRecord } from "../../automation/records/types";

const owner: Caller = { sub: "alice", email: "alice@example.com", isAdmin: false };
const stranger: Caller = { sub: "bob", email: "bob@example.com", isAdmin: false };
const admin: Caller = { sub: "root", email: "root@example.com", isAdmin: true };

function tenant(state: TenantRecord["state"]): TenantRecord {
  const at = "2026-12-01T00:00:00.000Z";
  return { id: "acme", ownerId: "alice", adminEmail: "alice@example.com", plan: "starter", odooVersion: "17.0", suspended: false, state, createdAt: at, updatedAt: at, lastOperationId: "op_1" };
}

const op: OperationRecord = { id: "op_1", kind: "create", tenantId: "acme", ownerId: "alice", requestedBy: "alice", status: "queued", createdAt: "2026-12-01T00:00:00.000Z", attempts: 0 };

async function statusOf(work: Promise<unknown>): Promise<number | "ok"> {
  try {
    await work;
    return "ok";
  } catch (err) {
    if (err instanceof ApiError) return err.status;
    throw err;
  }
}

describe("TenantAccess: one owner/visibility rule for tenants, backups, uploads and operations", () => {
  it("the owner and administrators see a tenant in every state but deleted; anyone else never", () => {
    for (const state of ["pending", "active", "failed"] as const) {
      expect(maySeeTenant(owner, tenant(state)), state).to.equal(true);
      expect(maySeeTenant(admin, tenant(state)), state).to.equal(true);
      expect(maySeeTenant(stranger, tenant(state)), state).to.equal(false);
    }
    for (const who of [owner, admin, stranger]) expect(maySeeTenant(who, tenant("retired")), who.sub).to.equal(false);
  });

  it("what is the owner's alone (the Odoo password) is hidden from administrators too", () => {
    expect(maySeeTenant(owner, tenant("active"), true)).to.equal(true);
    expect(maySeeTenant(admin, tenant("active"), true)).to.equal(false);
    expect(maySeeTenant(stranger, tenant("active"), true)).to.equal(false);
  });

  it("an operation is its owner's and administrators'", () => {
    expect([owner, admin, stranger].map((who) => maySeeOperation(who, op))).to.deep.equal([true, true, false]);
  });

  it("administrators read raw details, everyone else customer words; admin routes refuse others with 403", () => {
    expect([owner, admin].map(audienceOf)).to.deep.equal(["customer", "admin"]);
    expect(() => requireAdmin(admin)).not.to.throw();
    expect(() => requireAdmin(owner)).to.throw(ApiError).with.property("status", 403);
  });

  describe("by id (the records' own answer)", () => {
    const tenants = new Map<string, TenantRecord>([["acme", tenant("active")], ["young", { ...tenant("pending"), id: "young" }], ["gone", { ...tenant("retired"), id: "gone" }]]);
    const access = new TenantAccess({
      tenant: async (id: string) => tenants.get(id),
      operation: async (id: string) => (id === op.id ? op : undefined),
    });

    it("another user's tenant answers exactly as a missing one: 404 with the same words", async () => {
      const theirs = await access.tenant(stranger, "acme").catch((err: ApiError) => err);
      const missing = await access.tenant(stranger, "nosuch").catch((err: ApiError) => err);
      expect(theirs).to.be.instanceOf(ApiError);
      expect((theirs as ApiError).body()).to.deep.equal({ error: { code: "not_found", message: 'tenant "acme" not found' } });
      expect((missing as ApiError).status).to.equal(404);
      expect(await statusOf(access.tenant(owner, "gone"))).to.equal(404);
      expect((await access.tenant(admin, "acme")).id).to.equal("acme");
      expect(await statusOf(access.tenant(admin, "acme", { ownerOnly: true }))).to.equal(404);
    });

    it("a data route (backups, uploads) needs the tenant created: 409 with the caller's words, 404 still first", async () => {
      const refused = await access.created(owner, "young", "no backups yet").catch((err: ApiError) => err);
      expect((refused as ApiError).body()).to.deep.equal({ error: { code: "not_ready", message: "no backups yet" } });
      expect(await statusOf(access.created(stranger, "young", "no backups yet"))).to.equal(404);
      expect(await statusOf(access.created(owner, "acme", "no backups yet"))).to.equal("ok");
    });

    it("operations: 404 to anyone but the owner and administrators", async () => {
      expect(await statusOf(access.operation(stranger, "op_1"))).to.equal(404);
      expect(await statusOf(access.operation(owner, "op_missing"))).to.equal(404);
      expect((await access.operation(admin, "op_1")).id).to.equal("op_1");
    });
  });
});

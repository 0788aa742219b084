/**
 * Status and the admin overview with hundreds of self-service tenants stay fast: they are
 * answered from the records (the URL each stack last reported is kept there) and one cluster
 * observation, never by opening a stack. 400 tenants are recorded directly in the database
 * (their stacks would take the engine minutes to create); the test then checks the answers,
 * their time, and that the engine's backend holds no stack at all.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { expect } from "chai";
import { EmptyClusterAdmin, ObservedCluster } from "../support/observed-cluster";
import { engineLocation, Harness } from "../support/signup-harness";

const COUNT = 400;

describe("hundreds of tenants: status and admin overview from the records (real server)", function () {
  this.timeout(180_000);
  let h: Harness;
  const cluster = new ObservedCluster();

  before(async () => {
    h = await Harness.start({ cluster, admin: new EmptyClusterAdmin() });
    h.auth.admins.add("root@example.com");
    // Owners of 2 tenants each, applied, with the URL their stack reported.
    await h.app.records.transaction(async (client) => {
      await client.query(
        `insert into odoo_saas.tenants (id, owner_id, admin_email, plan, odoo_version, suspended, state, url, created_at, updated_at, last_operation_id)
         select 'shop-' || n, 'owner-' || (n / 2), 'owner' || (n / 2) || '@example.com', 'starter', '18.0', n % 5 = 0, 'active',
                'https://shop-' || n || '.custom.example', now() - (n || ' seconds')::interval, now(), 'op_seed' || n
         from generate_series(1, $1::int) n`,
        [COUNT],
      );
      await client.query(
        `insert into odoo_saas.operations (id, kind, tenant_id, owner_id, requested_by, status, created_at, started_at, finished_at, attempts)
         select 'op_seed' || n, 'create', 'shop-' || n, 'owner-' || (n / 2), 'owner-' || (n / 2), 'succeeded', now(), now(), now(), 1
         from generate_series(1, $1::int) n`,
        [COUNT],
      );
    });
    for (let n = 1; n <= COUNT; n += 3) cluster.ready.add(`shop-${n}`);
  });
  after(async () => h.close());

  it(`answers the admin overview of ${COUNT} tenants in well under a second, with each one's status and recorded URL`, async () => {
    const admin = await h.token("root", { admin: true });
    await h.request("GET", "/api/admin/overview", { token: admin }); // warm-up (connections, caches)
    const started = Date.now();
    const res = await h.request<{ tenants: Array<{ id: string; status: string; source: string }> }>("GET", "/api/admin/overview", { token: admin });
    const ms = Date.now() - started;
    expect(res.status, res.text).to.equal(200);
    expect(res.body.tenants.filter((t) => t.source === "self-service")).to.have.length(COUNT);
    const byId = new Map(res.body.tenants.map((t) => [t.id, t.status]));
    expect(byId.get("shop-1")).to.equal("ready");
    expect(byId.get("shop-2")).to.equal("starting");
    expect(byId.get("shop-5")).to.equal("suspended");
    expect(ms, `overview of ${COUNT} tenants took ${ms} ms`).to.be.below(1_000);
    const ids = await h.request<{ ids: string[] }>("GET", "/api/admin/tenant-ids", { token: admin });
    expect(ids.body.ids).to.have.length(COUNT);
  });

  it("answers an owner's list and one tenant's status from the records: the URL the stack reported", async () => {
    const token = await h.auth.sign({ sub: "owner-100", email: "owner100@example.com" });
    const list = await h.request<{ tenants: Array<{ id: string; url: string; status: string }> }>("GET", "/api/tenants", { token });
    expect(list.body.tenants.map((t) => [t.id, t.url])).to.have.deep.members([
      ["shop-200", "https://shop-200.custom.example"], ["shop-201", "https://shop-201.custom.example"],
    ]);
    const one = await h.request<{ url: string; status: string }>("GET", "/api/tenants/shop-201", { token });
    expect(one.body).to.include({ url: "https://shop-201.custom.example", status: "starting" });
  });

  it("opened no stack to answer any of it: the engine's backend holds none", () => {
    const stacks = path.join(engineLocation(h.dir).backendDir, ".pulumi", "stacks");
    const files = fs.existsSync(stacks) ? fs.readdirSync(stacks, { recursive: true }).map(String).filter((f) => f.endsWith(".json")) : [];
    expect(files).to.deep.equal([]);
  });
});

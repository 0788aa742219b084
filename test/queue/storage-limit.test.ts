/**
 * The per-user storage limit through the real TenantService on a real PostgreSQL: deleted
 * instances keep their volumes until purge, so they count; create and delete cannot repeat
 * forever; the refusal is in customer words, says how to free space, and writes nothing;
 * purge (forgetting the record) frees the space; other users are unaffected.
 */
import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { ApiError } from "../../automation/api-error";
import type { Caller } from "../../automation/auth";
import { clusterReaderFromEnv } from "../../automation/cluster-status";
import { jsonLogger, Redactor } from "../../automation/log";
import { FleetPlatform } from "../../automation/fleet-platform";
import { RecordsStore } from "../../automation/records/records-store";
import { heldGigabytes } from "../../automation/storage-limit";
import { TenantService } from "../../automation/tenant-service";
import { TenantViews } from "../../automation/tenant-views";
import { PROJECT_NAME } from "../../tenants/config-source";
import { parseStackConfig } from "../../tenants/validate";
import { RecordingRunner } from "../support/recording-runner";
import { freshDatabase } from "../support/test-postgres";

const quiet = jsonLogger(new Redactor(), { quiet: true });

function caller(sub: string): Caller {
  return { sub, email: `${sub}@example.com`, isAdmin: false };
}

describe("per-user storage limit (deleted instances' kept data counts)", function () {
  let dir: string;
  let records: RecordsStore;
  let service: TenantService;

  const refusal = async (who: Caller, id: string, plan = "starter"): Promise<ApiError> => {
    try {
      await service.create(who, { id, plan });
    } catch (err) {
      if (err instanceof ApiError) return err;
      throw err;
    }
    return expect.fail(`"${id}" was accepted`);
  };
  /** What a completed delete leaves in the records (the queue sets it when the stack update succeeds). */
  const retire = (id: string) => records.pool.query("update odoo_saas.tenants set state = 'retired', retired_at = now() where id = $1", [id]);

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "storage-limit-"));
    // Default plans: starter holds 5Gi + 5Gi = 10 GB, business 20Gi + 20Gi = 42 GB.
    const platform = { baseDomain: "odoo-saas.test", storageClassName: "local-pool", ingress: { awaitLoadBalancer: false } };
    fs.writeFileSync(path.join(dir, "Pulumi.dev.yaml"), yaml.dump({ config: Object.fromEntries(Object.entries(platform).map(([k, v]) => [`${PROJECT_NAME}:${k}`, v])) }));
    records = await RecordsStore.open(await freshDatabase("storage"));
    const fleet = new FleetPlatform(path.join(dir, "Pulumi.dev.yaml"), quiet);
    service = new TenantService({
      records, platform: fleet, views: new TenantViews(records, fleet, clusterReaderFromEnv("none")), runner: new RecordingRunner(),
      tenantLimit: 10, storageLimitGb: 30, log: quiet,
    });
  });
  after(async () => {
    await records?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("records each signup's plan storage and refuses the one past the limit, writing nothing", async () => {
    const alice = caller("alice");
    for (const id of ["al-one", "al-two", "al-three"]) await service.create(alice, { id, plan: "starter" });
    expect((await records.tenant("al-one"))?.storageBytes).to.equal(10 * 2 ** 30);
    const err = await refusal(alice, "al-four");
    expect(err.status).to.equal(403);
    expect(err.code).to.equal("storage_limit");
    expect(err.message).to.equal("the Starter plan needs 10 GB of storage, but your instances already hold 30 GB of the 30 GB one account may keep. "
      + "Choose a smaller plan, or delete an instance you no longer need and ask support to permanently remove its data");
    expect(await records.tenant("al-four")).to.equal(undefined);
    const ops = await records.pool.query("select 1 from odoo_saas.operations where tenant_id = 'al-four'");
    expect(ops.rowCount).to.equal(0);
    expect(await service.usage(alice)).to.deep.equal({ used: 3, max: 10, storage: { usedGb: 30, keptGb: 0, maxGb: 30 } });
  });

  it("counts deleted instances until purge: create and delete cannot repeat forever", async () => {
    const bob = caller("bob");
    const accepted: string[] = [];
    for (let round = 1; round <= 10; round++) {
      const id = `bob-${round}`;
      try {
        await service.create(bob, { id, plan: "starter" });
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
        expect(err.code).to.equal("storage_limit");
        expect(err.message).to.equal("the Starter plan needs 10 GB of storage, but your instances already hold 30 GB of the 30 GB one account may keep, "
          + "30 GB of it by instances you deleted: their data is kept until it is permanently removed. "
          + "Ask support to permanently remove a deleted instance you no longer need to free its space, or choose a smaller plan");
        break;
      }
      accepted.push(id);
      await retire(id);
    }
    expect(accepted).to.deep.equal(["bob-1", "bob-2", "bob-3"]);
    // The instance count is not what refused: bob has no live instance.
    expect(await records.ownedCount("bob")).to.equal(0);
    expect(await service.usage(bob)).to.deep.include({ used: 0, storage: { usedGb: 30, keptGb: 30, maxGb: 30 } });
    // Purge forgets one: its space is free again.
    expect(await records.forgetRetired("bob-1")).to.equal(true);
    await service.create(bob, { id: "bob-again", plan: "starter" });
  });

  it("a larger plan is refused where a smaller one fits; other users are unaffected", async () => {
    const carol = caller("carol");
    await service.create(carol, { id: "carol-one", plan: "starter" });
    const err = await refusal(carol, "carol-big", "business");
    expect(err.message).to.match(/^the Business plan needs 42 GB of storage, but your instances already hold 10 GB of the 30 GB/);
    await service.create(carol, { id: "carol-two", plan: "starter" });
    // Alice is at her limit; carol's and bob's signups changed nothing of hers.
    expect((await service.usage(caller("alice"))).storage).to.deep.equal({ usedGb: 30, keptGb: 0, maxGb: 30 });
  });

  it("a failed create holds nothing (it was rolled back); its owner may try the name again", async () => {
    const dave = caller("dave");
    for (const id of ["dave-1", "dave-2", "dave-3"]) await service.create(dave, { id, plan: "starter" });
    await records.pool.query("update odoo_saas.tenants set state = 'failed' where id = 'dave-3'");
    // Retrying dave-3 replaces its failed record, which is not counted twice.
    await service.create(dave, { id: "dave-3", plan: "starter" });
    expect((await service.usage(dave)).storage?.usedGb).to.equal(30);
  });

  it("counts an older record without a recorded size at its plan's size, and a withdrawn plan as the largest", () => {
    const parsed = parseStackConfig({ baseDomain: "odoo-saas.test", storageClassName: "x", tenants: [] });
    if (!parsed.ok) return expect.fail("fixture config invalid");
    const { plans } = parsed.config;
    expect(heldGigabytes({ plan: "starter" }, plans)).to.equal(10);
    expect(heldGigabytes({ plan: "starter", storageBytes: 3e9 }, plans)).to.equal(3);
    expect(heldGigabytes({ plan: "withdrawn" }, plans)).to.equal(42);
  });
});

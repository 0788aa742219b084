/**
 * Owner uploads in PostgreSQL (records/upload-records.ts), from two pools as two server
 * processes would use them: at most one unfinished upload per instance and `perUser` per user
 * under concurrent admissions; status read by either process; an outcome written once; a dead
 * process's unfinished uploads taken over by exactly one live process, and only once stale.
 */
import { expect } from "chai";
import { randomBytes } from "node:crypto";
import { RecordsStore } from "../../automation/records/records-store";
import { UploadRecords, type UploadRecord } from "../../automation/records/upload-records";
import { freshDatabase } from "../support/test-postgres";

// Uploads of one instance follow each other (one unfinished at a time), so their start times
// differ; a loop here can start two in one millisecond, whose order would then be a tie.
let lastStart = 0;

function upload(tenant: string, requestedBy: string): UploadRecord {
  lastStart = Math.max(Date.now(), lastStart + 1);
  const at = new Date(lastStart).toISOString();
  return {
    id: `up_${randomBytes(9).toString("base64url")}`, tenant, requestedBy, state: "receiving", phase: "receiving",
    phases: [{ phase: "receiving", at }], receivedBytes: 0, startedAt: at, finishedAt: null,
  };
}

describe("upload records in PostgreSQL (two processes)", function () {
  let a: RecordsStore;
  let b: RecordsStore;
  let one: UploadRecords;
  let two: UploadRecords;

  before(async () => {
    const url = await freshDatabase("uploads");
    [a, b] = await Promise.all([RecordsStore.open(url), RecordsStore.open(url)]);
    one = new UploadRecords(a, "node-one");
    two = new UploadRecords(b, "node-two");
  });
  after(async () => {
    await a?.close();
    await b?.close();
  });

  it("admits one unfinished upload per instance and `perUser` per user, under 20 concurrent admissions from two processes", async () => {
    // 10 to one instance (by two users), 10 by carol to ten instances of her own, at once
    const attempts = [
      ...Array.from({ length: 10 }, (_, i) => ({ records: i % 2 ? one : two, up: upload("shared-shop", i % 2 ? "alice" : "bob") })),
      ...Array.from({ length: 10 }, (_, i) => ({ records: i % 2 ? one : two, up: upload(`carol-${i}`, "carol") })),
    ];
    const verdicts = await Promise.all(attempts.map(({ records, up }) => records.admit(up, 3, 5)));
    const shared = verdicts.slice(0, 10);
    expect(shared.filter((v) => v === "admitted")).to.have.length(1);
    expect(shared.filter((v) => v === "instance_busy")).to.have.length(9);
    const carol = verdicts.slice(10);
    expect(carol.filter((v) => v === "admitted")).to.have.length(3);
    expect(carol.filter((v) => v === "user_busy")).to.have.length(7);
    // once one is finished, the next is admitted
    const admitted = attempts.slice(10).find((_, i) => carol[i] === "admitted")?.up as UploadRecord;
    expect(await two.finish(admitted.id, "refused", { code: "not_a_zip", message: "no" })).to.equal(true);
    expect(await one.admit(upload("carol-10", "carol"), 3, 5)).to.equal("admitted");
    expect(await one.admit(upload("carol-11", "carol"), 3, 5)).to.equal("user_busy");
  });

  it("is read by either process, phases in order; an outcome is written once and never changed", async () => {
    const up = upload("dana-shop", "dana");
    expect(await one.admit(up, 2, 5)).to.equal("admitted");
    await one.received(up.id, 12345);
    await one.phase(up.id, "checking-upload", "checking");
    await one.phase(up.id, "starting", "restoring");
    const seen = await two.get("dana-shop", up.id);
    expect(seen).to.include({ state: "restoring", phase: "starting", receivedBytes: 12345, finishedAt: null });
    expect(seen?.phases.map((p) => p.phase)).to.deep.equal(["receiving", "checking-upload", "starting"]);
    expect(await two.get("other-shop", up.id)).to.equal(undefined);
    expect(await one.finish(up.id, "restored")).to.equal(true);
    expect(await two.finish(up.id, "failed", { message: "late" })).to.equal(false);
    await one.phase(up.id, "done");
    const final = await two.get("dana-shop", up.id);
    expect(final).to.include({ state: "restored", phase: "starting" });
    expect(final?.finishedAt).to.be.a("string");
    expect(final?.message).to.equal(undefined);
  });

  it("keeps the newest few finished uploads per instance", async () => {
    for (let i = 0; i < 7; i++) {
      const up = upload("erin-shop", "erin");
      expect(await one.admit(up, 2, 3)).to.equal("admitted");
      await one.finish(up.id, "refused", { code: "not_a_zip", message: `try ${i}` });
    }
    const list = await two.list("erin-shop", 10);
    expect(list.length).to.be.at.most(4);
    expect(list[0]?.message).to.equal("try 6");
  });

  it("hands a dead process's unfinished uploads to exactly one live process, once they are stale, never a live one's", async () => {
    const dead = new UploadRecords(a, "node-dead");
    const orphan = upload("fred-shop", "fred");
    const live = upload("gina-shop", "gina");
    expect(await dead.admit(orphan, 2, 5)).to.equal("admitted");
    expect(await one.admit(live, 2, 5)).to.equal("admitted");
    expect(await two.claimOrphans(60_000)).to.deep.equal([]);
    await a.pool.query("update odoo_saas.uploads set heartbeat_at = now() - interval '10 minutes' where id = any($1::text[])", [[orphan.id, live.id]]);
    await one.heartbeat();
    const [x, y] = await Promise.all([one.claimOrphans(60_000), two.claimOrphans(60_000)]);
    const claimed = [...x, ...y];
    expect(claimed.map((u) => u.id)).to.deep.equal([orphan.id]);
    expect(await one.claimOrphans(60_000)).to.deep.equal([]);
    expect(await two.claimOrphans(60_000)).to.deep.equal([]);
  });
});

import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { Readable } from "node:stream";
import { formatBackupName, BackupKind } from "../../backup/backup-name";
import { listBackups, toListings } from "../../backup/list-backups";
import { planRetention, pruneBackups } from "../../backup/retention";
import { PvcBackupStore } from "../../backup/store/pvc-store";
import { runCli, tempDir } from "./helpers";

const HOUR = 3600_000;
const NOW = new Date("2024-06-30T12:00:00Z");

async function addBackup(store: PvcBackupStore, hoursAgo: number, kind: BackupKind = "scheduled"): Promise<string> {
  const name = formatBackupName(store.tenant, new Date(NOW.getTime() - hoursAgo * HOUR), kind);
  await store.put(name, Readable.from([Buffer.from(`archive ${name}`)]));
  return name;
}

/** A leftover of a backup that died: `<name>.partial`, last written `hoursAgo`. */
function addPartial(store: PvcBackupStore, hoursAgo: number): string {
  const name = formatBackupName(store.tenant, new Date(NOW.getTime() - hoursAgo * HOUR), "scheduled");
  const file = `${store.localPath(name)}.partial`;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, "half an archive");
  const when = new Date(NOW.getTime() - hoursAgo * HOUR);
  fs.utimesSync(file, when, when);
  return name;
}

function files(store: PvcBackupStore): string[] {
  return fs.readdirSync(store.dir).sort();
}

describe("retention (per tenant, PVC store)", function () {
  this.timeout(60_000);
  let base: string;
  beforeEach(() => {
    base = tempDir("retention");
  });
  afterEach(() => fs.rmSync(base, { recursive: true, force: true }));

  it("keeps the rule's backups of one tenant and never touches another's", async () => {
    const alpha = new PvcBackupStore(base, "alpha");
    const beta = new PvcBackupStore(base, "beta");
    const alphaNames: string[] = []; // one a day at 11:00, newest first; days 0, 4 and 8 on-demand
    for (let i = 0; i < 12; i++) alphaNames.push(await addBackup(alpha, 24 * i + 1, i % 4 === 0 ? "on-demand" : "scheduled"));
    for (let i = 0; i < 9; i++) await addBackup(beta, 24 * i + 2);
    const oldPartial = addPartial(alpha, 72); // a crashed backup three days ago
    const youngPartial = addPartial(alpha, 0.5); // may still be running
    fs.writeFileSync(path.join(alpha.dir, "notes.txt"), "not ours"); // foreign files are never removed
    fs.writeFileSync(path.join(alpha.dir, "alpha-weird.zip"), "not ours either");
    const betaBefore = files(beta);

    const rule = { daily: 4, weekly: 0, monthly: 0, onDemand: 2 };
    const plan = await pruneBackups(alpha, { ...rule, incompleteGraceMs: 24 * HOUR }, NOW, () => undefined);

    // Scheduled days 1, 2, 3, 5 (the 4 newest days with one); on-demand 0 and 4.
    const kept = [0, 1, 2, 3, 4, 5].map((i) => alphaNames[i]!);
    const removed = [6, 7, 8, 9, 10, 11].map((i) => alphaNames[i]!);
    expect(plan.remove.map((l) => `${l.name}:${l.status}`).sort()).to.deep.equal(
      [...removed.map((n) => `${n}:complete`), `${oldPartial}:incomplete`].sort(),
    );
    expect(files(alpha)).to.deep.equal([...kept, `${youngPartial}.partial`, "alpha-weird.zip", "notes.txt"].sort());
    expect(files(beta)).to.deep.equal(betaBefore);
    expect(betaBefore).to.have.length(9);
  });

  it("keeps one per day, per ISO week and per month: the newest of each", async () => {
    const alpha = new PvcBackupStore(base, "alpha");
    const at = async (iso: string, kind: BackupKind = "scheduled"): Promise<string> => {
      const name = formatBackupName("alpha", new Date(iso), kind);
      await alpha.put(name, Readable.from([Buffer.from(name)]));
      return name;
    };
    const sunLate = await at("2024-06-30T23:00:00Z"); // Sunday: ISO week 26
    const sunEarly = await at("2024-06-30T01:00:00Z"); // same day: not the newest of it
    const sat = await at("2024-06-29T02:00:00Z");
    const prevSun = await at("2024-06-23T02:00:00Z"); // ISO week 25
    const prevMon = await at("2024-06-17T02:00:00Z"); // week 25 too (Monday), older
    const may = await at("2024-05-31T02:00:00Z");
    const april = await at("2024-04-15T02:00:00Z");
    const odOld = await at("2024-06-01T00:00:00Z", "on-demand");
    const rule = { daily: 2, weekly: 2, monthly: 2, onDemand: 0 };
    const plan = await pruneBackups(alpha, { ...rule, incompleteGraceMs: 0 }, NOW, () => undefined);
    // daily: Jun 30 and 29; weekly: weeks 26 (sunLate) and 25 (prevSun); monthly: June (sunLate), May.
    expect(plan.keep.map((l) => l.name)).to.deep.equal([sunLate, sat, prevSun, may]);
    expect(plan.remove.map((l) => l.name)).to.deep.equal([sunEarly, prevMon, odOld, april]);
  });

  it("never deletes the newest complete backup, even when no tier would keep it, nor with a newer incomplete one", async () => {
    const alpha = new PvcBackupStore(base, "alpha");
    const older = await addBackup(alpha, 50);
    const newestComplete = await addBackup(alpha, 26, "on-demand"); // onDemand 0: only the guarantee keeps it
    const newerPartial = addPartial(alpha, 25); // newer than every complete one, past the grace period

    const plan = await pruneBackups(alpha, { daily: 1, weekly: 0, monthly: 0, onDemand: 0, incompleteGraceMs: HOUR }, NOW, () => undefined);
    expect(plan.keep.map((l) => l.name)).to.deep.equal([newestComplete, older]);
    expect(plan.remove.map((l) => l.name)).to.deep.equal([newerPartial]);
    expect(files(alpha)).to.deep.equal([newestComplete, older].sort());
  });

  it("planRetention refuses a rule with no scheduled tier or a bad count, and keeps everything young when nothing is complete", () => {
    const listings = toListings("t", [
      { name: "t-20240630T110000Z-scheduled.zip", status: "incomplete", size: 5, modified: new Date(NOW.getTime() - HOUR) },
    ]);
    expect(() => planRetention(listings, { daily: 0, weekly: 0, monthly: 0, onDemand: 5, incompleteGraceMs: 0 }, NOW)).to.throw(/daily, weekly and monthly are all 0/);
    expect(() => planRetention(listings, { daily: -1, weekly: 1, monthly: 0, onDemand: 5, incompleteGraceMs: 0 }, NOW)).to.throw(/daily must be a whole number/);
    expect(() => planRetention(listings, { daily: 1.5, weekly: 1, monthly: 0, onDemand: 5, incompleteGraceMs: 0 }, NOW)).to.throw(/daily must be a whole number/);
    expect(planRetention(listings, { daily: 1, weekly: 0, monthly: 0, onDemand: 0, incompleteGraceMs: 2 * HOUR }, NOW).remove).to.deep.equal([]);
  });

  it("lists newest first with status, size and created time", async () => {
    const alpha = new PvcBackupStore(base, "alpha");
    const a = await addBackup(alpha, 48);
    const b = await addBackup(alpha, 2, "on-demand");
    const p = addPartial(alpha, 1);
    const listings = await listBackups(alpha);
    expect(listings.map((l) => [l.name, l.status, l.kind])).to.deep.equal([
      [p, "incomplete", "scheduled"],
      [b, "complete", "on-demand"],
      [a, "complete", "scheduled"],
    ]);
    expect(listings[1]!.created.toISOString()).to.equal(new Date(NOW.getTime() - 2 * HOUR).toISOString().replace(/\.\d{3}Z/, ".000Z"));
    expect(listings[1]!.size).to.equal(Buffer.byteLength(`archive ${b}`));
  });

  it("the CLI's prune applies BACKUP_RETENTION_* to TENANT_ID's folder only, and refuses BACKUP_KEEP", async () => {
    const alpha = new PvcBackupStore(base, "alpha");
    const beta = new PvcBackupStore(base, "beta");
    const names: string[] = [];
    for (let i = 0; i < 5; i++) names.push(await addBackup(alpha, 24 * i + 1));
    for (let i = 0; i < 5; i++) await addBackup(beta, 24 * i + 1);
    const rule = { BACKUP_RETENTION_DAILY: "2", BACKUP_RETENTION_WEEKLY: "0", BACKUP_RETENTION_MONTHLY: "0", BACKUP_RETENTION_ON_DEMAND: "0" };
    const refused = await runCli(["prune"], { TENANT_ID: "alpha", BACKUP_DIR: base, ...rule, BACKUP_KEEP: "2" });
    expect(refused.status).to.equal(2);
    expect(refused.stderr).to.match(/BACKUP_KEEP is no longer read: retention is BACKUP_RETENTION_DAILY/);
    expect(files(alpha)).to.have.length(5);

    const result = await runCli(["prune"], { TENANT_ID: "alpha", BACKUP_DIR: base, ...rule });
    expect(result.status, result.stderr).to.equal(0);
    expect(result.stderr).to.contain("daily 2, weekly 0, monthly 0, on-demand 0");
    expect(files(alpha)).to.deep.equal(names.slice(0, 2).sort());
    expect(files(beta)).to.have.length(5);
    const bad = await runCli(["prune"], { TENANT_ID: "alpha", BACKUP_DIR: base, ...rule, BACKUP_RETENTION_DAILY: "0" });
    expect(bad.status).to.equal(2);
    expect(bad.stderr).to.match(/BACKUP_RETENTION_DAILY, BACKUP_RETENTION_WEEKLY and BACKUP_RETENTION_MONTHLY are all 0/);
  });
});

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

  it("keeps exactly the newest N complete backups of one tenant and never touches another's", async () => {
    const alpha = new PvcBackupStore(base, "alpha");
    const beta = new PvcBackupStore(base, "beta");
    const alphaNames: string[] = [];
    for (let i = 0; i < 12; i++) alphaNames.push(await addBackup(alpha, 24 * i + 1, i % 4 === 0 ? "on-demand" : "scheduled"));
    for (let i = 0; i < 9; i++) await addBackup(beta, 24 * i + 2);
    const oldPartial = addPartial(alpha, 72); // a crashed backup three days ago
    const youngPartial = addPartial(alpha, 0.5); // may still be running
    fs.writeFileSync(path.join(alpha.dir, "notes.txt"), "not ours"); // foreign files are never removed
    fs.writeFileSync(path.join(alpha.dir, "alpha-weird.zip"), "not ours either");
    const betaBefore = files(beta);

    const plan = await pruneBackups(alpha, { keep: 4, incompleteGraceMs: 24 * HOUR }, NOW, () => undefined);

    expect(plan.remove.map((l) => `${l.name}:${l.status}`).sort()).to.deep.equal(
      [...alphaNames.slice(4).map((n) => `${n}:complete`), `${oldPartial}:incomplete`].sort(),
    );
    expect(files(alpha)).to.deep.equal([...alphaNames.slice(0, 4), `${youngPartial}.partial`, "alpha-weird.zip", "notes.txt"].sort());
    expect(files(beta)).to.deep.equal(betaBefore);
    expect(betaBefore).to.have.length(9);
  });

  it("never deletes the newest complete backup, even with keep=1 and a newer incomplete one", async () => {
    const alpha = new PvcBackupStore(base, "alpha");
    const older = await addBackup(alpha, 50);
    const newestComplete = await addBackup(alpha, 26);
    const newerPartial = addPartial(alpha, 25); // newer than every complete one, past the grace period

    const plan = await pruneBackups(alpha, { keep: 1, incompleteGraceMs: HOUR }, NOW, () => undefined);
    expect(plan.keep.map((l) => l.name)).to.deep.equal([newestComplete]);
    expect(plan.remove.map((l) => l.name).sort()).to.deep.equal([older, newerPartial].sort());
    expect(files(alpha)).to.deep.equal([newestComplete]);
  });

  it("planRetention refuses keep < 1 and keeps everything young when nothing is complete", () => {
    const listings = toListings("t", [
      { name: "t-20240630T110000Z-scheduled.zip", status: "incomplete", size: 5, modified: new Date(NOW.getTime() - HOUR) },
    ]);
    expect(() => planRetention(listings, { keep: 0, incompleteGraceMs: 0 }, NOW)).to.throw(/at least 1/);
    expect(planRetention(listings, { keep: 1, incompleteGraceMs: 2 * HOUR }, NOW).remove).to.deep.equal([]);
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

  it("the CLI's prune applies BACKUP_KEEP to TENANT_ID's folder only", async () => {
    const alpha = new PvcBackupStore(base, "alpha");
    const beta = new PvcBackupStore(base, "beta");
    const names: string[] = [];
    for (let i = 0; i < 5; i++) names.push(await addBackup(alpha, i + 1));
    for (let i = 0; i < 5; i++) await addBackup(beta, i + 1);
    const result = await runCli(["prune"], { TENANT_ID: "alpha", BACKUP_DIR: base, BACKUP_KEEP: "2" });
    expect(result.status, result.stderr).to.equal(0);
    expect(files(alpha)).to.deep.equal(names.slice(0, 2).sort());
    expect(files(beta)).to.have.length(5);
    const bad = await runCli(["prune"], { TENANT_ID: "alpha", BACKUP_DIR: base, BACKUP_KEEP: "0" });
    expect(bad.status).to.equal(2);
    expect(bad.stderr).to.match(/BACKUP_KEEP must be a whole number from 1/);
  });
});

// Property tests of the retention rule (backup/retention.ts) over generated backup histories:
// about 18 months of scheduled and on-demand backups, some unfinished, and random clocks. The
// expected kept set comes from a separate, deliberately naive reference (labels as strings, ISO
// weeks by the Thursday rule, brute force over the distinct days, weeks and months), never from
// the code under test. Seeds are fixed; a failure names its seed, and RETENTION_SEED=<n>
// replays that one case alone.
import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { BackupKind, formatBackupName } from "../../backup/backup-name";
import { BackupListing } from "../../backup/list-backups";
import { planRetention, pruneBackups, RetentionPolicy } from "../../backup/retention";
import { PvcBackupStore } from "../../backup/store/pvc-store";
import { tempDir } from "./helpers";

const DAY = 86_400_000;
const HOUR = 3_600_000;
const CASES = 400;
const STORE_CASES = 60;

// ---- seeded generator ----------------------------------------------------------------------

/** mulberry32: small, fast, good enough to spread test cases; deterministic per seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Gen {
  readonly next: () => number;
  constructor(readonly seed: number) {
    this.next = prng(seed);
  }
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)]!;
  }
}

interface Case {
  seed: number;
  listings: BackupListing[];
  policy: RetentionPolicy;
  now: Date;
}

/** Whole seconds, as backup names carry them. */
function second(ms: number): Date {
  return new Date(Math.floor(ms / 1000) * 1000);
}

function genCreated(g: Gen, start: number, span: number, previous: readonly Date[]): Date {
  const mode = g.int(0, 9);
  if (mode <= 4 || previous.length === 0) return second(start + g.next() * span); // anywhere
  const base = g.pick(previous).getTime();
  const midnight = Math.floor(base / DAY) * DAY;
  switch (mode) {
    case 5: return second(midnight + g.int(0, 86_399) * 1000); // same UTC day as another
    case 6: return second(midnight + g.pick([-1, 0, 1, 2]) * DAY + g.pick([0, 1, 86_398, 86_399]) * 1000); // around midnight
    case 7: return second(base + g.int(-14, 14) * DAY); // same time of day, nearby days (week edges)
    case 8: return second(Date.UTC(new Date(base).getUTCFullYear(), new Date(base).getUTCMonth() + g.int(0, 1), 1) - g.pick([0, 1, 2, 3601]) * 1000); // month edges
    default: return second(base + g.int(1, 3600) * 1000); // a few minutes or an hour later
  }
}

function genRule(g: Gen): RetentionPolicy {
  for (;;) {
    const big = g.chance(0.05);
    const rule = {
      daily: big ? 1000 : g.int(0, 10),
      weekly: g.int(0, 6),
      monthly: g.chance(0.05) ? 1000 : g.int(0, 5),
      onDemand: g.int(0, 6),
      incompleteGraceMs: g.pick([0, HOUR, 24 * HOUR, g.int(0, 72) * HOUR]),
    };
    if (rule.daily + rule.weekly + rule.monthly > 0) return rule;
  }
}

function genCase(seed: number, tenant = "alpha"): Case {
  const g = new Gen(seed);
  // About 18 months, starting anywhere from 2019 to 2027 (leap years, 53-week ISO years).
  const start = Date.UTC(g.int(2019, 2027), g.int(0, 11), g.int(1, 28));
  const span = 548 * DAY;
  // Any clock: before, inside or long after the history (skewed clocks happen).
  const now = second(start + g.int(-30, 600) * DAY + g.int(0, 86_399) * 1000);
  const policy = genRule(g);
  const count = g.pick([0, 1, 2, g.int(3, 20), g.int(20, 120)]);
  const created: Date[] = [];
  const seen = new Set<string>();
  const listings: BackupListing[] = [];
  for (let i = 0; i < count; i++) {
    const when = genCreated(g, start, span, created);
    created.push(when);
    const kind: BackupKind = g.chance(0.7) ? "scheduled" : "on-demand";
    const status = g.chance(0.15) ? "incomplete" : "complete";
    const name = formatBackupName(tenant, when, kind);
    if (seen.has(`${name}:${status}`)) continue; // one object per name and status, as in a store
    seen.add(`${name}:${status}`);
    const modified =
      status === "complete" ? new Date(when.getTime() + g.int(0, 2 * HOUR))
      : g.chance(0.3) ? new Date(now.getTime() - policy.incompleteGraceMs + g.pick([-1000, 0, 1000])) // on the grace edge
      : new Date(when.getTime() + g.int(0, 72 * HOUR));
    listings.push({ name, kind, created: when, size: g.int(1, 1 << 20), status, modified: second(modified.getTime()) });
  }
  // The store lists in no particular order; the planner must not depend on it.
  for (let i = listings.length - 1; i > 0; i--) {
    const j = g.int(0, i);
    [listings[i], listings[j]] = [listings[j]!, listings[i]!];
  }
  return { seed, listings, policy, now };
}

// ---- independent reference ----------------------------------------------------------------

const dayLabel = (d: Date): string => d.toISOString().slice(0, 10);
const monthLabel = (d: Date): string => d.toISOString().slice(0, 7);

/** ISO 8601 week label by the textbook rule: the week belongs to the year of its Thursday. */
function isoWeekLabel(d: Date): string {
  const t = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
  const weekday = t.getUTCDay() === 0 ? 7 : t.getUTCDay(); // Monday 1 ... Sunday 7
  t.setUTCDate(t.getUTCDate() + 4 - weekday); // that week's Thursday
  const year = t.getUTCFullYear();
  const week = Math.ceil(((t.getTime() - Date.UTC(year, 0, 1)) / DAY + 1) / 7);
  return `${year}-W${String(week).padStart(2, "0")}`;
}

/** A week label as a Sunday-to-Saturday calendar would have it: used only to show the tests can tell. */
function sundayWeekLabel(d: Date): string {
  const t = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
  t.setUTCDate(t.getUTCDate() - t.getUTCDay());
  return dayLabel(t);
}

const key = (l: BackupListing): string => `${l.name}|${l.status}`;

/** Newest by time in the name, then by name: the rule's "newest". */
function newest(ls: readonly BackupListing[]): BackupListing | undefined {
  let best: BackupListing | undefined;
  for (const l of ls) {
    if (!best || l.created.getTime() > best.created.getTime() || (l.created.getTime() === best.created.getTime() && l.name > best.name)) best = l;
  }
  return best;
}

function referenceKept(c: Case, weekLabel: (d: Date) => string = isoWeekLabel): Set<string> {
  const { listings, policy, now } = c;
  const complete = listings.filter((l) => l.status === "complete");
  const scheduled = complete.filter((l) => l.kind === "scheduled");
  const kept = new Set<string>();
  const tier = (label: (d: Date) => string, count: number): void => {
    const labels = [...new Set(scheduled.map((l) => label(l.created)))].sort().reverse().slice(0, count);
    for (const wanted of labels) kept.add(key(newest(scheduled.filter((l) => label(l.created) === wanted))!));
  };
  tier(dayLabel, policy.daily);
  tier(weekLabel, policy.weekly);
  tier(monthLabel, policy.monthly);
  let onDemand = complete.filter((l) => l.kind === "on-demand");
  for (let i = 0; i < policy.onDemand && onDemand.length > 0; i++) {
    const n = newest(onDemand)!;
    kept.add(key(n));
    onDemand = onDemand.filter((l) => l !== n);
  }
  const top = newest(complete);
  if (top) kept.add(key(top));
  for (const l of listings) {
    if (l.status === "incomplete" && now.getTime() - l.modified.getTime() <= policy.incompleteGraceMs) kept.add(key(l));
  }
  return kept;
}

// ---- harness --------------------------------------------------------------------------------

function seeds(base: number, count: number): number[] {
  const only = process.env.RETENTION_SEED;
  if (only !== undefined && only !== "") return [Number(only)];
  return Array.from({ length: count }, (_, i) => base + i);
}

/** Runs one property over many seeds; a failure says which seed to replay. */
function forAll(base: number, count: number, property: (c: Case) => void): void {
  for (const seed of seeds(base, count)) {
    const c = genCase(seed);
    try {
      property(c);
    } catch (err) {
      const e = err as Error;
      e.message = `seed ${seed} (replay: RETENTION_SEED=${seed}): ${e.message}`;
      throw e;
    }
  }
}

const keptKeys = (c: Case, policy: RetentionPolicy = c.policy, now: Date = c.now): string[] =>
  planRetention(c.listings, policy, now).keep.map(key).sort();

describe("retention rule: properties over generated histories", function () {
  this.timeout(120_000);

  it("the reference's ISO weeks are right at the year edges", () => {
    const cases: [string, string][] = [
      ["2021-01-03", "2020-W53"], ["2021-01-04", "2021-W01"], ["2024-12-29", "2024-W52"], ["2024-12-30", "2025-W01"],
      ["2026-01-01", "2026-W01"], ["2027-01-01", "2026-W53"], ["2027-01-04", "2027-W01"], ["2020-02-29", "2020-W09"],
    ];
    for (const [day, week] of cases) expect(isoWeekLabel(new Date(`${day}T12:00:00Z`)), day).to.equal(week);
  });

  it(`keeps exactly the rule's set, and removes exactly the rest (${CASES} histories)`, () => {
    forAll(1000, CASES, (c) => {
      const plan = planRetention(c.listings, c.policy, c.now);
      expect(plan.keep.map(key).sort()).to.deep.equal([...referenceKept(c)].sort());
      expect([...plan.keep, ...plan.remove].map(key).sort()).to.deep.equal(c.listings.map(key).sort());
    });
  });

  it(`never removes the newest complete backup (${CASES} histories)`, () => {
    forAll(2000, CASES, (c) => {
      const top = newest(c.listings.filter((l) => l.status === "complete"));
      if (top) expect(keptKeys(c)).to.include(key(top));
    });
  });

  it(`is idempotent: applied again to what it kept, it removes nothing (${CASES} histories)`, () => {
    forAll(3000, CASES, (c) => {
      const once = planRetention(c.listings, c.policy, c.now);
      const twice = planRetention(once.keep, c.policy, c.now);
      expect(twice.remove.map(key)).to.deep.equal([]);
    });
  });

  it(`is monotone: raising any count or the grace never removes more (${CASES} histories)`, () => {
    forAll(4000, CASES, (c) => {
      const g = new Gen(c.seed ^ 0x5eed);
      const before = keptKeys(c);
      for (const field of ["daily", "weekly", "monthly", "onDemand", "incompleteGraceMs"] as const) {
        const step = field === "incompleteGraceMs" ? g.int(1, 48) * HOUR : g.int(1, 5);
        const raised = { ...c.policy, [field]: field === "incompleteGraceMs" ? c.policy[field] + step : Math.min(1000, c.policy[field] + step) };
        expect(keptKeys(c, raised), field).to.include.members(before);
      }
    });
  });

  it(`decides complete backups the same whatever the clock (${CASES} histories)`, () => {
    forAll(5000, CASES, (c) => {
      const complete = (keys: string[]): string[] => keys.filter((k) => k.endsWith("|complete"));
      const other = new Date(c.now.getTime() + new Gen(c.seed).int(-400, 400) * DAY);
      expect(complete(keptKeys(c, c.policy, other))).to.deep.equal(complete(keptKeys(c)));
    });
  });

  it("the generated histories can tell a wrong rule from the right one", () => {
    // A test that cannot fail is worth nothing: the generator must produce the cases that tell
    // rules apart (Sunday-based weeks must change some results, several backups on one day and
    // many removals must occur).
    let sundayDiffers = 0;
    let sameDayPairs = 0;
    let removals = 0;
    for (const seed of seeds(1000, CASES)) {
      const c = genCase(seed);
      if ([...referenceKept(c, sundayWeekLabel)].sort().join() !== [...referenceKept(c)].sort().join()) sundayDiffers++;
      const days = c.listings.filter((l) => l.status === "complete" && l.kind === "scheduled").map((l) => dayLabel(l.created));
      if (new Set(days).size < days.length) sameDayPairs++;
      removals += planRetention(c.listings, c.policy, c.now).remove.length;
    }
    if (process.env.RETENTION_SEED) return; // a replay of one seed proves nothing about coverage
    expect(sundayDiffers, "cases where Sunday weeks would change the result").to.be.greaterThan(10);
    expect(sameDayPairs, "cases with two scheduled backups on one day").to.be.greaterThan(50);
    expect(removals, "backups removed over all cases").to.be.greaterThan(1000);
  });

  it(`on a real store, removes exactly the rule's and never another tenant's files (${STORE_CASES} histories)`, async () => {
    for (const seed of seeds(6000, STORE_CASES)) {
      const base = tempDir("retention-prop");
      try {
        const alphaCase = genCase(seed, "alpha");
        const betaCase = genCase(seed + 1_000_000, "beta");
        const alpha = new PvcBackupStore(base, "alpha");
        const beta = new PvcBackupStore(base, "beta");
        for (const [store, c] of [[alpha, alphaCase], [beta, betaCase]] as const) {
          fs.mkdirSync(store.dir, { recursive: true });
          for (const l of c.listings) {
            const file = l.status === "complete" ? store.localPath(l.name) : `${store.localPath(l.name)}.partial`;
            fs.writeFileSync(file, `${l.name} ${l.status}`);
            fs.utimesSync(file, l.modified, l.modified);
          }
        }
        // Foreign files in alpha's folder and a look-alike tenant prefix are never touched.
        fs.writeFileSync(path.join(alpha.dir, "notes.txt"), "not ours");
        fs.writeFileSync(path.join(alpha.dir, "alpha-b-20240101T000000Z-scheduled.zip"), "another shape");
        const snapshot = (dir: string): string[] => fs.readdirSync(dir).sort().map((f) => `${f}=${fs.readFileSync(path.join(dir, f), "utf8")}`);
        const betaBefore = snapshot(beta.dir);

        await pruneBackups(alpha, alphaCase.policy, alphaCase.now, () => undefined);

        const expected = [...referenceKept(alphaCase)].map((k) => {
          const [name, status] = k.split("|") as [string, string];
          return status === "complete" ? name : `${name}.partial`;
        });
        expect(fs.readdirSync(alpha.dir).sort()).to.deep.equal([...expected, "notes.txt", "alpha-b-20240101T000000Z-scheduled.zip"].sort());
        expect(snapshot(beta.dir)).to.deep.equal(betaBefore);
        // Idempotent on the store too.
        const again = await pruneBackups(alpha, alphaCase.policy, alphaCase.now, () => undefined);
        expect(again.remove).to.deep.equal([]);
      } catch (err) {
        const e = err as Error;
        e.message = `seed ${seed} (replay: RETENTION_SEED=${seed}): ${e.message}`;
        throw e;
      } finally {
        fs.rmSync(base, { recursive: true, force: true });
      }
    }
  });
});

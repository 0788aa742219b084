// Retention, per tenant (the store only sees one tenant's prefix, so nothing here can reach
// another tenant's backups). Grandfather-father-son, as Odoo.sh keeps them. The rule, exactly:
//
// Only complete backups made by this tool count ("newest" = latest time in the name, ties by
// name, as `list` orders them; days, weeks and months are UTC, weeks are ISO weeks, Monday to
// Sunday). A complete backup is kept when at least one of these holds:
//   1. it is scheduled and the newest scheduled backup of its UTC day, and that day is one of the
//      `daily` most recent days that have a scheduled backup;
//   2. likewise for its ISO week among the `weekly` most recent weeks that have one;
//   3. likewise for its UTC month among the `monthly` most recent months that have one;
//   4. it is on-demand and among the `onDemand` newest on-demand backups (the safety backup a
//      restore takes first is an on-demand backup, so it counts here);
//   5. it is the newest complete backup of any kind.
// Every other complete backup is removed. "Most recent that have one" rather than "within N days
// of now": a gap in the schedule (a broken CronJob, a stopped cluster) never makes retention
// remove more history, and the clock does not matter to complete backups at all.
//
// An unfinished backup (a `.partial` file or an open multipart upload) counts toward nothing; it
// is kept while it was last written within the grace period (it may still be running) and
// removed after. Names this tool did not make are never listed, so never removed.
import { BackupListing, listBackups, newestFirst } from "./list-backups";
import { LogFn } from "./progress";
import { RetentionRule, retentionRuleProblem } from "./retention-rule";
import { BackupStore } from "./store/backup-store";

export interface RetentionPolicy extends RetentionRule {
  incompleteGraceMs: number;
}

export interface RetentionPlan {
  /** Newest first. */
  keep: BackupListing[];
  /** Newest first. */
  remove: BackupListing[];
}

const DAY_MS = 86_400_000;

/** Whole UTC days since 1970-01-01. */
function utcDay(date: Date): number {
  return Math.floor(date.getTime() / DAY_MS);
}

/** ISO weeks start on Monday; 1970-01-01 was a Thursday, so day + 3 puts each Monday on a multiple of 7. */
function isoWeek(date: Date): number {
  return Math.floor((utcDay(date) + 3) / 7);
}

function utcMonth(date: Date): number {
  return date.getUTCFullYear() * 12 + date.getUTCMonth();
}

/** The first (newest) backup of each of the `count` most recent periods; `sorted` is newest first. */
function newestPerPeriod(sorted: readonly BackupListing[], period: (date: Date) => number, count: number): BackupListing[] {
  const kept: BackupListing[] = [];
  let current: number | undefined;
  for (const listing of sorted) {
    if (kept.length >= count) break;
    const p = period(listing.created);
    if (p !== current) {
      kept.push(listing);
      current = p;
    }
  }
  return kept;
}

/** Pure: decides, from a tenant's listing (any order), what stays and what goes. */
export function planRetention(listings: readonly BackupListing[], policy: RetentionPolicy, now: Date): RetentionPlan {
  const problem = retentionRuleProblem(policy);
  if (problem !== undefined) throw new Error(`invalid retention rule: ${problem}`);
  if (!(policy.incompleteGraceMs >= 0)) throw new Error(`incompleteGraceMs must be >= 0; got ${policy.incompleteGraceMs}`);

  const sorted = [...listings].sort(newestFirst);
  const complete = sorted.filter((l) => l.status === "complete");
  const scheduled = complete.filter((l) => l.kind === "scheduled");
  const kept = new Set<BackupListing>([
    ...newestPerPeriod(scheduled, utcDay, policy.daily),
    ...newestPerPeriod(scheduled, isoWeek, policy.weekly),
    ...newestPerPeriod(scheduled, utcMonth, policy.monthly),
    ...complete.filter((l) => l.kind === "on-demand").slice(0, policy.onDemand),
    ...complete.slice(0, 1),
  ]);

  const plan: RetentionPlan = { keep: [], remove: [] };
  for (const listing of sorted) {
    const stays = listing.status === "complete" ? kept.has(listing) : now.getTime() - listing.modified.getTime() <= policy.incompleteGraceMs;
    (stays ? plan.keep : plan.remove).push(listing);
  }
  return plan;
}

export function describeRule(rule: RetentionRule): string {
  return `daily ${rule.daily}, weekly ${rule.weekly}, monthly ${rule.monthly}, on-demand ${rule.onDemand}`;
}

export async function pruneBackups(store: BackupStore, policy: RetentionPolicy, now: Date, log: LogFn): Promise<RetentionPlan> {
  const plan = planRetention(await listBackups(store), policy, now);
  for (const listing of plan.remove) {
    log(`removing ${listing.status === "complete" ? "old backup" : "unfinished leftover"} ${listing.name}`);
    await store.delete(listing.name, listing.status);
  }
  log(`retention: kept ${plan.keep.length}, removed ${plan.remove.length} (${describeRule(policy)})`);
  return plan;
}

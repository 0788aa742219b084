// Retention, per tenant (the store only sees one tenant): keep the newest `keep` complete backups.
// Leftovers of unfinished backups do not count toward `keep` and go once older than the grace
// period (younger ones may still be running). With keep >= 1 the newest complete backup is
// always kept, whatever else is in the store.
import { BackupListing, listBackups } from "./list-backups";
import { LogFn } from "./progress";
import { BackupStore } from "./store/backup-store";

export interface RetentionPolicy {
  keep: number;
  incompleteGraceMs: number;
}

export interface RetentionPlan {
  keep: BackupListing[];
  remove: BackupListing[];
}

/** Pure: decides, from a listing sorted newest first, what stays and what goes. */
export function planRetention(listings: readonly BackupListing[], policy: RetentionPolicy, now: Date): RetentionPlan {
  if (!Number.isInteger(policy.keep) || policy.keep < 1) throw new Error(`retention must keep at least 1 backup; got ${policy.keep}`);
  const plan: RetentionPlan = { keep: [], remove: [] };
  let completeKept = 0;
  for (const listing of listings) {
    if (listing.status === "complete") {
      if (completeKept < policy.keep) {
        completeKept += 1;
        plan.keep.push(listing);
      } else {
        plan.remove.push(listing);
      }
    } else if (now.getTime() - listing.modified.getTime() > policy.incompleteGraceMs) {
      plan.remove.push(listing);
    } else {
      plan.keep.push(listing);
    }
  }
  return plan;
}

export async function pruneBackups(store: BackupStore, policy: RetentionPolicy, now: Date, log: LogFn): Promise<RetentionPlan> {
  const plan = planRetention(await listBackups(store), policy, now);
  for (const listing of plan.remove) {
    log(`removing ${listing.status === "complete" ? "old backup" : "unfinished leftover"} ${listing.name}`);
    await store.delete(listing.name, listing.status);
  }
  log(`retention: kept ${plan.keep.length}, removed ${plan.remove.length} (keep newest ${policy.keep})`);
  return plan;
}

// The parameters of the grandfather-father-son retention rule, defined once for the stack config
// schema (tenants/schema.ts), the CronJob's environment (components/specs/backup.ts) and the
// backup CLI (backup/config.ts). No imports: the backup image ships backup/ and nothing else of
// the platform. The rule itself is stated and applied in ./retention.ts.

export interface RetentionRule {
  /** Newest scheduled backup of each of the `daily` most recent UTC days that have one. */
  daily: number;
  /** Newest scheduled backup of each of the `weekly` most recent ISO weeks that have one. */
  weekly: number;
  /** Newest scheduled backup of each of the `monthly` most recent UTC months that have one. */
  monthly: number;
  /** Newest `onDemand` on-demand backups (restore safety backups are on-demand ones). */
  onDemand: number;
}

export const RETENTION_FIELDS = ["daily", "weekly", "monthly", "onDemand"] as const satisfies readonly (keyof RetentionRule)[];

/** Odoo.sh's: 7 daily, 4 weekly, 3 monthly; and 5 on-demand. */
export const DEFAULT_RETENTION: Readonly<RetentionRule> = Object.freeze({ daily: 7, weekly: 4, monthly: 3, onDemand: 5 });

/** Upper bound of every field (about three years of dailies): a typo such as 70000 is refused. */
export const RETENTION_MAX = 1000;

/** The backup job's variables, one per field. */
export const RETENTION_ENV: Readonly<Record<keyof RetentionRule, string>> = Object.freeze({
  daily: "BACKUP_RETENTION_DAILY",
  weekly: "BACKUP_RETENTION_WEEKLY",
  monthly: "BACKUP_RETENTION_MONTHLY",
  onDemand: "BACKUP_RETENTION_ON_DEMAND",
});

const RETENTION_FIELD_NAMES: Readonly<Record<keyof RetentionRule, string>> = Object.freeze({ daily: "daily", weekly: "weekly", monthly: "monthly", onDemand: "onDemand" });

export function isRetentionCount(value: number): boolean {
  return Number.isInteger(value) && value >= 0 && value <= RETENTION_MAX;
}

/**
 * Why a rule cannot be used, or undefined. All three scheduled tiers at 0 would remove every
 * scheduled backup but the newest as soon as it is made: almost surely a mistake, so refused.
 */
export function retentionRuleProblem(rule: RetentionRule, names: Readonly<Record<keyof RetentionRule, string>> = RETENTION_FIELD_NAMES): string | undefined {
  for (const field of RETENTION_FIELDS) {
    const value = rule[field];
    if (!isRetentionCount(value)) return `${names[field]} must be a whole number from 0 to ${RETENTION_MAX}; got ${String(value)}`;
  }
  if (rule.daily + rule.weekly + rule.monthly === 0) {
    return `${names.daily}, ${names.weekly} and ${names.monthly} are all 0: every scheduled backup but the newest would be removed as soon as it is made; set at least one above 0`;
  }
  return undefined;
}

/** A tenant's rule: each field it sets, else the platform's. */
export function mergeRetention(base: RetentionRule, override: Partial<Record<keyof RetentionRule, number | undefined>> | undefined): RetentionRule {
  return {
    daily: override?.daily ?? base.daily,
    weekly: override?.weekly ?? base.weekly,
    monthly: override?.monthly ?? base.monthly,
    onDemand: override?.onDemand ?? base.onDemand,
  };
}

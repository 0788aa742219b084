/**
 * The owner's backups, without HTTP: who may see them (tenant-access.ts, the one rule: the owner
 * or an admin; anyone else gets 404, as for every tenant route), the daily limit on "back up now" (recorded durably in the
 * records before the cluster is asked), and names checked by the backup naming rule before
 * any reader sees them. The reading itself is a BackupAccess (backup-access.ts).
 */
import { parseBackupName } from "../backup/backup-name";
import { ApiError, notFound } from "./api-error";
import type { Caller } from "./auth";
import type { BackupAccess, BackupDownload, BackupEntry, DownloadMode } from "./backup-access";
import type { Logger } from "./log";
import type { ServerMetrics } from "./metrics";
import type { RateLimits } from "./rate-limits";
import type { BackupRequests } from "./records/backup-requests";
import type { RecordsStore } from "./records/records-store";
import type { TenantRecord } from "./records/types";
import { TenantAccess } from "./tenant-access";

/** On-demand backups one tenant may request per UTC day, as Odoo.sh allows. */
export const BACKUPS_PER_DAY = 5;

export interface BackupLimitView {
  used: number;
  max: number;
  /** When the count starts again (next 00:00 UTC). */
  resetsAt: string;
}

export interface BackupServiceOptions {
  records: RecordsStore;
  requests: BackupRequests;
  access: BackupAccess;
  log: Logger;
  /** Counts on-demand requests by outcome. */
  metrics?: Pick<ServerMetrics, "backupRequests">;
  perDay?: number;
  now?: () => Date;
  /** Bounds downloads per user and per tenant (rate-limits.ts); absent: unbounded. */
  limits?: RateLimits;
}

const UNAVAILABLE = "your backups cannot be reached right now; please try again in a few minutes";

function nextUtcMidnight(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1));
}

export class BackupService {
  private readonly perDay: number;
  private readonly now: () => Date;

  /** The one owner rule, also for uploads (upload-service.ts). */
  readonly access: TenantAccess;

  constructor(private readonly options: BackupServiceOptions) {
    this.access = new TenantAccess(options.records);
    this.perDay = options.perDay ?? BACKUPS_PER_DAY;
    this.now = options.now ?? (() => new Date());
  }

  /** The tenant if the caller may see it, else 404 as if missing; 409 before it exists in the cluster. */
  private tenant(caller: Caller, id: string): Promise<TenantRecord> {
    return this.access.created(caller, id, `"${id}" has no backups yet; they start once the instance is created`);
  }

  private async limit(id: string, now: Date): Promise<BackupLimitView> {
    const used = await this.options.requests.usedOn(id, now);
    return { used, max: this.perDay, resetsAt: nextUtcMidnight(now).toISOString() };
  }

  private async reading<T>(tenant: string, what: string, read: () => Promise<T>): Promise<T> {
    try {
      return await read();
    } catch (err) {
      if (err instanceof ApiError) throw err;
      // The reason names operator things (Jobs, buckets): the log has it, the customer gets a fixed sentence.
      this.options.log.log("warn", `backups: ${what} failed`, { tenant, error: (err instanceof Error ? err.message : String(err)).split("\n")[0] ?? "" });
      throw new ApiError(503, "backups_unavailable", UNAVAILABLE);
    }
  }

  async list(caller: Caller, id: string): Promise<{ backups: BackupEntry[]; limit: BackupLimitView }> {
    await this.tenant(caller, id);
    const backups = await this.reading(id, "list", () => this.options.access.list(id));
    return { backups, limit: await this.limit(id, this.now()) };
  }

  /**
   * Refused without spending the allowance when the backups cannot be read; otherwise recorded
   * before the cluster is asked, so the limit holds across restarts; withdrawn if the cluster refuses.
   */
  async request(caller: Caller, id: string): Promise<{ backup: { requestedAt: string; reference: string }; limit: BackupLimitView }> {
    try {
      const result = await this.requestOnce(caller, id);
      this.options.metrics?.backupRequests.inc({ outcome: "accepted" });
      return result;
    } catch (err) {
      this.options.metrics?.backupRequests.inc({ outcome: err instanceof ApiError && err.status < 500 ? "refused" : "failed" });
      throw err;
    }
  }

  private async requestOnce(caller: Caller, id: string): Promise<{ backup: { requestedAt: string; reference: string }; limit: BackupLimitView }> {
    await this.tenant(caller, id);
    // A backup that cannot run must not spend one of the day's requests: when the tenant's
    // backups cannot even be read, the request is refused (503) before the count is touched.
    await this.reading(id, "check before request", () => this.options.access.list(id));
    const now = this.now();
    const at = now.toISOString();
    const resetsAt = nextUtcMidnight(now);
    const { requests } = this.options;
    if (!(await requests.take(id, now, caller.sub, this.perDay))) {
      const seconds = Math.max(1, Math.ceil((resetsAt.getTime() - now.getTime()) / 1000));
      throw new ApiError(429, "backup_limit",
        `you can request ${this.perDay} backups a day and have used them all; you can request the next one from ${resetsAt.toISOString().slice(0, 16).replace("T", " ")} UTC`,
        undefined, { "Retry-After": String(seconds) });
    }
    let reference: string;
    try {
      ({ reference } = await this.reading(id, "request", () => this.options.access.requestBackup(id)));
    } catch (err) {
      await requests.withdraw(id, now, caller.sub);
      throw err;
    }
    await requests.setReference(id, now, caller.sub, reference);
    this.options.log.log("info", "on-demand backup requested", { tenant: id, reference });
    return { backup: { requestedAt: at, reference }, limit: await this.limit(id, now) };
  }

  /**
   * 404 for a name that is not one of this tenant's backup names, and for one that is not there
   * or not complete. `counted` downloads take one from the rate limit ("download", per user and
   * per tenant), given back when the download is refused; the route counts each download once
   * (the link, or a download with the token), not the HEAD or the use of its own ticket.
   */
  async download(caller: Caller, id: string, name: string, mode: DownloadMode, counted = mode !== "head"): Promise<BackupDownload> {
    await this.tenant(caller, id);
    if (!parseBackupName(id, name)) throw notFound(`backup "${name}"`);
    const giveBack = counted && this.options.limits ? await this.options.limits.take("download", caller, id) : undefined;
    let found: BackupDownload | undefined;
    try {
      found = await this.reading(id, "download", () => this.options.access.download(id, name, mode));
      if (found === undefined) throw notFound(`backup "${name}"`);
    } catch (err) {
      await giveBack?.();
      throw err;
    }
    if (mode !== "head" && (found.type === "stream" || found.type === "redirect")) this.options.log.log("info", "backup download", { tenant: id, backup: name, type: found.type });
    return found;
  }
}

/**
 * On-demand backup requests ("back up now"), kept for the per-tenant daily limit: the
 * count and the new request are decided under the tenant's lock in one transaction, so two
 * requests (on one or two server processes) cannot both take the last place of the day.
 */
import type { RecordsStore } from "./records-store";
import { LOCK_CLASS } from "./schema";

/** The UTC day [start, end) of `at`. */
function dayRange(at: Date): [Date, Date] {
  const start = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate()));
  return [start, new Date(start.getTime() + 86_400_000)];
}

export class BackupRequests {
  constructor(private readonly store: RecordsStore) {}

  async usedOn(tenantId: string, at: Date): Promise<number> {
    const [from, to] = dayRange(at);
    const { rows } = await this.store.pool.query<{ n: string }>(
      "select count(*) as n from odoo_saas.backup_requests where tenant_id = $1 and at >= $2 and at < $3",
      [tenantId, from, to],
    );
    return Number(rows[0]?.n ?? 0);
  }

  /** Records the request unless `perDay` were already made that UTC day; false when the limit is reached. */
  async take(tenantId: string, at: Date, requestedBy: string, perDay: number): Promise<boolean> {
    const [from, to] = dayRange(at);
    return this.store.transaction(async (client) => {
      await client.query("select pg_advisory_xact_lock($1, hashtext($2))", [LOCK_CLASS.backups, tenantId]);
      const { rows } = await client.query<{ n: string }>(
        "select count(*) as n from odoo_saas.backup_requests where tenant_id = $1 and at >= $2 and at < $3",
        [tenantId, from, to],
      );
      if (Number(rows[0]?.n ?? 0) >= perDay) return false;
      await client.query("insert into odoo_saas.backup_requests (tenant_id, at, requested_by) values ($1, $2, $3)", [tenantId, at, requestedBy]);
      return true;
    });
  }

  /** The cluster refused it: it does not count. */
  async withdraw(tenantId: string, at: Date, requestedBy: string): Promise<void> {
    await this.store.pool.query("delete from odoo_saas.backup_requests where tenant_id = $1 and at = $2 and requested_by = $3", [tenantId, at, requestedBy]);
  }

  async setReference(tenantId: string, at: Date, requestedBy: string, reference: string): Promise<void> {
    await this.store.pool.query(
      "update odoo_saas.backup_requests set reference = $4 where tenant_id = $1 and at = $2 and requested_by = $3",
      [tenantId, at, requestedBy, reference],
    );
  }

  async references(tenantId: string): Promise<string[]> {
    const { rows } = await this.store.pool.query<{ reference: string }>(
      "select reference from odoo_saas.backup_requests where tenant_id = $1 and reference is not null order by at",
      [tenantId],
    );
    return rows.map((r) => r.reference);
  }
}

/**
 * What a scrape reads from the records (metrics.ts bounds each read with a timeout): the queue's
 * depth and age, over every server on the database, and the tenants counted by the one status
 * their customers see (customer-status.ts, from the records and the cluster's observation), and
 * with a cluster the tenants' scheduled backups by their last run (one CronJob list).
 */
import type * as k8s from "@kubernetes/client-node";
import type { CustomerStatus } from "./customer-status";
import type { MetricsSources, QueueReading } from "./metrics";
import type { RecordsStore } from "./records/records-store";
import { listBackupCronJobs, summarizeBackups } from "./scheduled-backups";
import type { TenantViews } from "./tenant-views";

/** The database stops the queue's statement after this long (the scrape's own timeout is a little longer). */
const STATEMENT_TIMEOUT_MS = 1_500;

/** The status a customer sees does not depend on who asks; an administrator's view skips no tenant. */
const SCRAPER = { sub: "metrics", isAdmin: true } as const;

export function recordsMetricsSources(records: RecordsStore, views: TenantViews, kc?: k8s.KubeConfig): MetricsSources {
  return {
    ...(kc === undefined ? {} : { scheduledBackups: async () => summarizeBackups(await listBackupCronJobs(kc), Date.now()) }),
    async queue(): Promise<QueueReading> {
      return records.transaction(async (client) => {
        await client.query(`set local statement_timeout = ${STATEMENT_TIMEOUT_MS}`);
        const { rows } = await client.query<{ queued: string; running: string; oldest_queued: number | null; oldest_running: number | null }>(
          `select count(*) filter (where status = 'queued') as queued, count(*) filter (where status = 'running') as running,
                  extract(epoch from now() - min(created_at) filter (where status = 'queued'))::float8 as oldest_queued,
                  extract(epoch from now() - min(created_at) filter (where status = 'running'))::float8 as oldest_running
           from odoo_saas.operations where status in ('queued', 'running')`,
        );
        const row = rows[0];
        return {
          queued: Number(row?.queued ?? 0), running: Number(row?.running ?? 0),
          oldestQueuedSeconds: Math.max(0, row?.oldest_queued ?? 0), oldestRunningSeconds: Math.max(0, row?.oldest_running ?? 0),
        };
      });
    },
    async tenantsByStatus(): Promise<Map<CustomerStatus, number>> {
      const counts = new Map<CustomerStatus, number>();
      for (const view of await views.many(SCRAPER, await records.tenants())) counts.set(view.status, (counts.get(view.status) ?? 0) + 1);
      return counts;
    },
  };
}

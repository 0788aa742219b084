// Names and labels shared with the tenant component, which creates the CronJob and Deployment.
import { assertTenantId } from "../tenant-id";

export const PART_OF_LABEL = "app.kubernetes.io/part-of";
export const PART_OF_VALUE = "odoo-saas";
export const TENANT_LABEL = "odoo-saas.io/tenant";
/** Marks the Jobs this module starts: backup, restore or list. */
export const ACTION_LABEL = "odoo-saas.io/backup-action";
/** Set on the Odoo Deployment while a restore has it scaled to 0 (the replicas to return to). */
export const REPLICAS_BEFORE_RESTORE_ANNOTATION = "odoo-saas.io/replicas-before-restore";

/** The backup image's entrypoint; Jobs built here set it explicitly before their own args. */
export const BACKUP_CLI_COMMAND = ["node", "/app/dist/backup/cli.js"];

export interface TenantObjects {
  namespace: string;
  cronJob: string;
  deployment: string;
}

export function tenantObjects(tenant: string): TenantObjects {
  assertTenantId(tenant);
  return { namespace: `tenant-${tenant}`, cronJob: `${tenant}-backup`, deployment: `${tenant}-odoo` };
}

export type JobAction = "backup" | "restore" | "list";

/**
 * `<cronjob>-<action>-<unix seconds>`, cut to 63 characters: a Job's name becomes a label value
 * on its pods, and label values are limited to 63.
 */
export function jobName(cronJobName: string, action: JobAction, now: Date): string {
  const suffix = `-${action}-${Math.floor(now.getTime() / 1000)}`;
  const head = cronJobName.slice(0, 63 - suffix.length).replace(/-+$/, "");
  return `${head}${suffix}`;
}

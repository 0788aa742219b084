// Names of the tenant's objects come from the component's own naming (components/naming.ts);
// this folder runs on the operator side only (the backup image leaves dist/backup/k8s out).
import { tenantNames } from "../../components/naming";
import { assertTenantId } from "../../tenants/tenant-id";

/** Marks the Jobs this module starts: backup, restore, list, download or import (an owner's uploaded database). */
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
  const names = tenantNames(assertTenantId(tenant));
  return { namespace: names.namespace, cronJob: names.backup, deployment: names.odoo };
}

export type JobAction = "backup" | "restore" | "list" | "download" | "import";

/**
 * `<cronjob>-<action>-<unix seconds>`, cut to 63 characters: a Job's name becomes a label value
 * on its pods, and label values are limited to 63.
 */
export function jobName(cronJobName: string, action: JobAction, now: Date): string {
  const suffix = `-${action}-${Math.floor(now.getTime() / 1000)}`;
  const head = cronJobName.slice(0, 63 - suffix.length).replace(/-+$/, "");
  return `${head}${suffix}`;
}

// What the signup HTTP server (and the scripts/ entry points) call.
export { listTenantBackups, parseListOutput, startOnDemandBackup } from "./backup-jobs";
export type { BackupJobOptions, ListedBackup, OnDemandBackupResult } from "./backup-jobs";
export { backupContainer, jobFromCronJob } from "./job-from-cronjob";
export type { JobFromCronJobOptions } from "./job-from-cronjob";
export { jobName, tenantObjects } from "./names";
export { restoreTenant, RestoreRefusedError } from "./restore-tenant";
export type { RestoreTenantOptions, RestoreTenantReport } from "./restore-tenant";

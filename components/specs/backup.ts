/**
 * The tenant's backup CronJob: runs the backup program (backup/cli.ts, image
 * images/backup/Dockerfile) inside the tenant namespace, as the Odoo user, reading PostgreSQL
 * over the network and the filestore from Odoo's volume. No API access, no cluster-wide exec.
 */
import type * as k8s from "@pulumi/kubernetes";
import { RETENTION_ENV, RETENTION_FIELDS } from "../../backup/retention-rule";
import { selectorLabels, tenantLabels } from "../labels";
import { tenantNames } from "../naming";
import { containerSecurityContext, podSecurityContext } from "../security";
import type { OdooTenantArgs } from "../tenant-args";
import { resources, secretEnv, volumeClaim, type Manifest } from "./common";
import { ODOO_DATA_DIR } from "./odoo-conf";
import { dbClientLabel, POSTGRES_PORT } from "./postgres";

export const BACKUP_DIR = "/backups";

export function backupClaim(args: OdooTenantArgs): Manifest<k8s.types.input.core.v1.PersistentVolumeClaimSpec> {
  return volumeClaim(args, tenantNames(args.id).backupVolume, "backup", args.plan.backupStorage);
}

/** Environment of the backup program: its whole interface (see backup/README.md). */
export function backupEnv(args: OdooTenantArgs): k8s.types.input.core.v1.EnvVar[] {
  const names = tenantNames(args.id);
  const env: k8s.types.input.core.v1.EnvVar[] = [
    { name: "TENANT_ID", value: args.id },
    { name: "ODOO_VERSION", value: args.odooVersion },
    { name: "PGHOST", value: names.postgres },
    { name: "PGPORT", value: String(POSTGRES_PORT) },
    { name: "PGUSER", value: names.dbUser },
    secretEnv("PGPASSWORD", names.dbSecret, "password"),
    { name: "PGDATABASE", value: names.database },
    { name: "FILESTORE_DIR", value: `${ODOO_DATA_DIR}/filestore/${names.database}` },
    // The retention rule, one variable per field, read back by backup/config.ts.
    ...RETENTION_FIELDS.map((field) => ({ name: RETENTION_ENV[field], value: String(args.backup.retention[field]) })),
    { name: "BACKUP_KIND", value: "scheduled" },
    { name: "BACKUP_STORE", value: args.backup.store.type },
  ];
  const store = args.backup.store;
  if (store.type === "pvc") {
    env.push({ name: "BACKUP_DIR", value: BACKUP_DIR });
  } else {
    env.push(
      { name: "S3_ENDPOINT", value: store.endpoint },
      { name: "S3_BUCKET", value: store.bucket },
      { name: "S3_REGION", value: store.region },
      // The backup program adds the tenant id below this prefix itself.
      { name: "S3_PREFIX", value: store.prefix },
      { name: "S3_FORCE_PATH_STYLE", value: String(store.forcePathStyle) },
      secretEnv("AWS_ACCESS_KEY_ID", store.credentialsSecret, "AWS_ACCESS_KEY_ID"),
      secretEnv("AWS_SECRET_ACCESS_KEY", store.credentialsSecret, "AWS_SECRET_ACCESS_KEY"),
    );
  }
  return env;
}

export function backupCronJob(args: OdooTenantArgs): Manifest<k8s.types.input.batch.v1.CronJobSpec> {
  const names = tenantNames(args.id);
  const labels = { ...tenantLabels(args.id, "backup"), ...dbClientLabel };
  const { uid, gid } = args.odooImage;
  const volumeMounts: k8s.types.input.core.v1.VolumeMount[] = [
    // Read-only: a backup never changes the filestore it copies.
    { name: "odoo-data", mountPath: ODOO_DATA_DIR, readOnly: true },
    { name: "tmp", mountPath: "/tmp" },
  ];
  const volumes: k8s.types.input.core.v1.Volume[] = [
    { name: "odoo-data", persistentVolumeClaim: { claimName: names.odooData, readOnly: true } },
    { name: "tmp", emptyDir: {} },
  ];
  if (args.backup.store.type === "pvc") {
    volumeMounts.push({ name: "backups", mountPath: BACKUP_DIR });
    volumes.push({ name: "backups", persistentVolumeClaim: { claimName: names.backupVolume } });
  }
  return {
    metadata: { name: names.backup, namespace: names.namespace, labels: tenantLabels(args.id, "backup") },
    spec: {
      schedule: args.backup.schedule,
      timeZone: "Etc/UTC",
      concurrencyPolicy: "Forbid",
      startingDeadlineSeconds: 3600,
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 3,
      jobTemplate: {
        metadata: { labels },
        spec: {
          backoffLimit: 2,
          activeDeadlineSeconds: 6 * 3600,
          ttlSecondsAfterFinished: 7 * 24 * 3600,
          template: {
            metadata: { labels },
            spec: {
              restartPolicy: "Never",
              serviceAccountName: names.backupServiceAccount,
              automountServiceAccountToken: false,
              enableServiceLinks: false,
              // As the Odoo user: the filestore is Odoo's, and a restore must write it back as Odoo's.
              securityContext: podSecurityContext(uid, gid),
              affinity: {
                // Odoo's volume is ReadWriteOnce: run beside Odoo when it runs (soft, so a
                // suspended tenant, with no Odoo pod, is still backed up).
                podAffinity: {
                  preferredDuringSchedulingIgnoredDuringExecution: [
                    { weight: 100, podAffinityTerm: { topologyKey: "kubernetes.io/hostname", labelSelector: { matchLabels: selectorLabels(args.id, "odoo") } } },
                  ],
                },
              },
              containers: [
                {
                  name: "backup",
                  image: args.backupImage,
                  args: ["backup"],
                  env: backupEnv(args),
                  resources: resources(args.backup.resources),
                  securityContext: containerSecurityContext(),
                  volumeMounts,
                },
              ],
              volumes,
            },
          },
        },
      },
    },
  };
}

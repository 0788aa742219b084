/**
 * Which BackupAccess the served signup server uses, from its KUBECONFIG and the platform's
 * `backup.store` (the fleet stack's one schema):
 *
 * - no cluster: none (every backup route answers 503);
 * - PVC store: KubernetesBackupAccess (list, back up now and downloads all through the
 *   tenant's CronJob; downloads stream from a read-only reader pod);
 * - S3 store: the list and pre-signed download URLs are read by this server with the SDK's
 *   default credentials (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY in its environment: give it a
 *   read-only key, s3:GetObject and s3:ListBucket on `<prefix>/*`); "back up now" is still the
 *   Job from the tenant's CronJob, which keeps the write credentials.
 */
import { startOnDemandBackup } from "../backup/k8s";
import { openStore } from "../backup/store/open-store";
import { kubeConfigFromSetting } from "../checks/kube";
import { StoreBackupAccess, UnavailableBackupAccess, type BackupAccess } from "./backup-access";
import { KubernetesBackupAccess } from "./kube-backup-access";
import type { FleetPlatform } from "./fleet-platform";

export function backupAccessFromConfig(kubeconfig: string | undefined, platform: FleetPlatform): BackupAccess {
  if (kubeconfig === "none") return new UnavailableBackupAccess("no cluster configured (KUBECONFIG=none)");
  const loaded = kubeConfigFromSetting(kubeconfig);
  if (!("kc" in loaded)) return new UnavailableBackupAccess(loaded.unusable);
  const { kc } = loaded;
  const platformConfig = platform.tryConfig();
  if (!platformConfig.ok) return new UnavailableBackupAccess(platformConfig.reason);
  const store = platformConfig.config.backup.store;
  if (store.type === "pvc") return new KubernetesBackupAccess(kc);
  const s3 = { kind: "s3" as const, endpoint: store.endpoint, bucket: store.bucket, region: store.region, prefix: store.prefix, forcePathStyle: store.forcePathStyle, partSizeBytes: 16 * 1024 * 1024 };
  return new StoreBackupAccess({
    openStore: (tenant) => openStore(s3, tenant),
    start: async (tenant) => ({ reference: (await startOnDemandBackup(kc, tenant)).jobName }),
  });
}

import { S3Client } from "@aws-sdk/client-s3";
import { StoreConfig } from "../config";
import { BackupStore } from "./backup-store";
import { PvcBackupStore } from "./pvc-store";
import { S3BackupStore } from "./s3-store";

export function makeS3Client(config: Extract<StoreConfig, { kind: "s3" }>): S3Client {
  return new S3Client({
    region: config.region,
    ...(config.endpoint !== undefined ? { endpoint: config.endpoint } : {}),
    forcePathStyle: config.forcePathStyle,
    // Credentials come from the SDK's default chain: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY
    // (from a Kubernetes Secret), or a web identity where the cluster provides one.
    // Checksums only where S3 requires them: several S3-compatible servers reject the newer ones.
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
}

/** The store for one tenant, as configured by BACKUP_STORE. */
export function openStore(config: StoreConfig, tenant: string): BackupStore {
  if (config.kind === "pvc") return new PvcBackupStore(config.dir, tenant);
  return new S3BackupStore({
    client: makeS3Client(config),
    bucket: config.bucket,
    prefix: config.prefix,
    tenant,
    partSizeBytes: config.partSizeBytes,
    addressing: { ...(config.endpoint !== undefined ? { endpoint: config.endpoint } : {}), region: config.region, forcePathStyle: config.forcePathStyle },
  });
}

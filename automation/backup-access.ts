/**
 * Owner access to a tenant's backups, behind one small interface so the HTTP layer stays thin:
 * list, request a backup now, download one. Two readers implement it:
 *
 * - StoreBackupAccess (here): reads the tenant's store in-process. Used with S3 (the server
 *   signs short-lived download URLs with read-only credentials) and, in the tests, with real
 *   stores: moto for S3, a folder for the PVC layout.
 * - KubernetesBackupAccess (kube-backup-access.ts): everything through the tenant's own
 *   CronJob, for the PVC store the API host cannot mount.
 *
 * Ownership, the daily limit and names are decided before either is called (backup-service.ts);
 * a reader only ever receives a name that parseBackupName accepted for that tenant.
 */
import type { Readable } from "node:stream";
import type { BackupKind } from "../backup/backup-name";
import { listBackups } from "../backup/list-backups";
import type { BackupStore } from "../backup/store/backup-store";
import { S3BackupStore } from "../backup/store/s3-store";

export interface BackupEntry {
  name: string;
  /** When the backup started (ISO; from its name). */
  createdAt: string;
  kind: BackupKind;
  size: number;
  status: "complete" | "incomplete";
}

export type BackupDownload =
  /** A pre-signed URL valid until expiresAt: the browser fetches the archive from the store. */
  | { type: "redirect"; url: string; expiresAt: string }
  /** The archive's bytes, streamed by this server. */
  | { type: "stream"; body: Readable; size?: number }
  /** Asked for a link only: this server streams it (it then issues its own short-lived link). */
  | { type: "through-server" }
  /** Asked with HEAD: it is there (this server would stream it), nothing opened. */
  | { type: "available"; size: number };

/**
 * `content`: the archive (or where to get it); `link`: only where to get it, opening nothing;
 * `head`: whether it is there and its size (or where to get it), opening nothing.
 */
export type DownloadMode = "content" | "link" | "head";

export interface BackupAccess {
  /** Newest first; only names the backup tool made for this tenant. */
  list(tenant: string): Promise<BackupEntry[]>;
  /** Starts an on-demand backup; resolves once it was handed to the cluster (not when done). */
  requestBackup(tenant: string): Promise<{ reference: string }>;
  /** undefined when the tenant has no complete backup of that name (a reader may not check in `link` mode). */
  download(tenant: string, name: string, mode: DownloadMode): Promise<BackupDownload | undefined>;
}

/** How long a pre-signed download URL stays valid. */
export const DOWNLOAD_URL_SECONDS = 300;

export interface StoreBackupAccessOptions {
  /** The tenant's store (only that tenant's prefix). */
  openStore: (tenant: string) => BackupStore;
  /** Starts the on-demand backup (in production: a Job from the tenant's CronJob). */
  start: (tenant: string) => Promise<{ reference: string }>;
  now?: () => Date;
}

export class StoreBackupAccess implements BackupAccess {
  constructor(private readonly options: StoreBackupAccessOptions) {}

  async list(tenant: string): Promise<BackupEntry[]> {
    const listings = await listBackups(this.options.openStore(tenant));
    return listings.map((b) => ({ name: b.name, createdAt: b.created.toISOString(), kind: b.kind, size: b.size, status: b.status }));
  }

  requestBackup(tenant: string): Promise<{ reference: string }> {
    return this.options.start(tenant);
  }

  async download(tenant: string, name: string, mode: DownloadMode): Promise<BackupDownload | undefined> {
    const store = this.options.openStore(tenant);
    const found = (await listBackups(store)).find((b) => b.name === name && b.status === "complete");
    if (found === undefined) return undefined;
    if (store instanceof S3BackupStore) {
      const now = this.options.now?.() ?? new Date();
      const url = await store.presignedGet(name, DOWNLOAD_URL_SECONDS, now);
      return { type: "redirect", url, expiresAt: new Date(now.getTime() + DOWNLOAD_URL_SECONDS * 1000).toISOString() };
    }
    if (mode === "link") return { type: "through-server" };
    if (mode === "head") return { type: "available", size: found.size };
    return { type: "stream", body: await store.getStream(name), size: found.size };
  }
}

/** No cluster and no store configured: every backup route answers 503 with this reason. */
export class UnavailableBackupAccess implements BackupAccess {
  constructor(readonly reason: string) {}
  list(): Promise<BackupEntry[]> {
    return Promise.reject(new BackupsUnavailableError(this.reason));
  }
  requestBackup(): Promise<{ reference: string }> {
    return Promise.reject(new BackupsUnavailableError(this.reason));
  }
  download(): Promise<BackupDownload | undefined> {
    return Promise.reject(new BackupsUnavailableError(this.reason));
  }
}

/** The reader could not reach the store or the cluster; the reason is for the log, not the customer. */
export class BackupsUnavailableError extends Error {
  override readonly name = "BackupsUnavailableError";
}

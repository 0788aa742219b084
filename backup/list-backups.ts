import { BackupKind, parseBackupName } from "./backup-name";
import { BackupStore, ObjectStatus, StoredObject } from "./store/backup-store";

/** First key of `list --json` output, which the Kubernetes side looks for in a Job's log. */
export const LIST_FORMAT = "odoo-saas-backup-list/1";

export interface BackupListing {
  name: string;
  kind: BackupKind;
  /** When the backup started (from its name, which is the authority). */
  created: Date;
  size: number;
  status: ObjectStatus;
  /** When the store last wrote the object. */
  modified: Date;
}

/**
 * The tenant's backups, newest first. Objects whose names this tool did not make are left out
 * (and so are never pruned).
 */
export function toListings(tenant: string, objects: readonly StoredObject[]): BackupListing[] {
  const listings: BackupListing[] = [];
  for (const object of objects) {
    const parsed = parseBackupName(tenant, object.name);
    if (!parsed) continue;
    listings.push({ name: object.name, kind: parsed.kind, created: parsed.created, size: object.size, status: object.status, modified: object.modified });
  }
  return listings.sort(newestFirst);
}

/** Newest first: by time in the name, then by name (descending), complete before unfinished. */
export function newestFirst(a: BackupListing, b: BackupListing): number {
  return (
    b.created.getTime() - a.created.getTime() ||
    (a.name < b.name ? 1 : a.name > b.name ? -1 : 0) ||
    (a.status === b.status ? 0 : a.status === "complete" ? -1 : 1)
  );
}

export async function listBackups(store: BackupStore): Promise<BackupListing[]> {
  return toListings(store.tenant, await store.list());
}

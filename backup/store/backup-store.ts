import { Readable } from "node:stream";

export type ObjectStatus = "complete" | "incomplete";

export interface StoredObject {
  name: string;
  /** `incomplete`: a leftover of a backup that never finished (a partial file, an open upload). */
  status: ObjectStatus;
  size: number;
  modified: Date;
}

/**
 * Where one tenant's archives live. A store is made for a single tenant and only ever sees that
 * tenant's prefix; every name is one plain file name (assertSafeObjectName), so no name can
 * reach another tenant's objects.
 */
export interface BackupStore {
  readonly tenant: string;
  /** For messages: where the store is (never credentials). */
  readonly location: string;
  /**
   * Stores `body` under `name`. The object becomes visible under its final name only once the
   * whole body has been received; if `body` errors, nothing complete is left behind.
   * Refuses to replace an existing object.
   */
  put(name: string, body: Readable, onBytes?: (count: number) => void): Promise<{ size: number }>;
  list(): Promise<StoredObject[]>;
  getStream(name: string): Promise<Readable>;
  /** A local file path for `name` when the store is a file system (restore reads it in place). */
  localPath?(name: string): string;
  delete(name: string, status?: ObjectStatus): Promise<void>;
}

export class BackupNotFoundError extends Error {
  override readonly name = "BackupNotFoundError";
}

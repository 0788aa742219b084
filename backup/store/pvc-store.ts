// A directory store, `<BACKUP_DIR>/<tenant>/<name>.zip`, for a PersistentVolumeClaim mounted into
// the backup Job. An archive is written as `<name>.partial`, flushed to disk, and only then
// linked to its final name, so a crash mid-way never leaves a file that looks complete.
import { constants, createReadStream, createWriteStream, promises as fsp } from "node:fs";
import * as path from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { assertSafeObjectName } from "../backup-name";
import { assertTenantId } from "../../tenants/tenant-id";
import { BackupNotFoundError, BackupStore, ObjectStatus, StoredObject } from "./backup-store";

const PARTIAL_SUFFIX = ".partial";

export class PvcBackupStore implements BackupStore {
  readonly dir: string;
  readonly location: string;

  constructor(
    baseDir: string,
    readonly tenant: string,
  ) {
    assertTenantId(tenant);
    this.dir = path.join(path.resolve(baseDir), tenant);
    this.location = this.dir;
  }

  localPath(name: string): string {
    return path.join(this.dir, assertSafeObjectName(name));
  }

  private partialPath(name: string): string {
    return this.localPath(name) + PARTIAL_SUFFIX;
  }

  async put(name: string, body: Readable, onBytes?: (count: number) => void): Promise<{ size: number }> {
    const finalPath = this.localPath(name);
    const partialPath = this.partialPath(name);
    await fsp.mkdir(this.dir, { recursive: true, mode: 0o750 });
    if (await exists(finalPath)) throw new Error(`backup ${name} already exists in ${this.location}`);

    // O_EXCL: a second writer of the same name fails instead of interleaving with the first.
    const handle = await fsp.open(partialPath, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o640);
    let size = 0;
    try {
      const counter = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          size += chunk.length;
          onBytes?.(chunk.length);
          cb(null, chunk);
        },
      });
      await pipeline(body, counter, createWriteStream("", { fd: handle.fd, autoClose: false }));
      await handle.sync();
    } catch (err) {
      await handle.close().catch(() => undefined);
      await fsp.rm(partialPath, { force: true });
      throw err;
    }
    await handle.close();
    await publish(partialPath, finalPath);
    await syncDir(this.dir);
    return { size };
  }

  async list(): Promise<StoredObject[]> {
    let names: string[];
    try {
      names = await fsp.readdir(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw err;
    }
    const objects: StoredObject[] = [];
    for (const file of names) {
      const status: ObjectStatus = file.endsWith(PARTIAL_SUFFIX) ? "incomplete" : "complete";
      const name = status === "incomplete" ? file.slice(0, -PARTIAL_SUFFIX.length) : file;
      if (name.startsWith(".") || name === "") continue;
      const stat = await fsp.lstat(path.join(this.dir, file)).catch(() => undefined);
      if (!stat?.isFile()) continue;
      objects.push({ name, status, size: stat.size, modified: stat.mtime });
    }
    return objects;
  }

  async getStream(name: string): Promise<Readable> {
    const file = this.localPath(name);
    if (!(await exists(file))) throw new BackupNotFoundError(`backup ${name} not found in ${this.location}`);
    return createReadStream(file);
  }

  async delete(name: string, status: ObjectStatus = "complete"): Promise<void> {
    await fsp.rm(status === "complete" ? this.localPath(name) : this.partialPath(name), { force: true });
  }
}

async function exists(file: string): Promise<boolean> {
  return fsp.access(file).then(
    () => true,
    () => false,
  );
}

/** Gives the finished file its final name without ever replacing an existing archive. */
async function publish(partialPath: string, finalPath: string): Promise<void> {
  try {
    await fsp.link(partialPath, finalPath); // fails with EEXIST instead of overwriting
    await fsp.unlink(partialPath);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EEXIST") {
      await fsp.rm(partialPath, { force: true });
      throw new Error(`backup ${path.basename(finalPath)} already exists`);
    }
    // Some volume types have no hard links: fall back to a rename after checking.
    if (code === "EPERM" || code === "ENOTSUP" || code === "EOPNOTSUPP" || code === "EXDEV" || code === "ENOSYS") {
      if (await exists(finalPath)) throw new Error(`backup ${path.basename(finalPath)} already exists`);
      await fsp.rename(partialPath, finalPath);
      return;
    }
    throw err;
  }
}

async function syncDir(dir: string): Promise<void> {
  const handle = await fsp.open(dir, "r").catch(() => undefined);
  if (!handle) return;
  await handle.sync().catch(() => undefined); // not every file system syncs directories
  await handle.close();
}

// Data-level restore, run inside the tenant's namespace while Odoo is scaled to 0.
//
// Safety rule (staged-switch.ts, shared with the upload restore): nothing live is touched until
// the very end. The archive is verified in full first; the database is loaded into a new database
// under a temporary name and the filestore extracted into a temporary folder beside the live one.
// Only then the switch. Any failure before or during the switch puts back what was live and
// removes the temporary copies. After a successful switch the previous database and filestore are
// dropped, unless RESTORE_KEEP_PREVIOUS=true keeps them as `<db>_pre_restore_<ts>` and
// `<dir>_pre_restore_<ts>`.
import { createWriteStream, promises as fsp } from "node:fs";
import * as path from "node:path";
import { pipeline } from "node:stream/promises";
import { assertSafeObjectName, formatCompactUtc, parseBackupName } from "../backup-name";
import { RestoreConfig } from "../config";
import { openVerifiedArchive, VerifiedArchive } from "../archive/read-archive";
import { loadSqlStream, waitForServer } from "../pg/psql";
import { LogFn, ProgressCounter, silentLog } from "../progress";
import { BackupNotFoundError, BackupStore } from "../store/backup-store";
import { extractFilestore } from "./extract-filestore";
import { StagedSwitch } from "./staged-switch";

export type RestoreSettings = Pick<RestoreConfig, "tenant" | "pg" | "filestoreDir" | "keepPrevious" | "workDir">;

export interface RestoreResult {
  name: string;
  database: string;
  filestoreDir: string;
  /** Set when the previous state was kept (RESTORE_KEEP_PREVIOUS). */
  previousDatabase?: string;
  previousFilestoreDir?: string;
  /** Clean-up that failed after a successful restore (the restore itself stands). */
  warnings: string[];
}

async function pathExists(p: string): Promise<boolean> {
  return fsp.lstat(p).then(
    () => true,
    () => false,
  );
}

/** The archive as a local file: in place for a directory store, downloaded otherwise. */
async function localArchive(store: BackupStore, name: string, workDir: string, stamp: string, log: LogFn): Promise<{ file: string; temporary: boolean }> {
  if (store.localPath) {
    const file = store.localPath(name);
    if (!(await pathExists(file))) throw new BackupNotFoundError(`backup ${name} not found in ${store.location}`);
    return { file, temporary: false };
  }
  await fsp.mkdir(workDir, { recursive: true });
  const file = path.join(workDir, `.restore-download-${stamp}-${name}`);
  const progress = new ProgressCounter(`downloading ${name}`, log);
  try {
    const body = await store.getStream(name);
    body.on("data", (chunk: Buffer) => progress.add(chunk.length));
    await pipeline(body, createWriteStream(file, { flags: "wx", mode: 0o600 }));
  } catch (err) {
    await fsp.rm(file, { force: true });
    throw err;
  }
  progress.finish();
  return { file, temporary: true };
}

export async function restoreBackup(
  settings: RestoreSettings,
  store: BackupStore,
  name: string,
  options: { now?: Date; log?: LogFn } = {},
): Promise<RestoreResult> {
  const log = options.log ?? silentLog;
  const now = options.now ?? new Date();
  assertSafeObjectName(name);
  if (!parseBackupName(settings.tenant, name)) {
    throw new Error(`${JSON.stringify(name)} is not a backup name of tenant ${settings.tenant} (expected ${settings.tenant}-<yyyymmddThhmmssZ>-<kind>.zip)`);
  }

  const stamp = formatCompactUtc(now);
  const liveDir = settings.filestoreDir;
  const parentDir = path.dirname(liveDir);

  // 1. Prove the archive whole before touching anything.
  const archiveFile = await localArchive(store, name, settings.workDir ?? parentDir, stamp, log);
  await waitForServer(settings.pg, { log });
  let archive: VerifiedArchive | undefined;
  let staged: StagedSwitch | undefined;
  try {
    log(`verifying ${name}`);
    archive = await openVerifiedArchive(archiveFile.file, settings.tenant, log);
    const verified = archive;
    staged = await StagedSwitch.prepare({ pg: settings.pg, filestoreDir: liveDir, label: "restore", stamp, log });

    // 2. Load into a new database under a temporary name.
    const db = verified.manifest.database;
    await staged.createDatabase({ encoding: db.encoding, lcCollate: db.lc_collate, lcCtype: db.lc_ctype });
    const loadProgress = new ProgressCounter("dump.sql loaded", log);
    const dump = await verified.openDump();
    dump.on("data", (chunk: Buffer) => loadProgress.add(chunk.length));
    await loadSqlStream(settings.pg, staged.database, dump);
    loadProgress.finish();

    // 3. Extract the filestore beside the live one.
    await staged.writeFilestore((dir) => extractFilestore(verified, dir, log));

    // 4. Switch; 5. the previous state dropped, or kept for a manual rollback.
    const switched = await staged.switchLive(`backup ${name}`, settings.keepPrevious);
    return { name, database: settings.pg.database, filestoreDir: liveDir, ...switched };
  } catch (err) {
    // Before the switch the live database and filestore were never changed (or have been put back).
    await staged?.discard();
    throw err;
  } finally {
    archive?.close();
    if (archiveFile.temporary) await fsp.rm(archiveFile.file, { force: true });
  }
}

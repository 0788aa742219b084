// Data-level restore, run inside the tenant's namespace while Odoo is scaled to 0.
//
// Safety rule: nothing live is touched until the very end. The archive is verified in full first;
// the database is loaded into a new database under a temporary name and the filestore extracted
// into a temporary folder beside the live one. Only then the switch: the filestore folders are
// renamed, and the live database name moves to the restored database in one transaction. Any
// failure before or during the switch puts back what was live and removes the temporary copies.
// After a successful switch the previous database and filestore are dropped, unless
// RESTORE_KEEP_PREVIOUS=true keeps them as `<db>_pre_restore_<ts>` and `<dir>_pre_restore_<ts>`.
import { createWriteStream, promises as fsp } from "node:fs";
import * as path from "node:path";
import { pipeline } from "node:stream/promises";
import { assertSafeObjectName, formatCompactUtc, parseBackupName } from "../backup-name";
import { RestoreConfig } from "../config";
import { openVerifiedArchive, VerifiedArchive } from "../archive/read-archive";
import { createDatabase, databaseExists, dropDatabase, fitDatabaseName, swapDatabases } from "../pg/database-admin";
import { loadSqlStream, waitForServer } from "../pg/psql";
import { LogFn, ProgressCounter, silentLog } from "../progress";
import { BackupNotFoundError, BackupStore } from "../store/backup-store";
import { extractFilestore } from "./extract-filestore";

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

  const pg = settings.pg;
  const live = pg.database;
  const stamp = formatCompactUtc(now);
  const liveDir = settings.filestoreDir;
  const parentDir = path.dirname(liveDir);
  const baseName = path.basename(liveDir);
  const scratchDb = fitDatabaseName(live, `_restore_${stamp}`);
  const previousDb = fitDatabaseName(live, `_pre_restore_${stamp}`);
  const scratchDir = path.join(parentDir, `.${baseName}.restore-${stamp}`);
  const previousDir = path.join(parentDir, `${baseName}_pre_restore_${stamp}`);

  // 1. Prove the archive whole before touching anything.
  const archiveFile = await localArchive(store, name, settings.workDir ?? parentDir, stamp, log);
  await waitForServer(settings.pg, { log });
  let archive: VerifiedArchive | undefined;
  let scratchDbCreated = false;
  let scratchDirOurs = false;
  let switched = false;
  try {
    log(`verifying ${name}`);
    archive = await openVerifiedArchive(archiveFile.file, settings.tenant, log);
    for (const db of [scratchDb, previousDb]) {
      if (await databaseExists(pg, db)) throw new Error(`database ${JSON.stringify(db)} already exists (left by an earlier restore?); remove it first`);
    }
    for (const dir of [scratchDir, previousDir]) {
      if (await pathExists(dir)) throw new Error(`${dir} already exists (left by an earlier restore?); remove it first`);
    }
    scratchDirOurs = true; // checked absent: whatever appears there from now on is ours

    // 2. Load into a new database under a temporary name.
    const db = archive.manifest.database;
    log(`creating scratch database ${JSON.stringify(scratchDb)}`);
    await createDatabase(pg, scratchDb, { encoding: db.encoding, lcCollate: db.lc_collate, lcCtype: db.lc_ctype });
    scratchDbCreated = true;
    const loadProgress = new ProgressCounter("dump.sql loaded", log);
    const dump = await archive.openDump();
    dump.on("data", (chunk: Buffer) => loadProgress.add(chunk.length));
    await loadSqlStream(pg, scratchDb, dump);
    loadProgress.finish();

    // 3. Extract the filestore beside the live one (same file system, so the switch is renames).
    await fsp.mkdir(parentDir, { recursive: true });
    await extractFilestore(archive, scratchDir, log);

    // 4. Switch. Filestore first (renames can fail on odd volumes), database last (atomic).
    const liveDbExists = await databaseExists(pg, live);
    const liveDirExists = await pathExists(liveDir);
    if (liveDirExists) await fsp.rename(liveDir, previousDir);
    try {
      await fsp.rename(scratchDir, liveDir);
      try {
        await swapDatabases(pg, { live, incoming: scratchDb, previous: previousDb, liveExists: liveDbExists });
      } catch (err) {
        await fsp.rename(liveDir, scratchDir);
        throw err;
      }
    } catch (err) {
      if (liveDirExists) await fsp.rename(previousDir, liveDir);
      throw err;
    }
    switched = true;
    log(`switched: ${JSON.stringify(live)} and ${liveDir} now hold backup ${name}`);

    // 5. The previous state: dropped, or kept for a manual rollback.
    const result: RestoreResult = { name, database: live, filestoreDir: liveDir, warnings: [] };
    if (settings.keepPrevious) {
      if (liveDbExists) result.previousDatabase = previousDb;
      if (liveDirExists) result.previousFilestoreDir = previousDir;
      log(`kept the previous database as ${JSON.stringify(previousDb)} and filestore as ${previousDir}`);
    } else {
      if (liveDbExists) {
        await dropDatabase(pg, previousDb).catch((err: Error) => result.warnings.push(`could not drop previous database ${JSON.stringify(previousDb)}: ${err.message}`));
      }
      if (liveDirExists) {
        await fsp.rm(previousDir, { recursive: true, force: true }).catch((err: Error) => result.warnings.push(`could not remove ${previousDir}: ${err.message}`));
      }
    }
    for (const warning of result.warnings) log(`warning: ${warning}`);
    return result;
  } catch (err) {
    if (!switched) {
      // The live database and filestore were never changed (or have been put back): clean up ours.
      if (scratchDbCreated) await dropDatabase(pg, scratchDb).catch((e: Error) => log(`warning: could not drop scratch database ${JSON.stringify(scratchDb)}: ${e.message}`));
      if (scratchDirOurs) await fsp.rm(scratchDir, { recursive: true, force: true }).catch((e: Error) => log(`warning: could not remove ${scratchDir}: ${e.message}`));
    }
    throw err;
  } finally {
    archive?.close();
    if (archiveFile.temporary) await fsp.rm(archiveFile.file, { force: true });
  }
}

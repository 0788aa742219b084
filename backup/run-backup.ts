import { formatBackupName } from "./backup-name";
import { BackupConfig } from "./config";
import { BackupManifest, majorVersionOf, ARCHIVE_FORMAT, versionInfoOf } from "./archive/manifest";
import { writeBackupArchive } from "./archive/write-archive";
import { readDatabaseInfo } from "./pg/database-info";
import { pgDumpStream } from "./pg/pg-dump-stream";
import { waitForServer } from "./pg/psql";
import { formatBytes, LogFn, silentLog } from "./progress";
import { BackupStore } from "./store/backup-store";

export type BackupSettings = Pick<BackupConfig, "tenant" | "kind" | "odooVersion" | "pg" | "filestoreDir" | "compressionLevel">;

export interface BackupResult {
  name: string;
  size: number;
  manifest: BackupManifest;
}

/** Dumps the tenant's database and filestore into one archive in `store`. */
export async function runBackup(settings: BackupSettings, store: BackupStore, options: { now?: Date; log?: LogFn } = {}): Promise<BackupResult> {
  const log = options.log ?? silentLog;
  const now = options.now ?? new Date();
  await waitForServer(settings.pg, { log });
  // Read first: it proves the database is reachable before anything is written to the store.
  const info = await readDatabaseInfo(settings.pg);
  const name = formatBackupName(settings.tenant, now, settings.kind);
  log(`writing ${name} to ${store.location}`);

  const archive = writeBackupArchive({
    openDump: () => pgDumpStream(settings.pg),
    filestoreDir: settings.filestoreDir,
    compressionLevel: settings.compressionLevel,
    log,
    manifest: {
      odoo_dump: "1",
      db_name: settings.pg.database,
      version: settings.odooVersion,
      version_info: versionInfoOf(settings.odooVersion),
      major_version: majorVersionOf(settings.odooVersion),
      pg_version: info.serverVersion,
      modules: info.modules,
      format: ARCHIVE_FORMAT,
      tenant: settings.tenant,
      created: now.toISOString(),
      kind: settings.kind,
      database: { encoding: info.encoding, lc_collate: info.lcCollate, lc_ctype: info.lcCtype },
    },
  });
  const [stored, manifest] = await Promise.allSettled([store.put(name, archive.stream), archive.manifest]);
  // The archive's own failure (pg_dump, a file) is the cause; the store's is usually its echo.
  if (manifest.status === "rejected") throw manifest.reason;
  if (stored.status === "rejected") throw stored.reason;
  log(`backup ${name} complete: ${formatBytes(stored.value.size)} (database dump ${formatBytes(manifest.value.dump.size)}, ` +
    `${manifest.value.filestore.file_count} filestore files ${formatBytes(manifest.value.filestore.total_size)})`);
  return { name, size: stored.value.size, manifest: manifest.value };
}

// Restores an owner's uploaded Odoo database zip into their instance, by the same safety rule as
// restore-backup.ts: nothing live changes until the end. In order:
//
// 1. the archive is checked again in full (checkUploadedArchive: this may run in another process
//    than the one that received it, so nothing is taken on trust);
// 2. the instance must be new or empty (emptiness.ts observes it in the database);
// 3. dump.sql is loaded into a new database under a temporary name by psql with ON_ERROR_STOP=1,
//    inside psql's own `\restrict` when this psql has it (restricted-sql.ts);
// 4. the filestore is written into a temporary folder beside the live one;
// 5. emptiness is observed once more, then the switch (restore/staged-switch.ts, the backup
//    restore's own): folders renamed, the database name moved in one transaction. The previous
//    (empty) database and folder are dropped.
//
// Any refusal or failure before the switch removes the temporary database and folder and leaves
// the live ones exactly as they were.
import { execFile } from "node:child_process";
import { createWriteStream, promises as fsp } from "node:fs";
import * as path from "node:path";
import { pipeline } from "node:stream/promises";
import { promisify } from "node:util";
import { formatCompactUtc } from "../backup-name";
import { PgConnection } from "../config";
import { databaseExists } from "../pg/database-admin";
import { pgProgramPath } from "../pg/pg-process";
import { loadSqlStream, runPsqlScript } from "../pg/psql";
import { LogFn, ProgressCounter, silentLog } from "../progress";
import { StagedSwitch } from "../restore/staged-switch";
import { UploadCheck, UploadLimits, UploadRefusedError, checkUploadedArchive } from "./check-upload";
import { observeEmptiness } from "./emptiness";
import { psqlSupportsRestrict, RestrictedSql } from "./restricted-sql";
import { openUploadArchive } from "./upload-archive";

export type UploadRestorePhase = "checking" | "checking-empty" | "loading-database" | "copying-files" | "switching" | "done";

export interface UploadRestoreSettings {
  /** The instance's database (pg.database) and the role that will own what the dump creates. */
  pg: PgConnection;
  /** The instance's filestore folder (e.g. /var/lib/odoo/filestore/<db>). */
  filestoreDir: string;
  limits: UploadLimits;
  now?: Date;
  log?: LogFn;
  onPhase?: (phase: UploadRestorePhase) => void;
}

export interface UploadRestoreResult {
  check: UploadCheck;
  database: string;
  filestoreDir: string;
  /** psql ran the dump inside its own \restrict (false only with a psql older than 15.14/16.10/17.6). */
  restricted: boolean;
  warnings: string[];
}

async function psqlVersion(pg: PgConnection): Promise<string> {
  const { stdout } = await promisify(execFile)(pgProgramPath(pg, "psql"), ["--version"], { env: { PATH: process.env.PATH ?? "" } });
  return stdout;
}

/** The new database takes the live one's encoding and collation, else Odoo's own choice (UTF8, C). */
async function databaseSettings(pg: PgConnection, live: string, liveExists: boolean): Promise<{ encoding: string; lcCollate: string; lcCtype: string }> {
  if (!liveExists) return { encoding: "UTF8", lcCollate: "C", lcCtype: "C" };
  const out = await runPsqlScript(pg, pg.maintenanceDatabase,
    "SELECT pg_encoding_to_char(encoding) || '|' || datcollate || '|' || datctype FROM pg_catalog.pg_database WHERE datname = :'name';\n", { name: live });
  const [encoding, lcCollate, lcCtype] = out.trim().split("|");
  if (!encoding || !lcCollate || !lcCtype) throw new Error(`cannot read the settings of database ${JSON.stringify(live)}`);
  return { encoding, lcCollate, lcCtype };
}

/** psql's failure in the customer's terms: the first ERROR line, without our paths. */
function loadFailure(err: Error): UploadRefusedError {
  const line = err.message.split("\n").find((l) => /ERROR:/.test(l)) ?? err.message.split("\n")[0] ?? "";
  const what = line.replace(/^.*?ERROR:\s*/, "").slice(0, 300);
  return new UploadRefusedError("load_failed", `PostgreSQL could not load dump.sql: ${what}`);
}

export async function restoreUpload(zipPath: string, settings: UploadRestoreSettings): Promise<UploadRestoreResult> {
  const log = settings.log ?? silentLog;
  const phase = settings.onPhase ?? (() => undefined);
  const pg = settings.pg;
  const live = pg.database;
  const stamp = formatCompactUtc(settings.now ?? new Date());
  const liveDir = settings.filestoreDir;

  phase("checking");
  const check = await checkUploadedArchive(zipPath, settings.limits);
  log(`upload accepted by the checks: Odoo ${check.odooVersion}, dump ${check.dumpBytes} bytes, ${check.filestoreFiles} files`);

  phase("checking-empty");
  const requireEmpty = async (): Promise<void> => {
    let seen;
    try {
      seen = await observeEmptiness(pg, live);
    } catch (err) {
      log(`emptiness not observed: ${(err as Error).message.split("\n")[0]}`);
      throw new UploadRefusedError("emptiness_unknown", "we could not check that your instance is empty, so nothing was changed; please try again later");
    }
    if (!seen.empty) {
      throw new UploadRefusedError("instance_not_empty", `a database can only be uploaded to a new or empty instance, and this one is in use (${seen.why}); nothing was changed`);
    }
    log(`instance is empty: ${seen.why}`);
  };
  await requireEmpty();

  const staged = await StagedSwitch.prepare({ pg, filestoreDir: liveDir, label: "upload", stamp, log });
  const restricted = psqlSupportsRestrict(await psqlVersion(pg));
  if (!restricted) log("warning: this psql has no \\restrict; the dump checks alone keep meta-commands out");

  const archive = await openUploadArchive(zipPath);
  try {
    phase("loading-database");
    await staged.createDatabase(await databaseSettings(pg, live, await databaseExists(pg, live)));
    const progress = new ProgressCounter("dump.sql loaded", log);
    const dump = await archive.openDump();
    dump.on("data", (chunk: Buffer) => progress.add(chunk.length));
    const sql = restricted ? dump.pipe(new RestrictedSql()) : dump;
    if (restricted) dump.on("error", (err: Error) => sql.destroy(err));
    try {
      await loadSqlStream(pg, staged.database, sql);
    } catch (err) {
      throw loadFailure(err as Error);
    }
    progress.finish();

    phase("copying-files");
    await staged.writeFilestore(async (dir) => {
      await fsp.mkdir(dir, { recursive: false });
      for (const relative of archive.filestoreFiles()) {
        const target = path.join(dir, ...relative.split("/"));
        const inside = path.relative(dir, target);
        if (inside === "" || inside.startsWith("..") || path.isAbsolute(inside)) throw new Error(`filestore/${relative} points outside the filestore`);
        await fsp.mkdir(path.dirname(target), { recursive: true });
        await pipeline(await archive.openFilestoreFile(relative), createWriteStream(target, { flags: "wx", mode: 0o640 }));
      }
    });

    phase("switching");
    await requireEmpty();
    // The previous (empty) database and folder are dropped.
    const { warnings } = await staged.switchLive("the uploaded database");
    phase("done");
    return { check, database: live, filestoreDir: liveDir, restricted, warnings };
  } catch (err) {
    await staged.discard();
    throw err;
  } finally {
    archive.close();
  }
}

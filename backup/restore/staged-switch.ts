// The one switch both restores make (restore-backup.ts for a backup, import/restore-upload.ts for
// an owner's upload), by one safety rule: nothing live is touched until the very end.
//
// The new database is loaded under a temporary name and the new filestore written into a
// temporary folder beside the live one (same file system, so the switch is renames). The switch:
// the live folder is renamed aside, the new one takes its name, and the live database name moves
// to the new database in one transaction (swapDatabases); any failure there puts the folders
// back. Before the switch, `discard` removes the temporary copies and the live ones are exactly
// as they were. After it, the previous database and folder are dropped, or kept when asked.
import { promises as fsp } from "node:fs";
import * as path from "node:path";
import { PgConnection } from "../config";
import { createDatabase, databaseExists, DatabaseSettings, dropDatabase, fitDatabaseName, swapDatabases } from "../pg/database-admin";
import { LogFn } from "../progress";

export interface StagedSwitchOptions {
  /** The live database is pg.database. */
  pg: PgConnection;
  /** The live filestore folder. */
  filestoreDir: string;
  /** Names the temporary copies: `<db>_<label>_<stamp>`, `<db>_pre_<label>_<stamp>`, `.<dir>.<label>-<stamp>`, `<dir>_pre_<label>_<stamp>`. */
  label: "restore" | "upload";
  /** formatCompactUtc of the restore's time. */
  stamp: string;
  log: LogFn;
}

export interface SwitchResult {
  /** Set when the previous state was kept (keepPrevious) and there was one. */
  previousDatabase?: string;
  previousFilestoreDir?: string;
  /** Clean-up that failed after a successful switch (the switch itself stands). */
  warnings: string[];
}

async function pathExists(p: string): Promise<boolean> {
  return fsp.lstat(p).then(() => true, () => false);
}

export class StagedSwitch {
  /** The new database, under its temporary name until the switch. */
  readonly database: string;
  /** The new filestore folder beside the live one, until the switch. */
  readonly dir: string;
  private readonly previousDb: string;
  private readonly previousDir: string;
  private databaseCreated = false;
  private switched = false;

  private constructor(private readonly options: StagedSwitchOptions) {
    const live = options.pg.database;
    const base = path.basename(options.filestoreDir);
    const parent = path.dirname(options.filestoreDir);
    this.database = fitDatabaseName(live, `_${options.label}_${options.stamp}`);
    this.previousDb = fitDatabaseName(live, `_pre_${options.label}_${options.stamp}`);
    this.dir = path.join(parent, `.${base}.${options.label}-${options.stamp}`);
    this.previousDir = path.join(parent, `${base}_pre_${options.label}_${options.stamp}`);
  }

  /**
   * Refuses (changing nothing) when a temporary name is already taken, e.g. left by an earlier
   * restore; from then on, whatever appears under these names is this restore's.
   */
  static async prepare(options: StagedSwitchOptions): Promise<StagedSwitch> {
    const staged = new StagedSwitch(options);
    for (const db of [staged.database, staged.previousDb]) {
      if (await databaseExists(options.pg, db)) throw new Error(`database ${JSON.stringify(db)} already exists (left by an earlier ${options.label}?); remove it first`);
    }
    for (const dir of [staged.dir, staged.previousDir]) {
      if (await pathExists(dir)) throw new Error(`${dir} already exists (left by an earlier ${options.label}?); remove it first`);
    }
    return staged;
  }

  /** Creates the new, empty database under its temporary name. */
  async createDatabase(settings: DatabaseSettings): Promise<void> {
    this.options.log(`creating scratch database ${JSON.stringify(this.database)}`);
    await createDatabase(this.options.pg, this.database, settings);
    this.databaseCreated = true;
  }

  /** `write` fills `dir` (which it must create); its parent, the live folder's, is made first. */
  async writeFilestore(write: (dir: string) => Promise<void>): Promise<void> {
    await fsp.mkdir(path.dirname(this.options.filestoreDir), { recursive: true });
    await write(this.dir);
  }

  /**
   * The switch: folders renamed, then the database name moved in one transaction; a failure
   * puts the folders back and throws. After it, the previous state is dropped or kept.
   * `what` names the new content for the log ("backup <name>").
   */
  async switchLive(what: string, keepPrevious = false): Promise<SwitchResult> {
    const { pg, filestoreDir: liveDir, log } = this.options;
    const live = pg.database;
    const liveDbExists = await databaseExists(pg, live);
    const liveDirExists = await pathExists(liveDir);
    if (liveDirExists) await fsp.rename(liveDir, this.previousDir);
    try {
      await fsp.rename(this.dir, liveDir);
      try {
        await swapDatabases(pg, { live, incoming: this.database, previous: this.previousDb, liveExists: liveDbExists });
      } catch (err) {
        await fsp.rename(liveDir, this.dir);
        throw err;
      }
    } catch (err) {
      if (liveDirExists) await fsp.rename(this.previousDir, liveDir);
      throw err;
    }
    this.switched = true;
    log(`switched: ${JSON.stringify(live)} and ${liveDir} now hold ${what}`);
    const result: SwitchResult = { warnings: [] };
    if (keepPrevious) {
      if (liveDbExists) result.previousDatabase = this.previousDb;
      if (liveDirExists) result.previousFilestoreDir = this.previousDir;
      log(`kept the previous database as ${JSON.stringify(this.previousDb)} and filestore as ${this.previousDir}`);
    } else {
      if (liveDbExists) await dropDatabase(pg, this.previousDb).catch((e: Error) => result.warnings.push(`could not drop previous database ${JSON.stringify(this.previousDb)}: ${e.message}`));
      if (liveDirExists) await fsp.rm(this.previousDir, { recursive: true, force: true }).catch((e: Error) => result.warnings.push(`could not remove ${this.previousDir}: ${e.message}`));
    }
    for (const warning of result.warnings) log(`warning: ${warning}`);
    return result;
  }

  /** After a failure before the switch: the temporary copies removed; the live ones were never changed. */
  async discard(): Promise<void> {
    if (this.switched) return;
    const { pg, log } = this.options;
    if (this.databaseCreated) await dropDatabase(pg, this.database).catch((e: Error) => log(`warning: could not drop scratch database ${JSON.stringify(this.database)}: ${e.message}`));
    await fsp.rm(this.dir, { recursive: true, force: true }).catch((e: Error) => log(`warning: could not remove ${this.dir}: ${e.message}`));
  }
}

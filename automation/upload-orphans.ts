/**
 * Uploads whose server process died: every process beats for its own unfinished uploads, and at
 * start and on each beat takes over those of processes that stopped beating (UploadRecords
 * .claimOrphans: one process per upload). For each, only what is known is said:
 * - received or checked, never handed to the restore: nothing in the instance changed, so it
 *   `failed`, and the customer is asked to upload again;
 * - restoring: the restorer puts back what a restore changes around the instance (Odoo's
 *   replicas, recorded on its Deployment), and the upload is `unknown`, because the server
 *   restarted during the restore. If that cannot be done now, the upload stays unfinished and
 *   is tried again one stale period later.
 * The dead process's temporary folder is removed when it is on this host's upload folder.
 */
import { promises as fsp } from "node:fs";
import * as path from "node:path";
import type { Logger } from "./log";
import type { UploadRecord, UploadRecords } from "./records/upload-records";
import type { UploadRestorer } from "./upload-restorer";
import { SerialTicker } from "./serial-ticker";

export const UPLOAD_DIR_PREFIX = "odoo-saas-upload-";

export const RESTARTED_DURING_RESTORE =
  "we cannot say whether your database was restored: our server restarted during the restore. Your instance was started again; please check it, and upload your database again if it is not there";
export const RESTARTED_BEFORE_RESTORE = "the upload was interrupted because our server restarted before your database was restored; nothing was changed, please upload it again";

export interface UploadOrphansOptions {
  records: UploadRecords;
  restorer: UploadRestorer;
  log: Logger;
  workDir: string;
  heartbeatMs: number;
  /** No heartbeat for this long: the process is dead (several beats, so a busy event loop is not death). */
  staleAfterMs: number;
}

export class UploadOrphans {
  private readonly ticker: SerialTicker;

  constructor(private readonly options: UploadOrphansOptions) {
    this.ticker = new SerialTicker(() => this.tick(), options.heartbeatMs);
  }

  async start(): Promise<void> {
    await this.sweep();
    this.ticker.start();
  }

  async stop(): Promise<void> {
    await this.ticker.stop();
  }

  private async tick(): Promise<void> {
    try {
      await this.options.records.heartbeat();
      await this.sweep();
    } catch (err) {
      this.options.log.log("warn", `uploads: heartbeat or orphan sweep failed: ${(err as Error).message}`);
    }
  }

  /** Takes over and settles the dead processes' uploads; returns those settled. */
  async sweep(): Promise<UploadRecord[]> {
    const { records, restorer, log } = this.options;
    const settled: UploadRecord[] = [];
    for (const upload of await records.claimOrphans(this.options.staleAfterMs)) {
      await this.removeFolders(upload.id);
      if (upload.state !== "restoring") {
        if (await records.finish(upload.id, "failed", { message: RESTARTED_BEFORE_RESTORE, detail: `the server process stopped while the upload was ${upload.state}` })) settled.push(upload);
        log.log("warn", "upload interrupted by a server restart before its restore", { tenant: upload.tenant, upload: upload.id });
        continue;
      }
      let done: string;
      try {
        done = restorer.recover ? await restorer.recover(upload.tenant) : "nothing to put back";
      } catch (err) {
        log.log("warn", "upload: could not put the instance back after a server restart; trying again later", { tenant: upload.tenant, upload: upload.id, detail: (err as Error).message });
        continue;
      }
      if (await records.finish(upload.id, "unknown", { message: RESTARTED_DURING_RESTORE, detail: `the server process stopped during the restore; ${done}` })) settled.push(upload);
      log.log("warn", "upload unknown: the server restarted during its restore", { tenant: upload.tenant, upload: upload.id, detail: done });
    }
    return settled;
  }

  private async removeFolders(uploadId: string): Promise<void> {
    const prefix = `${UPLOAD_DIR_PREFIX}${uploadId}-`;
    const names = await fsp.readdir(this.options.workDir).catch(() => [] as string[]);
    for (const name of names.filter((n) => n.startsWith(prefix))) {
      await fsp.rm(path.join(this.options.workDir, name), { recursive: true, force: true }).catch(() => undefined);
    }
  }
}

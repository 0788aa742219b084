/**
 * "Bring your own database", without HTTP: the owner (or an admin; anyone else gets 404, by the
 * one rule of tenant-access.ts, as for backups and downloads) sends an Odoo database zip. It is
 * received into a private temporary file within the plan's uploadLimit, checked
 * (backup/import/check-upload.ts) against the plan's volumes and the instance's Odoo version,
 * and only then handed to the UploadRestorer, which also requires the instance to be new or
 * empty. A refusal answers 4xx with the reason and changes nothing; the file is always removed.
 *
 * Before a byte of the body is read: the caller, the type and declared size, this server's slots
 * and disk room (upload-admission.ts), the user's and the instance's unfinished uploads (in
 * PostgreSQL, across servers) and, where the restorer can observe it from here, that the
 * instance is new or empty. The body then has a deadline sized to it at the slowest accepted rate.
 *
 * Uploads and their phases are kept in PostgreSQL (records/upload-records.ts, the last few per
 * instance), so any server answers for them; those of a process that died are settled by
 * upload-orphans.ts.
 */
import { randomBytes } from "node:crypto";
import { promises as fsp } from "node:fs";
import type * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { checkUploadedArchive, UploadRefusedError, type UploadLimits } from "../backup/import/check-upload";
import { SUPPORTED_ODOO_VERSIONS } from "../tenants/schema";
import { planUploadLimit } from "../tenants/validate";
import { quantityValue } from "../tenants/quantity";
import { ApiError, notFound } from "./api-error";
import type { Caller } from "./auth";
import type { BackupService } from "./backup-service";
import type { Logger } from "./log";
import type { FleetPlatform } from "./fleet-platform";
import type { ServerMetrics } from "./metrics";
import type { UploadRecord, UploadRecords, UploadState } from "./records/upload-records";
import { audienceOf } from "./tenant-access";
import { DEFAULT_UPLOAD_SETTINGS, type UploadSettings } from "./server-config";
import { refuseIfInUse, uploadDeadlineMs, UploadSlots, userBusy } from "./upload-admission";
import { UPLOAD_DIR_PREFIX, UploadOrphans } from "./upload-orphans";
import { checkUploadHeaders, formatSize, receiveUpload } from "./upload-receiver";
import { UnavailableUploadRestorer, type UploadOutcome, type UploadPhase, type UploadRestorer } from "./upload-restorer";

export type { UploadState } from "./records/upload-records";

/** Members an upload may have (a large filestore has tens of thousands of files). */
export const UPLOAD_MAX_ENTRIES = 200_000;
/** Uncompressed / compressed: SQL text deflates 5-20 times; zeros over 1000 times. */
export const UPLOAD_MAX_RATIO = 200;
const KEPT_PER_TENANT = 5;
/** receivedBytes is written to the records at most this often while receiving. */
const PROGRESS_EVERY_MS = 1000;

export interface UploadView {
  id: string;
  tenant: string;
  state: UploadState;
  phase: UploadPhase | "receiving" | "checking-upload";
  receivedBytes: number;
  startedAt: string;
  finishedAt: string | null;
  phases: { phase: string; at: string }[];
  /** refused: the code and the reason in customer words; failed/unknown: what we can say. */
  code?: string;
  message?: string;
  /** Admins only: what the log has. */
  detail?: string;
}

export interface UploadLimitView {
  /** false when this platform cannot restore uploads (no cluster): the page shows no form. */
  available: boolean;
  maxBytes: number;
  /** The same, in customer words ("10.7 GB"). */
  maxText: string;
  odooVersion: string;
}

export interface UploadServiceOptions {
  backups: BackupService;
  restorer: UploadRestorer;
  records: UploadRecords;
  /** The fleet stack: the plans' limits. */
  platform: FleetPlatform;
  log: Logger;
  /** Counts finished uploads by outcome. */
  metrics?: Pick<ServerMetrics, "uploads">;
  /** Where uploads are received (a private folder per upload is made inside); default the OS temp folder. */
  workDir?: string;
  settings?: UploadSettings;
  /** This process's heartbeat for its uploads, and how old one may get before they are another's to settle (default 5 s and 30 s). */
  heartbeatMs?: number;
  staleAfterMs?: number;
}

const RESTORE_FAILED = "we could not restore your database because of a problem on our side; nothing was changed. Please try again later";

export class UploadService {
  private readonly settings: UploadSettings;
  private readonly workDir: string;
  private readonly slots: UploadSlots;
  readonly orphans: UploadOrphans;

  constructor(private readonly options: UploadServiceOptions) {
    this.settings = options.settings ?? DEFAULT_UPLOAD_SETTINGS;
    this.workDir = options.workDir ?? os.tmpdir();
    this.slots = new UploadSlots(this.settings, this.workDir);
    this.orphans = new UploadOrphans({
      records: options.records, restorer: options.restorer, log: options.log, workDir: this.workDir,
      heartbeatMs: options.heartbeatMs ?? 5_000, staleAfterMs: options.staleAfterMs ?? 30_000,
    });
  }

  /** Settles the uploads of processes that died, then keeps this one's alive. */
  start(): Promise<void> {
    return this.orphans.start();
  }

  stop(): Promise<void> {
    return this.orphans.stop();
  }

  private tenant(caller: Caller, id: string): Promise<{ id: string; plan: string; odooVersion: string }> {
    return this.options.backups.access.created(caller, id, `"${id}" is still being created; upload your database once it is ready`);
  }

  /** The plan's limits for this instance: the zip's size, the dump and files uncompressed, the version. */
  private limitsOf(tenant: { plan: string; odooVersion: string }): { maxBytes: number; check: UploadLimits } {
    const plan = this.options.platform.plan(tenant.plan);
    const major = SUPPORTED_ODOO_VERSIONS.find((v) => v === tenant.odooVersion);
    if (!plan || !major) {
      this.options.log.log("error", "uploads: no plan or version for the tenant", { plan: tenant.plan, version: tenant.odooVersion });
      throw new ApiError(503, "uploads_unavailable", "uploading a database is not possible right now; please try again later");
    }
    return {
      maxBytes: planUploadLimit(plan),
      check: {
        maxDumpBytes: quantityValue(plan.databaseStorage),
        maxFilestoreBytes: quantityValue(plan.filestoreStorage),
        maxEntries: UPLOAD_MAX_ENTRIES,
        maxCompressionRatio: UPLOAD_MAX_RATIO,
        odooMajor: major,
      },
    };
  }

  private view(record: UploadRecord, caller: Caller): UploadView {
    const { requestedBy: _by, detail, ...view } = record;
    return { ...view, phase: view.phase as UploadView["phase"], phases: [...view.phases], ...(audienceOf(caller) === "admin" && detail !== undefined ? { detail } : {}) };
  }

  /** One upload's writes, in order (the restorer reports phases without waiting). */
  private readonly writes = new WeakMap<UploadRecord, Promise<unknown>>();
  private write<T>(record: UploadRecord, work: () => Promise<T>): Promise<T> {
    const next = (this.writes.get(record) ?? Promise.resolve()).then(work);
    this.writes.set(record, next.catch(() => undefined));
    return next;
  }

  /** Records a phase; a record that cannot be written is logged, never fatal to the restore. */
  private phase(record: UploadRecord, phase: UploadView["phase"], state?: UploadState): Promise<void> {
    record.phase = phase;
    record.phases.push({ phase, at: new Date().toISOString() });
    if (state !== undefined) record.state = state;
    return this.write(record, () => this.options.records.phase(record.id, phase, state)).catch((err: unknown) => {
      this.options.log.log("warn", `uploads: could not record a phase: ${(err as Error).message}`, { upload: record.id, phase });
    });
  }

  private async finish(record: UploadRecord, state: UploadState, fields: { code?: string; message?: string; detail?: string } = {}): Promise<void> {
    this.options.metrics?.uploads.inc({ outcome: state });
    record.state = state;
    record.finishedAt = new Date().toISOString();
    Object.assign(record, fields);
    await this.write(record, () => this.options.records.finish(record.id, state, fields));
  }

  async overview(caller: Caller, id: string): Promise<{ limit: UploadLimitView; uploads: UploadView[] }> {
    const tenant = await this.tenant(caller, id);
    const { maxBytes } = this.limitsOf(tenant);
    const uploads = (await this.options.records.list(id, KEPT_PER_TENANT)).map((r) => this.view(r, caller));
    const available = !(this.options.restorer instanceof UnavailableUploadRestorer);
    return { limit: { available, maxBytes, maxText: formatSize(maxBytes), odooVersion: tenant.odooVersion }, uploads };
  }

  async status(caller: Caller, id: string, uploadId: string): Promise<UploadView> {
    await this.tenant(caller, id);
    const record = await this.options.records.get(id, uploadId);
    if (!record) throw notFound(`upload "${uploadId}"`);
    return this.view(record, caller);
  }

  /**
   * Receives and checks the upload; resolves with the accepted upload (restoring) or throws an
   * ApiError (refused: 4xx with the reason). The restore goes on after the answer.
   */
  async receive(caller: Caller, id: string, req: http.IncomingMessage): Promise<UploadView> {
    const arrived = Date.now();
    const tenant = await this.tenant(caller, id);
    if (this.options.restorer instanceof UnavailableUploadRestorer) {
      this.options.log.log("warn", "uploads: unavailable", { tenant: id, reason: this.options.restorer.reason });
      throw new ApiError(503, "uploads_unavailable", "uploading a database is not possible on this platform right now");
    }
    const limits = this.limitsOf(tenant);
    checkUploadHeaders(req, limits.maxBytes);
    const declared = Number(req.headers["content-length"]);
    const size = Number.isSafeInteger(declared) && declared > 0 ? declared : limits.maxBytes;
    const release = await this.slots.take(size);
    let handedOver = false;
    try {
      const at = new Date().toISOString();
      const record: UploadRecord = {
        id: `up_${randomBytes(9).toString("base64url")}`, tenant: id, requestedBy: caller.sub, state: "receiving", phase: "receiving",
        receivedBytes: 0, startedAt: at, finishedAt: null, phases: [{ phase: "receiving", at }],
      };
      const admission = await this.options.records.admit(record, this.settings.perUser, KEPT_PER_TENANT);
      if (admission === "instance_busy") throw new ApiError(409, "upload_in_progress", "a database is already being uploaded to this instance; wait until it is finished");
      if (admission === "user_busy") throw userBusy(this.settings.perUser);
      try {
        await refuseIfInUse(this.options.restorer, id, this.options.log);
        const dir = await fsp.mkdtemp(path.join(this.workDir, `${UPLOAD_DIR_PREFIX}${record.id}-`));
        try {
          const file = await this.receiveChecked(record, req, dir, limits, arrived + uploadDeadlineMs(size, this.settings));
          // Durable before the restorer may touch the instance: a sweep after this process dies must know.
          await this.write(record, () => this.options.records.phase(record.id, "starting", "restoring"));
          record.state = "restoring";
          record.phase = "starting";
          record.phases.push({ phase: "starting", at: new Date().toISOString() });
          this.options.log.log("info", "upload accepted", { tenant: id, upload: record.id, bytes: record.receivedBytes });
          handedOver = true;
          void this.restore(record, file, limits.check, dir).finally(release);
          return this.view(record, caller);
        } finally {
          if (!handedOver) await fsp.rm(dir, { recursive: true, force: true });
        }
      } catch (err) {
        if (record.finishedAt === null) {
          if (err instanceof ApiError) await this.finish(record, "refused", { code: err.code, message: err.message });
          else await this.finish(record, "failed", { message: `${RESTORE_FAILED} (reference ${record.id})`, detail: err instanceof Error ? err.message : String(err) });
        }
        throw err;
      }
    } finally {
      if (!handedOver) release();
    }
  }

  /** The body into `dir` by its deadline, then the archive's checks; the file, or a refusal. */
  private async receiveChecked(record: UploadRecord, req: http.IncomingMessage, dir: string, limits: { maxBytes: number; check: UploadLimits }, deadline: number): Promise<string> {
    let written = 0;
    const received = await receiveUpload(req, dir, {
      maxBytes: limits.maxBytes,
      deadline,
      tooSlow: `the upload was too slow: a file of this size must arrive at ${formatSize(this.settings.minBytesPerSecond)} per second or faster; nothing was changed, please try again from a faster connection`,
      onBytes: (n) => {
        record.receivedBytes = n;
        if (Date.now() - written < PROGRESS_EVERY_MS) return;
        written = Date.now();
        void this.write(record, () => this.options.records.received(record.id, n)).catch(() => undefined);
      },
    });
    record.receivedBytes = received.bytes;
    await this.write(record, () => this.options.records.received(record.id, received.bytes));
    await this.phase(record, "checking-upload", "checking");
    try {
      await checkUploadedArchive(received.file, limits.check);
    } catch (err) {
      if (!(err instanceof UploadRefusedError)) throw err;
      this.options.log.log("info", "upload refused", { tenant: record.tenant, upload: record.id, code: err.code });
      throw new ApiError(422, err.code, err.message);
    }
    return received.file;
  }

  private async restore(record: UploadRecord, file: string, limits: UploadLimits, dir: string): Promise<void> {
    let outcome: UploadOutcome;
    try {
      outcome = await this.options.restorer.restore({ tenant: record.tenant, file, limits }, (phase) => void this.phase(record, phase));
    } catch (err) {
      outcome = { state: "failed", detail: err instanceof Error ? err.message : String(err) };
    } finally {
      await fsp.rm(dir, { recursive: true, force: true }).catch(() => undefined);
    }
    try {
      if (outcome.state === "restored") await this.finish(record, "restored");
      else if (outcome.state === "refused") await this.finish(record, "refused", { code: outcome.code, message: outcome.message });
      else if (outcome.state === "unknown") await this.finish(record, "unknown", { message: outcome.reason, detail: outcome.detail });
      else await this.finish(record, "failed", { message: `${RESTORE_FAILED} (reference ${record.id})`, detail: outcome.detail });
    } catch (err) {
      // Not recorded: the upload stays unfinished under this process's heartbeat until it stops.
      this.options.log.log("error", `uploads: could not record an outcome: ${(err as Error).message}`, { upload: record.id, state: outcome.state });
    }
    this.options.log.log(outcome.state === "failed" ? "warn" : "info", `upload ${record.state}`, {
      tenant: record.tenant, upload: record.id, ...(record.code !== undefined ? { code: record.code } : {}),
      ...(outcome.state === "failed" || outcome.state === "unknown" ? { detail: outcome.detail.split("\n")[0] ?? "" } : {}),
    });
  }
}

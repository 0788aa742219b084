/**
 * "Bring your own database", without HTTP: the owner (or an admin; anyone else gets 404, by the
 * same check as backups and downloads, BackupService.tenant) sends an Odoo database zip. It is
 * received into a private temporary file within the plan's uploadLimit, checked
 * (backup/import/check-upload.ts) against the plan's volumes and the instance's Odoo version,
 * and only then handed to the UploadRestorer, which also requires the instance to be new or
 * empty. A refusal answers 4xx with the reason and changes nothing; the file is always removed.
 *
 * Uploads and their phases are kept in memory (the last few per instance): after a restart of
 * this server an upload that was running reads as unknown, because nothing here observed its end.
 */
import { randomBytes } from "node:crypto";
import { promises as fsp } from "node:fs";
import type * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { checkUploadedArchive, UploadRefusedError, type UploadLimits } from "../backup/import/check-upload";
import { SUPPORTED_ODOO_VERSIONS } from "../tenants/schema";
import { planNamed, planUploadLimit } from "../tenants/validate";
import { quantityValue } from "../tenants/quantity";
import { ApiError, notFound } from "./api-error";
import type { Caller } from "./auth";
import type { BackupService } from "./backup-service";
import type { Logger } from "./log";
import { readOpsStack } from "./ops-stack";
import { checkUploadHeaders, formatSize, receiveUpload } from "./upload-receiver";
import { UnavailableUploadRestorer, type UploadOutcome, type UploadPhase, type UploadRestorer } from "./upload-restorer";

/** Members an upload may have (a large filestore has tens of thousands of files). */
export const UPLOAD_MAX_ENTRIES = 200_000;
/** Uncompressed / compressed: SQL text deflates 5-20 times; zeros over 1000 times. */
export const UPLOAD_MAX_RATIO = 200;
const KEPT_PER_TENANT = 5;

export type UploadState = "receiving" | "checking" | "restoring" | "restored" | "refused" | "failed" | "unknown";

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

interface UploadRecord extends Omit<UploadView, "detail"> {
  requestedBy: string;
  detail?: string;
}

export interface UploadServiceOptions {
  backups: BackupService;
  restorer: UploadRestorer;
  opsStackFile: string;
  log: Logger;
  /** Where uploads are received (a private folder per upload is made inside); default the OS temp folder. */
  workDir?: string;
}

const RESTORE_FAILED = "we could not restore your database because of a problem on our side; nothing was changed. Please try again later";

export class UploadService {
  private readonly uploads = new Map<string, UploadRecord[]>();

  constructor(private readonly options: UploadServiceOptions) {}

  private async tenant(caller: Caller, id: string): Promise<{ id: string; plan: string; odooVersion: string }> {
    try {
      return await this.options.backups.tenant(caller, id);
    } catch (err) {
      if (err instanceof ApiError && err.code === "not_ready") throw new ApiError(409, "not_ready", `"${id}" is still being created; upload your database once it is ready`);
      throw err;
    }
  }

  /** The plan's limits for this instance: the zip's size, the dump and files uncompressed, the version. */
  private limitsOf(tenant: { plan: string; odooVersion: string }): { maxBytes: number; check: UploadLimits } {
    const ops = readOpsStack(this.options.opsStackFile);
    const plan = ops.platform.ok ? planNamed(ops.platform.config, tenant.plan) : undefined;
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
    return { ...view, phases: [...view.phases], ...(caller.isAdmin && detail !== undefined ? { detail } : {}) };
  }

  private phase(record: UploadRecord, phase: UploadView["phase"]): void {
    record.phase = phase;
    record.phases.push({ phase, at: new Date().toISOString() });
  }

  private finish(record: UploadRecord, state: UploadState, fields: { code?: string; message?: string; detail?: string } = {}): void {
    record.state = state;
    record.finishedAt = new Date().toISOString();
    Object.assign(record, fields);
  }

  async overview(caller: Caller, id: string): Promise<{ limit: UploadLimitView; uploads: UploadView[] }> {
    const tenant = await this.tenant(caller, id);
    const { maxBytes } = this.limitsOf(tenant);
    const uploads = [...(this.uploads.get(id) ?? [])].reverse().map((r) => this.view(r, caller));
    const available = !(this.options.restorer instanceof UnavailableUploadRestorer);
    return { limit: { available, maxBytes, maxText: formatSize(maxBytes), odooVersion: tenant.odooVersion }, uploads };
  }

  async status(caller: Caller, id: string, uploadId: string): Promise<UploadView> {
    await this.tenant(caller, id);
    const record = (this.uploads.get(id) ?? []).find((r) => r.id === uploadId);
    if (!record) throw notFound(`upload "${uploadId}"`);
    return this.view(record, caller);
  }

  /**
   * Receives and checks the upload; resolves with the accepted upload (restoring) or throws an
   * ApiError (refused: 4xx with the reason). The restore goes on after the answer.
   */
  async receive(caller: Caller, id: string, req: http.IncomingMessage): Promise<UploadView> {
    const tenant = await this.tenant(caller, id);
    if (this.options.restorer instanceof UnavailableUploadRestorer) {
      this.options.log.log("warn", "uploads: unavailable", { tenant: id, reason: this.options.restorer.reason });
      throw new ApiError(503, "uploads_unavailable", "uploading a database is not possible on this platform right now");
    }
    const kept = this.uploads.get(id) ?? [];
    if (kept.some((r) => r.state === "receiving" || r.state === "checking" || r.state === "restoring")) {
      throw new ApiError(409, "upload_in_progress", "a database is already being uploaded to this instance; wait until it is finished");
    }
    const limits = this.limitsOf(tenant);
    checkUploadHeaders(req, limits.maxBytes);

    const at = new Date().toISOString();
    const record: UploadRecord = {
      id: `up_${randomBytes(9).toString("base64url")}`, tenant: id, requestedBy: caller.sub, state: "receiving", phase: "receiving",
      receivedBytes: 0, startedAt: at, finishedAt: null, phases: [{ phase: "receiving", at }],
    };
    this.uploads.set(id, [...kept, record].slice(-KEPT_PER_TENANT));
    const dir = await fsp.mkdtemp(path.join(this.options.workDir ?? os.tmpdir(), "odoo-saas-upload-"));
    let handedOver = false;
    try {
      const received = await receiveUpload(req, dir, limits.maxBytes, (n) => (record.receivedBytes = n));
      record.state = "checking";
      this.phase(record, "checking-upload");
      try {
        await checkUploadedArchive(received.file, limits.check);
      } catch (err) {
        if (!(err instanceof UploadRefusedError)) throw err;
        this.finish(record, "refused", { code: err.code, message: err.message });
        this.options.log.log("info", "upload refused", { tenant: id, upload: record.id, code: err.code });
        throw new ApiError(422, err.code, err.message);
      }
      record.state = "restoring";
      this.phase(record, "starting");
      this.options.log.log("info", "upload accepted", { tenant: id, upload: record.id, bytes: received.bytes });
      handedOver = true;
      void this.restore(record, received.file, limits.check, dir);
      return this.view(record, caller);
    } catch (err) {
      if (record.finishedAt === null) {
        if (err instanceof ApiError) this.finish(record, "refused", { code: err.code, message: err.message });
        else this.finish(record, "failed", { message: `${RESTORE_FAILED} (reference ${record.id})`, detail: err instanceof Error ? err.message : String(err) });
      }
      throw err;
    } finally {
      if (!handedOver) await fsp.rm(dir, { recursive: true, force: true });
    }
  }

  private async restore(record: UploadRecord, file: string, limits: UploadLimits, dir: string): Promise<void> {
    let outcome: UploadOutcome;
    try {
      outcome = await this.options.restorer.restore({ tenant: record.tenant, file, limits }, (phase) => this.phase(record, phase));
    } catch (err) {
      outcome = { state: "failed", detail: err instanceof Error ? err.message : String(err) };
    } finally {
      await fsp.rm(dir, { recursive: true, force: true }).catch(() => undefined);
    }
    if (outcome.state === "restored") this.finish(record, "restored");
    else if (outcome.state === "refused") this.finish(record, "refused", { code: outcome.code, message: outcome.message });
    else if (outcome.state === "unknown") this.finish(record, "unknown", { message: outcome.reason, detail: outcome.detail });
    else this.finish(record, "failed", { message: `${RESTORE_FAILED} (reference ${record.id})`, detail: outcome.detail });
    this.options.log.log(outcome.state === "failed" ? "warn" : "info", `upload ${record.state}`, {
      tenant: record.tenant, upload: record.id, ...(record.code !== undefined ? { code: record.code } : {}),
      ...(outcome.state === "failed" || outcome.state === "unknown" ? { detail: outcome.detail.split("\n")[0] ?? "" } : {}),
    });
  }
}

/**
 * Where an accepted upload is restored, behind one small interface (as BackupAccess is for
 * reading backups), so the service stays the same whatever reaches the instance's database:
 *
 * - PgUploadRestorer (here): restoreUpload in this process, against a PostgreSQL and filestore
 *   folder this server reaches. The tests use it with a real PostgreSQL.
 * - KubernetesUploadRestorer (kube-upload-restorer.ts): inside the tenant's namespace, through a
 *   Job from its backup CronJob.
 *
 * An outcome says only what was observed: "unknown" when the restore could not be seen to
 * finish either way (the reason says why), never "restored" on hope.
 */
import type { PgConnection } from "../backup/config";
import type { UploadLimits } from "../backup/import/check-upload";
import { observeEmptiness, type Emptiness } from "../backup/import/emptiness";
import { UploadRefusedError } from "../backup/import/refusal";
import { restoreUpload, type UploadRestorePhase } from "../backup/import/restore-upload";

export type UploadPhase = UploadRestorePhase | "starting" | "waiting";

export type UploadOutcome =
  | { state: "restored" }
  | { state: "refused"; code: string; message: string }
  /** Broke for a reason on our side; `detail` is for the log only. */
  | { state: "failed"; detail: string }
  /** Not observed: neither done nor refused is known (the reason says why, in customer words). */
  | { state: "unknown"; reason: string; detail: string };

export interface UploadRestoreInput {
  tenant: string;
  /** The checked zip; the restorer only reads it (the service removes it afterwards). */
  file: string;
  limits: UploadLimits;
}

export interface UploadRestorer {
  restore(input: UploadRestoreInput, onPhase: (phase: UploadPhase) => void): Promise<UploadOutcome>;
  /**
   * Whether the instance is new or empty, observed before the body of an upload is read (so a
   * multi-gigabyte upload into an instance in use is refused at once). Absent: this restorer
   * cannot observe it from here, and only the restore itself does (it always does, again).
   */
  emptiness?(tenant: string): Promise<Emptiness>;
  /**
   * After this server's process died during a restore of `tenant`: puts back what the restore
   * had changed around the instance (Odoo's replicas), and says what it did, for the log.
   */
  recover?(tenant: string): Promise<string>;
}

/** Maps what restoreUpload threw to an outcome: its refusals are the customer's, the rest ours. */
export function outcomeOf(err: unknown): UploadOutcome {
  if (err instanceof UploadRefusedError) return { state: "refused", code: err.code, message: err.message };
  return { state: "failed", detail: err instanceof Error ? err.message : String(err) };
}

export interface PgUploadTarget {
  pg: PgConnection;
  filestoreDir: string;
}

export class PgUploadRestorer implements UploadRestorer {
  constructor(private readonly target: (tenant: string) => PgUploadTarget) {}

  async restore(input: UploadRestoreInput, onPhase: (phase: UploadPhase) => void): Promise<UploadOutcome> {
    try {
      const { pg, filestoreDir } = this.target(input.tenant);
      await restoreUpload(input.file, { pg, filestoreDir, limits: input.limits, onPhase });
      return { state: "restored" };
    } catch (err) {
      return outcomeOf(err);
    }
  }

  emptiness(tenant: string): Promise<Emptiness> {
    const { pg } = this.target(tenant);
    return observeEmptiness(pg, pg.database);
  }
}

/** No cluster: uploads are refused before anything is received (503). */
export class UnavailableUploadRestorer implements UploadRestorer {
  constructor(readonly reason: string) {}
  restore(): Promise<UploadOutcome> {
    return Promise.resolve({ state: "failed", detail: this.reason });
  }
}

/**
 * Owner uploads in PostgreSQL, so any server process answers for any upload, and an upload whose
 * process died is seen as such: each unfinished upload carries the process that runs it
 * (`node_id`) and that process's heartbeat. A new upload is admitted under the user's and then the
 * instance's advisory lock, in one transaction: at most one unfinished upload per instance, and
 * at most `perUser` per user, on all servers together.
 */
import type { RecordsStore } from "./records-store";
import { LOCK_CLASS } from "./schema";

export type UploadState = "receiving" | "checking" | "restoring" | "restored" | "refused" | "failed" | "unknown";

export interface UploadRecord {
  id: string;
  tenant: string;
  requestedBy: string;
  state: UploadState;
  phase: string;
  phases: { phase: string; at: string }[];
  receivedBytes: number;
  startedAt: string;
  finishedAt: string | null;
  code?: string;
  message?: string;
  /** Administrators only. */
  detail?: string;
}

export type Admission = "admitted" | "instance_busy" | "user_busy";

interface UploadRow {
  id: string;
  tenant_id: string;
  requested_by: string;
  state: UploadState;
  phase: string;
  phases: { phase: string; at: string }[];
  received_bytes: string;
  started_at: Date;
  finished_at: Date | null;
  code: string | null;
  message: string | null;
  detail: string | null;
}

const COLUMNS = "id, tenant_id, requested_by, state, phase, phases, received_bytes, started_at, finished_at, code, message, detail";

function fromRow(row: UploadRow): UploadRecord {
  return {
    id: row.id,
    tenant: row.tenant_id,
    requestedBy: row.requested_by,
    state: row.state,
    phase: row.phase,
    phases: row.phases,
    receivedBytes: Number(row.received_bytes),
    startedAt: row.started_at.toISOString(),
    finishedAt: row.finished_at ? row.finished_at.toISOString() : null,
    ...(row.code !== null ? { code: row.code } : {}),
    ...(row.message !== null ? { message: row.message } : {}),
    ...(row.detail !== null ? { detail: row.detail } : {}),
  };
}

export class UploadRecords {
  /** `nodeId`: this process (the one whose heartbeat keeps its uploads alive). */
  constructor(private readonly store: RecordsStore, readonly nodeId: string) {}

  /** Records a new upload unless the instance or the user has too many unfinished; keeps the newest `keep` per instance. */
  async admit(record: UploadRecord, perUser: number, keep: number): Promise<Admission> {
    return this.store.transaction(async (client) => {
      await client.query("select pg_advisory_xact_lock($1, hashtext($2))", [LOCK_CLASS.uploads, `user:${record.requestedBy}`]);
      await client.query("select pg_advisory_xact_lock($1, hashtext($2))", [LOCK_CLASS.uploads, `tenant:${record.tenant}`]);
      const busy = await client.query<{ busy_tenant: boolean; by_user: string }>(
        `select coalesce(bool_or(tenant_id = $1), false) as busy_tenant, count(*) filter (where requested_by = $2) as by_user
         from odoo_saas.uploads where finished_at is null and (tenant_id = $1 or requested_by = $2)`,
        [record.tenant, record.requestedBy],
      );
      if (busy.rows[0]?.busy_tenant) return "instance_busy";
      if (Number(busy.rows[0]?.by_user ?? 0) >= perUser) return "user_busy";
      await client.query(
        `insert into odoo_saas.uploads (id, tenant_id, requested_by, state, phase, phases, received_bytes, started_at, node_id)
         values ($1, $2, $3, $4, $5, $6::jsonb, 0, $7, $8)`,
        [record.id, record.tenant, record.requestedBy, record.state, record.phase, JSON.stringify(record.phases), record.startedAt, this.nodeId],
      );
      await client.query(
        `delete from odoo_saas.uploads where tenant_id = $1 and finished_at is not null and id not in
           (select id from odoo_saas.uploads where tenant_id = $1 order by started_at desc limit $2)`,
        [record.tenant, keep],
      );
      return "admitted";
    });
  }

  /** A new phase (and state); only while unfinished. */
  async phase(id: string, phase: string, state?: UploadState): Promise<void> {
    await this.store.pool.query(
      `update odoo_saas.uploads set phase = $2, state = coalesce($3, state), heartbeat_at = now(),
         phases = phases || jsonb_build_array(jsonb_build_object('phase', $2::text, 'at', $4::text))
       where id = $1 and finished_at is null`,
      [id, phase, state ?? null, new Date().toISOString()],
    );
  }

  async received(id: string, bytes: number): Promise<void> {
    await this.store.pool.query("update odoo_saas.uploads set received_bytes = $2 where id = $1 and finished_at is null", [id, bytes]);
  }

  /** The outcome, once: a finished upload is never changed again. */
  async finish(id: string, state: UploadState, fields: { code?: string; message?: string; detail?: string } = {}): Promise<boolean> {
    const { rowCount } = await this.store.pool.query(
      "update odoo_saas.uploads set state = $2, finished_at = now(), code = $3, message = $4, detail = $5 where id = $1 and finished_at is null",
      [id, state, fields.code ?? null, fields.message ?? null, fields.detail ?? null],
    );
    return rowCount === 1;
  }

  /** Newest first. */
  async list(tenant: string, limit: number): Promise<UploadRecord[]> {
    const { rows } = await this.store.pool.query<UploadRow>(
      `select ${COLUMNS} from odoo_saas.uploads where tenant_id = $1 order by started_at desc, id limit $2`,
      [tenant, limit],
    );
    return rows.map(fromRow);
  }

  async get(tenant: string, id: string): Promise<UploadRecord | undefined> {
    const { rows } = await this.store.pool.query<UploadRow>(`select ${COLUMNS} from odoo_saas.uploads where tenant_id = $1 and id = $2`, [tenant, id]);
    return rows[0] ? fromRow(rows[0]) : undefined;
  }

  /** This process is alive: its unfinished uploads' heartbeat. */
  async heartbeat(): Promise<void> {
    await this.store.pool.query("update odoo_saas.uploads set heartbeat_at = now() where node_id = $1 and finished_at is null", [this.nodeId]);
  }

  /**
   * Unfinished uploads whose process has not beaten for `staleMs` (it died), claimed by this one
   * in the same statement (their heartbeat set to now, their process left as it was): two live
   * processes never both settle one upload, and one this process could not settle becomes
   * claimable again, by any process, once stale again.
   */
  async claimOrphans(staleMs: number): Promise<UploadRecord[]> {
    const { rows } = await this.store.pool.query<UploadRow>(
      `update odoo_saas.uploads set heartbeat_at = now()
       where finished_at is null and node_id <> $1 and heartbeat_at < now() - $2::interval
       returning ${COLUMNS}`,
      [this.nodeId, `${Math.ceil(staleMs)} milliseconds`],
    );
    return rows.map(fromRow);
  }
}

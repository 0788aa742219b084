/**
 * The signup server's records in PostgreSQL: tenants and operations. Every request is
 * recorded, decided and queued in one transaction: uniqueness of the id and the per-owner
 * limit are decided under advisory locks (owner, then tenant id), so two server processes
 * on one database cannot both accept one id or an owner's instance past the limit; the
 * graphile-worker job is added in the same transaction (queued if and only if recorded).
 */
import { Pool, type PoolClient } from "pg";
import { Logger as WorkerLogger, runMigrations } from "graphile-worker";
import { DEFAULT_MAX_ATTEMPTS, enqueueOperation } from "../queue/enqueue";
import { logContext } from "../log";
import { appendEvent } from "./event-log";
import { OPERATION_COLUMNS, operationFromRow, TENANT_COLUMNS, tenantFromRow, type OperationRow, type TenantRow } from "./rows";
import { LOCK_CLASS, migrate } from "./schema";
import { withTransaction } from "./transaction";
import type { OperationRecord, TenantRecord } from "./types";

export interface RecordsStoreOptions {
  /** Attempts per operation's job (default DEFAULT_MAX_ATTEMPTS). */
  maxAttempts?: number;
  /** Pool size (default 10). */
  maxConnections?: number;
}

/**
 * Decides inside the transaction; throws (e.g. an ApiError) to refuse, and nothing is written.
 * `holding`: the owner's tenants that hold storage (pending, active, and retired ones whose
 * data is kept until purge), for the storage limit.
 */
export type SignupCheck = (existing: Readonly<TenantRecord> | undefined, ownedActive: number, holding: readonly Readonly<TenantRecord>[]) => void;
export type RequestCheck = (tenant: Readonly<TenantRecord>, pending: readonly Readonly<OperationRecord>[]) => void;

/** A tenant that counts against its owner's limit. */
const COUNTED = "state in ('pending', 'active')";
/** A tenant whose volumes exist or are about to (a failed create is rolled back: it holds none). */
const HOLDING = "state in ('pending', 'active', 'retired')";

export class RecordsStore {
  readonly maxAttempts: number;

  constructor(readonly pool: Pool, options: RecordsStoreOptions = {}) {
    this.maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  }

  /** Connects and migrates both schemas (graphile-worker's and ours); idempotent, safe for two processes at once. */
  static async open(connectionString: string, options: RecordsStoreOptions = {}): Promise<RecordsStore> {
    const pool = new Pool({ connectionString, max: options.maxConnections ?? 10 });
    // An idle client's error (the server restarted) must not crash the process; the next query reconnects.
    pool.on("error", () => undefined);
    pool.on("connect", (client) => client.on("error", () => undefined));
    try {
      await runMigrations({ pgPool: pool, logger: silentLogger() });
      await migrate(pool);
    } catch (err) {
      await pool.end();
      throw err;
    }
    return new RecordsStore(pool, options);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  transaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    return withTransaction(this.pool, work);
  }

  /** For /readyz. */
  async ping(): Promise<boolean> {
    try {
      await this.pool.query("select 1");
      return true;
    } catch {
      return false;
    }
  }

  async tenant(id: string): Promise<TenantRecord | undefined> {
    const { rows } = await this.pool.query<TenantRow>(`select ${TENANT_COLUMNS} from odoo_saas.tenants where id = $1`, [id]);
    return rows[0] ? tenantFromRow(rows[0]) : undefined;
  }

  /** Tenants, oldest first; only the owner's with `ownerId`. */
  async tenants(ownerId?: string): Promise<TenantRecord[]> {
    const { rows } = ownerId === undefined
      ? await this.pool.query<TenantRow>(`select ${TENANT_COLUMNS} from odoo_saas.tenants order by created_at, id`)
      : await this.pool.query<TenantRow>(`select ${TENANT_COLUMNS} from odoo_saas.tenants where owner_id = $1 order by created_at, id`, [ownerId]);
    return rows.map(tenantFromRow);
  }

  /**
   * Purge: forgets a retired tenant (its operations, their events, its backup requests and uploads),
   * which frees its id. Refuses any other state: only retired tenants have nothing running.
   */
  async forgetRetired(id: string): Promise<boolean> {
    return this.transaction(async (client) => {
      await this.lock(client, "tenant", id);
      const { rows } = await client.query<{ state: string }>("select state from odoo_saas.tenants where id = $1 for update", [id]);
      if (rows[0]?.state !== "retired") return false;
      await client.query("delete from odoo_saas.operation_events where operation_id in (select id from odoo_saas.operations where tenant_id = $1)", [id]);
      await client.query("delete from odoo_saas.operations where tenant_id = $1", [id]);
      await client.query("delete from odoo_saas.backup_requests where tenant_id = $1", [id]);
      await client.query("delete from odoo_saas.uploads where tenant_id = $1", [id]);
      await client.query("delete from odoo_saas.tenants where id = $1", [id]);
      return true;
    });
  }

  async tenantIds(): Promise<string[]> {
    const { rows } = await this.pool.query<{ id: string }>("select id from odoo_saas.tenants order by created_at, id");
    return rows.map((r) => r.id);
  }

  /** Pending and active instances of one owner (what the limit counts). */
  async ownedCount(ownerId: string): Promise<number> {
    const { rows } = await this.pool.query<{ n: string }>(`select count(*) as n from odoo_saas.tenants where owner_id = $1 and ${COUNTED}`, [ownerId]);
    return Number(rows[0]?.n ?? 0);
  }

  async operation(id: string): Promise<OperationRecord | undefined> {
    const { rows } = await this.pool.query<OperationRow>(`select ${OPERATION_COLUMNS} from odoo_saas.operations where id = $1`, [id]);
    return rows[0] ? operationFromRow(rows[0]) : undefined;
  }

  /** Operations by id (one query for a listing's "last operation" of each tenant). */
  async operations(ids: readonly string[]): Promise<Map<string, OperationRecord>> {
    if (ids.length === 0) return new Map();
    const { rows } = await this.pool.query<OperationRow>(`select ${OPERATION_COLUMNS} from odoo_saas.operations where id = any($1::text[])`, [ids]);
    return new Map(rows.map((r) => [r.id, operationFromRow(r)]));
  }

  /** Queued and running operations, oldest first, per tenant (of the given tenants, or all). */
  async pendingOperations(tenantIds?: readonly string[]): Promise<Map<string, OperationRecord[]>> {
    const { rows } = tenantIds === undefined
      ? await this.pool.query<OperationRow>(`select ${OPERATION_COLUMNS} from odoo_saas.operations where status in ('queued', 'running') order by created_at, id`)
      : await this.pool.query<OperationRow>(
        `select ${OPERATION_COLUMNS} from odoo_saas.operations where status in ('queued', 'running') and tenant_id = any($1::text[]) order by created_at, id`,
        [tenantIds],
      );
    const byTenant = new Map<string, OperationRecord[]>();
    for (const row of rows) {
      const op = operationFromRow(row);
      byTenant.set(op.tenantId, [...(byTenant.get(op.tenantId) ?? []), op]);
    }
    return byTenant;
  }

  async recentOperations(limit: number): Promise<OperationRecord[]> {
    const { rows } = await this.pool.query<OperationRow>(`select ${OPERATION_COLUMNS} from odoo_saas.operations order by created_at desc, id desc limit $1`, [limit]);
    return rows.map(operationFromRow);
  }

  private async lock(client: PoolClient, kind: "owner" | "tenant", key: string): Promise<void> {
    await client.query("select pg_advisory_xact_lock($1, hashtext($2))", [LOCK_CLASS[kind], key]);
  }

  /** The request id comes from the operation, else from the request being served (log.ts's context). */
  private async insertOperation(client: PoolClient, op: OperationRecord): Promise<void> {
    await client.query(
      `insert into odoo_saas.operations (id, kind, tenant_id, owner_id, requested_by, status, created_at, attempts, request_id)
       values ($1, $2, $3, $4, $5, 'queued', $6, 0, $7)`,
      [op.id, op.kind, op.tenantId, op.ownerId, op.requestedBy, op.createdAt, op.requestId ?? logContext().requestId ?? null],
    );
    await appendEvent(client, op.id, { type: "queued" });
    await enqueueOperation(client, op, this.maxAttempts);
  }

  /**
   * A signup: `check` sees the existing record of the id (if any) and how many instances the
   * owner has, under the owner's and the id's locks; the tenant (new, or the owner's failed one
   * again) and its create operation are written and queued in the same transaction.
   */
  async createSignup(tenant: TenantRecord, op: OperationRecord, check: SignupCheck): Promise<TenantRecord> {
    return this.transaction(async (client) => {
      await this.lock(client, "owner", tenant.ownerId);
      await this.lock(client, "tenant", tenant.id);
      const found = await client.query<TenantRow>(`select ${TENANT_COLUMNS} from odoo_saas.tenants where id = $1`, [tenant.id]);
      const existing = found.rows[0] ? tenantFromRow(found.rows[0]) : undefined;
      const owned = await client.query<{ n: string }>(`select count(*) as n from odoo_saas.tenants where owner_id = $1 and ${COUNTED}`, [tenant.ownerId]);
      const holding = await client.query<TenantRow>(
        `select ${TENANT_COLUMNS} from odoo_saas.tenants where owner_id = $1 and ${HOLDING} order by created_at, id`, [tenant.ownerId]);
      check(existing, Number(owned.rows[0]?.n ?? 0), holding.rows.map(tenantFromRow));
      const { rows } = await client.query<TenantRow>(
        `insert into odoo_saas.tenants (id, owner_id, admin_email, plan, odoo_version, suspended, state, url, created_at, updated_at, last_operation_id, storage_bytes)
         values ($1, $2, $3, $4, $5, false, 'pending', null, $6, $7, $8, $9)
         on conflict (id) do update set owner_id = excluded.owner_id, admin_email = excluded.admin_email, plan = excluded.plan,
           odoo_version = excluded.odoo_version, suspended = false, state = 'pending', url = null, retired_at = null,
           updated_at = excluded.updated_at, last_operation_id = excluded.last_operation_id, storage_bytes = excluded.storage_bytes
         returning ${TENANT_COLUMNS}`,
        [tenant.id, tenant.ownerId, tenant.adminEmail, tenant.plan, tenant.odooVersion, tenant.createdAt, tenant.updatedAt, op.id, tenant.storageBytes ?? null],
      );
      await this.insertOperation(client, op);
      return tenantFromRow(rows[0] as TenantRow);
    });
  }

  /** suspend, resume or delete: `check` sees the tenant and its pending operations under the tenant's lock. */
  async request(op: OperationRecord, check: RequestCheck): Promise<TenantRecord> {
    return this.transaction(async (client) => {
      await this.lock(client, "tenant", op.tenantId);
      const found = await client.query<TenantRow>(`select ${TENANT_COLUMNS} from odoo_saas.tenants where id = $1`, [op.tenantId]);
      if (!found.rows[0]) throw new Error(`tenant ${op.tenantId} is not recorded`);
      const pending = await client.query<OperationRow>(
        `select ${OPERATION_COLUMNS} from odoo_saas.operations where tenant_id = $1 and status in ('queued', 'running') order by created_at, id`,
        [op.tenantId],
      );
      check(tenantFromRow(found.rows[0]), pending.rows.map(operationFromRow));
      const { rows } = await client.query<TenantRow>(
        `update odoo_saas.tenants set last_operation_id = $2, updated_at = $3 where id = $1 returning ${TENANT_COLUMNS}`,
        [op.tenantId, op.id, op.createdAt],
      );
      await this.insertOperation(client, op);
      return tenantFromRow(rows[0] as TenantRow);
    });
  }
}

/** graphile-worker's migration chatter is not ours to print. */
export function silentLogger(): WorkerLogger {
  return new WorkerLogger(() => () => undefined);
}

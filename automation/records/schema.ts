/**
 * The records' own schema (`odoo_saas`), created and migrated at start: numbered steps,
 * each applied once, under an advisory lock so two server processes starting together on
 * one database migrate it once. graphile-worker migrates its own schema (`graphile_worker`).
 */
import type { Pool } from "pg";
import { withTransaction } from "./transaction";

export const SCHEMA = "odoo_saas";
/** Advisory lock classes of this project, (class, key) with key = hashtext of an id; `stack` is a session lock (stack-lock.ts). */
export const LOCK_CLASS = { migrate: 7_401, owner: 7_402, tenant: 7_403, backups: 7_404, migrateStacks: 7_405, stack: 7_406, uploads: 7_410 } as const;

const STEPS: readonly string[] = [
  `create table odoo_saas.tenants (
     id text primary key,
     owner_id text not null,
     admin_email text not null,
     plan text not null,
     odoo_version text not null,
     suspended boolean not null default false,
     state text not null check (state in ('pending', 'active', 'failed', 'retired')),
     url text,
     created_at timestamptz not null,
     updated_at timestamptz not null,
     retired_at timestamptz,
     last_operation_id text not null
   );
   create index tenants_owner on odoo_saas.tenants (owner_id);
   create table odoo_saas.operations (
     id text primary key,
     kind text not null check (kind in ('create', 'suspend', 'resume', 'delete')),
     tenant_id text not null references odoo_saas.tenants (id),
     owner_id text not null,
     requested_by text not null,
     status text not null check (status in ('queued', 'running', 'succeeded', 'failed')),
     created_at timestamptz not null,
     started_at timestamptz,
     finished_at timestamptz,
     attempts integer not null default 0,
     error jsonb,
     details jsonb,
     worker_id text
   );
   create index operations_tenant on odoo_saas.operations (tenant_id, created_at);
   create index operations_unfinished on odoo_saas.operations (status) where status in ('queued', 'running');
   create index operations_created on odoo_saas.operations (created_at desc);
   create table odoo_saas.operation_events (
     operation_id text not null references odoo_saas.operations (id),
     seq integer not null,
     at timestamptz not null default now(),
     event jsonb not null,
     primary key (operation_id, seq)
   );
   create table odoo_saas.backup_requests (
     tenant_id text not null,
     at timestamptz not null,
     requested_by text not null,
     reference text,
     primary key (tenant_id, at, requested_by)
   );
   create table odoo_saas.workers (
     worker_id text primary key,
     node_id text not null,
     started_at timestamptz not null default now(),
     heartbeat_at timestamptz not null default now()
   );
   create index workers_node on odoo_saas.workers (node_id);`,
  // 2: owner uploads (upload-records.ts): unfinished ones carry the process that runs them and its
  // heartbeat, so another process can tell a dead one's upload and reconcile it.
  `create table odoo_saas.uploads (
     id text primary key,
     tenant_id text not null,
     requested_by text not null,
     state text not null check (state in ('receiving', 'checking', 'restoring', 'restored', 'refused', 'failed', 'unknown')),
     phase text not null,
     phases jsonb not null,
     received_bytes bigint not null default 0,
     started_at timestamptz not null,
     finished_at timestamptz,
     code text,
     message text,
     detail text,
     node_id text not null,
     heartbeat_at timestamptz not null default now()
   );
   create index uploads_tenant on odoo_saas.uploads (tenant_id, started_at desc);
   create index uploads_unfinished on odoo_saas.uploads (requested_by) where finished_at is null;`,
  // 3: download links shared by every server process: only a hash of the ticket is kept; single use.
  // Rate limits: one row per key and fixed window (rate-limits.ts).
  `create table odoo_saas.download_tickets (
     ticket_hash bytea primary key,
     tenant_id text not null,
     backup_name text not null,
     caller_sub text not null,
     caller_admin boolean not null,
     expires_at timestamptz not null
   );
   create index download_tickets_expiry on odoo_saas.download_tickets (expires_at);
   create table odoo_saas.rate_limits (
     key text not null,
     window_start timestamptz not null,
     used integer not null,
     primary key (key, window_start)
   );
   create index rate_limits_window on odoo_saas.rate_limits (window_start);`,
  // 4: the plan's storage (database + files, bytes) when signed up: what a deleted tenant's
  // kept volumes hold, counted toward its owner's storage limit until purge. Null for older
  // rows: their plan's current size is counted instead.
  `alter table odoo_saas.tenants add column storage_bytes bigint check (storage_bytes >= 0);`,
  // 5: the request id of the HTTP request that asked for an operation (log.ts): the queue's and
  // the engine's log lines of its runs carry it, so one signup's lines can be joined. Null for older rows.
  `alter table odoo_saas.operations add column request_id text;`,
];

export function migrate(pool: Pool): Promise<void> {
  return withTransaction(pool, async (client) => {
    await client.query("select pg_advisory_xact_lock($1, 0)", [LOCK_CLASS.migrate]);
    await client.query(`create schema if not exists ${SCHEMA}`);
    await client.query(`create table if not exists ${SCHEMA}.migrations (version integer primary key, applied_at timestamptz not null default now())`);
    const done = await client.query<{ version: number }>(`select version from ${SCHEMA}.migrations`);
    const applied = new Set(done.rows.map((r) => r.version));
    for (const [index, step] of STEPS.entries()) {
      const version = index + 1;
      if (applied.has(version)) continue;
      await client.query(step);
      await client.query(`insert into ${SCHEMA}.migrations (version) values ($1)`, [version]);
    }
  });
}

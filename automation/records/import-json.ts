/**
 * One-time import of the JSON store the server used before PostgreSQL
 * (`<ODOO_SAAS_STORE_DIR>/signups.json`): when the database has none of its tenants, its
 * tenants, operations and backup requests are copied in one transaction, unfinished
 * operations queued again, and the file renamed `signups.json.imported`. A database that
 * already has all of them (an import whose rename failed) only gets the rename; one with
 * some of them is left alone with a warning, for a person to look at.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { Logger } from "../log";
import { enqueueOperation } from "../queue/enqueue";
import { appendEvent } from "./event-log";
import type { RecordsStore } from "./records-store";
import { OPERATION_KINDS, type BackupRequestRecord, type OperationRecord, type TenantRecord } from "./types";

interface LegacyDocument {
  version: number;
  tenants?: Record<string, TenantRecord>;
  operations?: Record<string, OperationRecord>;
  backupRequests?: Record<string, BackupRequestRecord[]>;
}

export type ImportResult = { type: "none" } | { type: "imported"; tenants: number; operations: number } | { type: "already" } | { type: "conflict"; present: number; total: number };

function valuesOf<T>(map: Record<string, T> | undefined): T[] {
  // Object.values reads own properties only: a key such as "__proto__" is just an entry.
  return map === undefined ? [] : Object.values(map);
}

export async function importLegacyStore(store: RecordsStore, dir: string, log: Logger): Promise<ImportResult> {
  const file = path.join(dir, "signups.json");
  if (!fs.existsSync(file)) return { type: "none" };
  const doc = JSON.parse(fs.readFileSync(file, "utf8")) as LegacyDocument;
  if (doc.version !== 1) throw new Error(`${file}: unsupported store version ${String(doc.version)}`);
  const tenants = valuesOf(doc.tenants);
  const operations = valuesOf(doc.operations).filter((op) => OPERATION_KINDS.includes(op.kind));
  const ids = tenants.map((t) => t.id);
  const result = await store.transaction(async (client): Promise<ImportResult> => {
    const present = await client.query<{ n: string }>("select count(*) as n from odoo_saas.tenants where id = any($1::text[])", [ids]);
    const n = Number(present.rows[0]?.n ?? 0);
    if (n > 0) return n === ids.length ? { type: "already" } : { type: "conflict", present: n, total: ids.length };
    for (const t of tenants) {
      await client.query(
        `insert into odoo_saas.tenants (id, owner_id, admin_email, plan, odoo_version, suspended, state, url, created_at, updated_at, retired_at, last_operation_id)
         values ($1, $2, $3, $4, $5, $6, $7, null, $8, $9, $10, $11)`,
        [t.id, t.ownerId, t.adminEmail, t.plan, t.odooVersion, t.suspended, t.state, t.createdAt, t.updatedAt, t.retiredAt ?? null, t.lastOperationId],
      );
    }
    const known = new Set(ids);
    let count = 0;
    for (const op of operations.sort((a, b) => a.createdAt.localeCompare(b.createdAt))) {
      if (!known.has(op.tenantId)) continue;
      // Unfinished in the old server (queued, or running when it stopped): queued again here.
      const unfinished = op.status === "queued" || op.status === "running";
      await client.query(
        `insert into odoo_saas.operations (id, kind, tenant_id, owner_id, requested_by, status, created_at, started_at, finished_at, attempts, error)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb)`,
        [op.id, op.kind, op.tenantId, op.ownerId, op.requestedBy, unfinished ? "queued" : op.status, op.createdAt,
          op.startedAt ?? null, op.finishedAt ?? null, op.attempts, op.error ? JSON.stringify(op.error) : null],
      );
      if (unfinished) {
        await appendEvent(client, op.id, { type: "queued" });
        await enqueueOperation(client, op, store.maxAttempts);
      } else {
        await appendEvent(client, op.id, op.status === "succeeded" ? { type: "succeeded" } : { type: "failed", error: op.error ?? { code: "failed", message: "failed" } });
      }
      count++;
    }
    for (const [tenantId, requests] of Object.entries(doc.backupRequests ?? {})) {
      if (!known.has(tenantId)) continue;
      for (const r of requests) {
        await client.query(
          "insert into odoo_saas.backup_requests (tenant_id, at, requested_by, reference) values ($1, $2, $3, $4) on conflict do nothing",
          [tenantId, r.at, r.requestedBy, r.reference ?? null],
        );
      }
    }
    return { type: "imported", tenants: tenants.length, operations: count };
  });
  if (result.type === "conflict") {
    log.log("warn", `${file}: the database has ${result.present} of its ${result.total} tenants; not imported (compare them, then move the file away)`);
    return result;
  }
  fs.renameSync(file, `${file}.imported`);
  log.log("info", `imported ${file} into the database`, result.type === "imported" ? { tenants: result.tenants, operations: result.operations } : { already: true });
  return result;
}

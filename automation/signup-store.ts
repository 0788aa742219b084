/**
 * The signup server's durable store: self-service tenants, their operations and the stack
 * updates that ran them, in one JSON document written atomically (temporary file, fsync,
 * rename, fsync of the folder). Every mutation is persisted before it returns, so a request
 * is answered 202 only once its signup would survive a crash (kill -9, power loss).
 *
 * One server process per store: a lock file holding the owner's pid; a lock left by a dead
 * process (kill -9) is taken over.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { processAlive } from "./process-alive";

export type OperationKind = "create" | "suspend" | "resume" | "delete";
export type OperationStatus = "queued" | "running" | "succeeded" | "failed";
/**
 * pending: signup accepted, not yet applied; active: in the self-service stack's config;
 * failed: its create failed and it is not in the config; retired: deleted (data kept, id
 * stays reserved until purged).
 */
export type TenantState = "pending" | "active" | "failed" | "retired";

export interface TenantRecord {
  id: string;
  /** Supabase user id (`sub`) of the owner. */
  ownerId: string;
  adminEmail: string;
  plan: string;
  odooVersion: string;
  /** Applied value: changes only when a suspend/resume operation succeeded. */
  suspended: boolean;
  state: TenantState;
  createdAt: string;
  updatedAt: string;
  retiredAt?: string;
  lastOperationId: string;
}

export interface OperationError {
  code: string;
  message: string;
}

export interface OperationRecord {
  id: string;
  kind: OperationKind;
  tenantId: string;
  /** Owner of the tenant at the time of the request (ownership checks use it). */
  ownerId: string;
  /** `sub` of the caller (the owner, or an admin). */
  requestedBy: string;
  status: OperationStatus;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  /** The stack update that ran (or last tried) it. */
  updateId?: number;
  /** Times an update started with it (more than 1 after a restart mid-update). */
  attempts: number;
  error?: OperationError;
}

export interface UpdateRecord {
  id: number;
  /** batch: runs queued operations; reconcile: brings the stack back to the applied state after a failure. */
  kind: "batch" | "reconcile";
  startedAt: string;
  finishedAt?: string;
  operationIds: string[];
  /** interrupted: the server died during the update (found so at the next start). */
  result: "running" | "succeeded" | "failed" | "interrupted";
  changes?: Record<string, number>;
  /** Engine errors not attributable to one tenant (sanitised): for admins, not for customers. */
  errors?: string[];
}

/** An owner's (or admin's) "back up now", kept for the per-tenant daily limit. */
export interface BackupRequestRecord {
  at: string;
  requestedBy: string;
  /** What the cluster was given (set once it accepted the request). */
  reference?: string;
}

export interface StoreDocument {
  version: 1;
  nextUpdateId: number;
  tenants: Record<string, TenantRecord>;
  operations: Record<string, OperationRecord>;
  updates: UpdateRecord[];
  /** Per tenant, today's and recent on-demand backup requests (absent in older files). */
  backupRequests: Record<string, BackupRequestRecord[]>;
}

const MAX_UPDATES_KEPT = 500;

export class StoreLockedError extends Error {}

/**
 * Tenants and operations are keyed by ids from requests: null-prototype maps, so an id such
 * as "constructor" is only ever its own entry.
 */
function dictionary<T>(from: Record<string, T> = {}): Record<string, T> {
  return Object.assign(Object.create(null) as Record<string, T>, from);
}

function emptyDocument(): StoreDocument {
  return { version: 1, nextUpdateId: 1, tenants: dictionary(), operations: dictionary(), updates: [], backupRequests: dictionary() };
}

export function newOperationId(): string {
  return `op_${crypto.randomBytes(12).toString("base64url")}`;
}

export class SignupStore {
  readonly file: string;
  private readonly lockFile: string;
  private doc: StoreDocument;
  private locked = false;

  constructor(readonly dir: string) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.file = path.join(dir, "signups.json");
    this.lockFile = path.join(dir, "server.lock");
    this.acquireLock();
    try {
      this.doc = this.load();
    } catch (err) {
      this.close();
      throw err;
    }
  }

  private acquireLock(): void {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        fs.writeFileSync(this.lockFile, `${process.pid}\n`, { flag: "wx", mode: 0o600 });
        this.locked = true;
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
        const owner = Number.parseInt(fs.readFileSync(this.lockFile, "utf8"), 10);
        if (Number.isInteger(owner) && owner !== process.pid && processAlive(owner)) {
          throw new StoreLockedError(`the signup store ${this.dir} is in use by process ${owner}; one server per store`);
        }
        // Left behind by a process that died (kill -9): take it over.
        fs.rmSync(this.lockFile, { force: true });
      }
    }
    throw new StoreLockedError(`could not lock the signup store ${this.dir}`);
  }

  private load(): StoreDocument {
    let text: string;
    try {
      text = fs.readFileSync(this.file, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return emptyDocument();
      throw err;
    }
    const doc = JSON.parse(text) as StoreDocument;
    if (doc.version !== 1) throw new Error(`${this.file}: unsupported store version ${String(doc.version)}`);
    return { ...doc, tenants: dictionary(doc.tenants), operations: dictionary(doc.operations), backupRequests: dictionary(doc.backupRequests ?? {}) };
  }

  private persist(): void {
    const tmp = `${this.file}.tmp`;
    const fd = fs.openSync(tmp, "w", 0o600);
    try {
      fs.writeFileSync(fd, JSON.stringify(this.doc));
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, this.file);
    // The rename itself must reach the disk too.
    const dirFd = fs.openSync(this.dir, "r");
    try {
      fs.fsyncSync(dirFd);
    } finally {
      fs.closeSync(dirFd);
    }
  }

  /**
   * Runs `change` on the document and persists it before returning. When `change` throws
   * (e.g. a 409 decided inside it) or the write fails, the document is left as it was.
   */
  mutate<T>(change: (doc: StoreDocument) => T): T {
    if (!this.locked) throw new Error("the signup store is closed");
    const before = structuredClone(this.doc);
    try {
      const result = change(this.doc);
      if (this.doc.updates.length > MAX_UPDATES_KEPT) this.doc.updates.splice(0, this.doc.updates.length - MAX_UPDATES_KEPT);
      this.persist();
      return result;
    } catch (err) {
      this.doc = before;
      throw err;
    }
  }

  get document(): Readonly<StoreDocument> {
    return this.doc;
  }

  tenant(id: string): Readonly<TenantRecord> | undefined {
    return Object.hasOwn(this.doc.tenants, id) ? this.doc.tenants[id] : undefined;
  }

  operation(id: string): Readonly<OperationRecord> | undefined {
    return Object.hasOwn(this.doc.operations, id) ? this.doc.operations[id] : undefined;
  }

  backupRequestsOf(tenantId: string): readonly Readonly<BackupRequestRecord>[] {
    return Object.hasOwn(this.doc.backupRequests, tenantId) ? (this.doc.backupRequests[tenantId] ?? []) : [];
  }

  tenants(): Readonly<TenantRecord>[] {
    return Object.values(this.doc.tenants).sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }

  /** Operations with the given status, oldest first. */
  operationsWith(...statuses: OperationStatus[]): Readonly<OperationRecord>[] {
    return Object.values(this.doc.operations)
      .filter((op) => statuses.includes(op.status))
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }

  /** Pending (queued or running) operations of one tenant, oldest first. */
  pendingOperationsOf(tenantId: string): Readonly<OperationRecord>[] {
    return this.operationsWith("queued", "running").filter((op) => op.tenantId === tenantId);
  }

  updates(): readonly Readonly<UpdateRecord>[] {
    return this.doc.updates;
  }

  /** For /readyz: can we still write and fsync in the store's folder? */
  writable(): boolean {
    const probe = path.join(this.dir, `.probe-${process.pid}`);
    try {
      const fd = fs.openSync(probe, "w", 0o600);
      try {
        fs.writeFileSync(fd, "ok");
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      fs.rmSync(probe, { force: true });
      return true;
    } catch {
      return false;
    }
  }

  close(): void {
    if (!this.locked) return;
    this.locked = false;
    try {
      const owner = Number.parseInt(fs.readFileSync(this.lockFile, "utf8"), 10);
      if (owner === process.pid) fs.rmSync(this.lockFile, { force: true });
    } catch {
      // already gone
    }
  }
}

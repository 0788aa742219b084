/**
 * The owner's Odoo login, read from the tenant's stack once per version of its record and kept
 * in this process's memory: reading the stack's outputs runs engine processes, and the answer
 * cannot change until the tenant's next operation (which changes `lastOperationId` when it is
 * requested and `updatedAt` when it is applied). Concurrent reads of one tenant share one read.
 * Nothing here is logged; a failed or empty read is not kept.
 */
import type { TenantRecord } from "./records/types";

export interface Credentials {
  url: string;
  login: string;
  password: string;
}

export class CredentialsCache {
  private readonly entries = new Map<string, { version: string; value: Promise<Credentials | undefined> }>();

  constructor(private readonly read: (tenantId: string) => Promise<Credentials | undefined>, private readonly maxEntries = 10_000) {}

  get(tenant: Pick<TenantRecord, "id" | "lastOperationId" | "updatedAt" | "state">): Promise<Credentials | undefined> {
    const version = `${tenant.lastOperationId}|${tenant.updatedAt}|${tenant.state}`;
    const cached = this.entries.get(tenant.id);
    if (cached?.version === version) return cached.value;
    const value = this.read(tenant.id);
    this.entries.delete(tenant.id);
    // Oldest first out: Map keeps insertion order.
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    const entry = { version, value };
    this.entries.set(tenant.id, entry);
    const forget = (): void => {
      if (this.entries.get(tenant.id) === entry) this.entries.delete(tenant.id);
    };
    value.then((found) => {
      if (found === undefined) forget();
    }, forget);
    return value;
  }

  /** How many reads are kept (tests). */
  get size(): number {
    return this.entries.size;
  }
}

/**
 * Operation progress persisted in PostgreSQL (`odoo_saas.operation_events`) and announced
 * with NOTIFY, so an SSE client on one server process follows an operation another process
 * runs. Each subscription reads what is new after its last seq when a notice arrives, and
 * also every `pollMs` (a notice lost with a dropped connection delays, never loses, an entry).
 */
import type { ClientBase, Pool, PoolClient } from "pg";
import { isTerminal, MAX_ENTRIES_PER_OPERATION, type OperationEvents, type ProgressEntry, type ProgressEvent, type ProgressListener } from "../operation-events";
import type { Logger } from "../log";

export const EVENTS_CHANNEL = "odoo_saas_events";

/**
 * Appends one entry with the next seq, unless the operation already ended or (except for the
 * terminal event) has its maximum of entries; notifies listeners at commit.
 */
export async function appendEvent(client: Pool | ClientBase, operationId: string, event: ProgressEvent): Promise<void> {
  await client.query(
    `with next as (
       select coalesce(max(seq), 0) + 1 as seq, count(*) as n,
              bool_or(event->>'type' in ('succeeded', 'failed')) as done
       from odoo_saas.operation_events where operation_id = $1
     ), added as (
       insert into odoo_saas.operation_events (operation_id, seq, event)
       select $1, next.seq, $2::jsonb from next
       where not coalesce(next.done, false) and ($3 or next.n < $4)
       returning seq
     )
     select pg_notify('${EVENTS_CHANNEL}', $1) from added`,
    [operationId, JSON.stringify(event), isTerminal(event), MAX_ENTRIES_PER_OPERATION],
  );
}

interface Subscription {
  operationId: string;
  lastSeq: number;
  listener: ProgressListener;
  reading: Promise<void>;
  closed: boolean;
}

function entryOf(row: { seq: number; at: Date; event: ProgressEvent }): ProgressEntry {
  return { seq: row.seq, at: row.at.toISOString(), event: row.event };
}

export class PgOperationEvents implements OperationEvents {
  private readonly subscriptions = new Map<string, Set<Subscription>>();
  /** Appends of one operation in order (a runner's progress callback does not wait). */
  private readonly chains = new Map<string, Promise<void>>();
  private listenClient: PoolClient | undefined;
  private poll: NodeJS.Timeout | undefined;

  constructor(private readonly pool: Pool, private readonly log: Logger, private readonly pollMs = 2_000) {}

  /** One LISTEN connection per process. */
  async start(): Promise<void> {
    const client = await this.pool.connect();
    client.on("notification", (msg) => {
      if (msg.channel === EVENTS_CHANNEL && msg.payload !== undefined) this.wake(msg.payload);
    });
    client.on("error", (err) => this.log.log("warn", `event notices: ${err.message}`));
    await client.query(`listen ${EVENTS_CHANNEL}`);
    this.listenClient = client;
    this.poll = setInterval(() => {
      for (const id of this.subscriptions.keys()) this.wake(id);
    }, this.pollMs);
  }

  async stop(): Promise<void> {
    if (this.poll) clearInterval(this.poll);
    await Promise.all([...this.chains.values()]);
    const client = this.listenClient;
    this.listenClient = undefined;
    if (client) {
      await client.query(`unlisten ${EVENTS_CHANNEL}`).catch(() => undefined);
      client.release();
    }
  }

  append(operationId: string, event: ProgressEvent): Promise<void> {
    const previous = this.chains.get(operationId) ?? Promise.resolve();
    const next = previous.then(() => this.appendWithRetry(operationId, event)).catch((err: unknown) => {
      this.log.log("warn", `progress of ${operationId} not recorded: ${(err as Error).message}`);
    });
    this.chains.set(operationId, next);
    void next.then(() => {
      if (this.chains.get(operationId) === next) this.chains.delete(operationId);
    });
    return next;
  }

  private async appendWithRetry(operationId: string, event: ProgressEvent): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await appendEvent(this.pool, operationId, event);
        return;
      } catch (err) {
        // Two processes appending to one operation at once (a recovering worker): take the next seq.
        if ((err as { code?: string }).code !== "23505" || attempt >= 5) throw err;
      }
    }
  }

  /** Resolves when every append of the operation so far is persisted. */
  async flush(operationId: string): Promise<void> {
    await this.chains.get(operationId);
  }

  async history(operationId: string, afterSeq = 0): Promise<ProgressEntry[]> {
    const { rows } = await this.pool.query<{ seq: number; at: Date; event: ProgressEvent }>(
      "select seq, at, event from odoo_saas.operation_events where operation_id = $1 and seq > $2 order by seq",
      [operationId, afterSeq],
    );
    return rows.map(entryOf);
  }

  subscribe(operationId: string, afterSeq: number, listener: ProgressListener): () => void {
    const sub: Subscription = { operationId, lastSeq: afterSeq, listener, reading: Promise.resolve(), closed: false };
    let set = this.subscriptions.get(operationId);
    if (!set) {
      set = new Set();
      this.subscriptions.set(operationId, set);
    }
    set.add(sub);
    this.read(sub);
    return () => {
      sub.closed = true;
      set.delete(sub);
      if (set.size === 0 && this.subscriptions.get(operationId) === set) this.subscriptions.delete(operationId);
    };
  }

  private wake(operationId: string): void {
    for (const sub of this.subscriptions.get(operationId) ?? []) this.read(sub);
  }

  private read(sub: Subscription): void {
    sub.reading = sub.reading.then(async () => {
      if (sub.closed) return;
      const entries = await this.history(sub.operationId, sub.lastSeq);
      for (const entry of entries) {
        if (sub.closed) return;
        sub.lastSeq = entry.seq;
        sub.listener(entry);
      }
    }).catch((err: unknown) => this.log.log("warn", `progress of ${sub.operationId} not read: ${(err as Error).message}`));
  }
}

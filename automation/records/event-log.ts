/**
 * Operation progress persisted in PostgreSQL (`odoo_saas.operation_events`) and announced
 * with NOTIFY, so an SSE client on one server process follows an operation another process
 * runs (see PgOperationEvents for what live streams cost the database).
 */
import { Client, Pool, type ClientBase } from "pg";
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
  lastSeq: number;
  listener: ProgressListener;
  closed: boolean;
}

/** The subscribers of one operation: one read per notice, fanned out to each of them. */
interface Watch {
  subs: Set<Subscription>;
  reading: Promise<void>;
}

function entryOf(row: { seq: number; at: Date; event: ProgressEvent }): ProgressEntry {
  return { seq: row.seq, at: row.at.toISOString(), event: row.event };
}

export interface PgOperationEventsOptions {
  /** Connections of the reads for subscribers (their own pool, apart from the queue's; default 2). */
  readConnections?: number;
}

/**
 * Live progress for any number of SSE streams at a fixed cost to the database: one LISTEN
 * connection of its own (reconnected when it drops), one read per notice and operation shared
 * by all its streams, and one query every `pollMs` for all of them together (a notice lost while
 * the connection was down delays an entry, never loses it). These reads use a small pool of
 * their own, so streams never take the connections the queue's workers and heartbeats use.
 */
export class PgOperationEvents implements OperationEvents {
  private readonly watches = new Map<string, Watch>();
  /** Appends of one operation in order (a runner's progress callback does not wait). */
  private readonly chains = new Map<string, Promise<void>>();
  /** Reads: the pool of its own once started (before that, and for a writer that never starts, the given one). */
  private readPool: Pool;
  private ownReads: Pool | undefined;
  private listenClient: Client | undefined;
  private poll: NodeJS.Timeout | undefined;
  private reconnect: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly pool: Pool, private readonly log: Logger, private readonly pollMs = 2_000, private readonly options: PgOperationEventsOptions = {}) {
    this.readPool = pool;
  }

  /** The LISTEN connection and the read pool (both its own, not the given pool's) and the shared poll. */
  async start(): Promise<void> {
    this.stopped = false;
    const reads = new Pool({ ...this.pool.options, max: this.options.readConnections ?? 2 });
    reads.on("error", () => undefined);
    this.ownReads = reads;
    this.readPool = reads;
    try {
      await this.listen();
    } catch (err) {
      this.readPool = this.pool;
      this.ownReads = undefined;
      await reads.end().catch(() => undefined);
      throw err;
    }
    this.poll = setInterval(() => void this.pollAll(), this.pollMs);
  }

  private async listen(): Promise<void> {
    const client = new Client(this.pool.options);
    const lost = (why: string): void => {
      if (this.listenClient !== client) return;
      this.listenClient = undefined;
      client.end().catch(() => undefined);
      if (this.stopped) return;
      this.log.log("warn", `event notices: ${why}; listening again`);
      this.reconnect = setTimeout(() => {
        this.listen().then(() => this.pollAll(), () => lost("cannot connect"));
      }, 1_000);
    };
    client.on("notification", (msg) => {
      if (msg.channel === EVENTS_CHANNEL && msg.payload !== undefined) this.wake(msg.payload);
    });
    client.on("error", (err) => lost(err.message));
    client.on("end", () => lost("connection ended"));
    this.listenClient = client;
    try {
      await client.connect();
      await client.query(`listen ${EVENTS_CHANNEL}`);
    } catch (err) {
      this.listenClient = undefined;
      await client.end().catch(() => undefined);
      throw err;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.poll) clearInterval(this.poll);
    if (this.reconnect) clearTimeout(this.reconnect);
    await Promise.all([...this.chains.values()]);
    const client = this.listenClient;
    this.listenClient = undefined;
    await client?.end().catch(() => undefined);
    await Promise.all([...this.watches.values()].map((w) => w.reading));
    this.readPool = this.pool;
    await this.ownReads?.end().catch(() => undefined);
    this.ownReads = undefined;
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
    const { rows } = await this.readPool.query<{ seq: number; at: Date; event: ProgressEvent }>(
      "select seq, at, event from odoo_saas.operation_events where operation_id = $1 and seq > $2 order by seq",
      [operationId, afterSeq],
    );
    return rows.map(entryOf);
  }

  subscribe(operationId: string, afterSeq: number, listener: ProgressListener): () => void {
    const sub: Subscription = { lastSeq: afterSeq, listener, closed: false };
    let watch = this.watches.get(operationId);
    if (!watch) {
      watch = { subs: new Set(), reading: Promise.resolve() };
      this.watches.set(operationId, watch);
    }
    const mine = watch;
    mine.subs.add(sub);
    this.wake(operationId);
    return () => {
      sub.closed = true;
      mine.subs.delete(sub);
      if (mine.subs.size === 0 && this.watches.get(operationId) === mine) this.watches.delete(operationId);
    };
  }

  /** Open subscriptions (tests: streams that ended leave none behind). */
  get subscriptionCount(): number {
    let n = 0;
    for (const watch of this.watches.values()) n += watch.subs.size;
    return n;
  }

  /** One query for every watched operation: wakes those with entries some subscriber has not seen. */
  private async pollAll(): Promise<void> {
    const ids = [...this.watches.keys()];
    if (ids.length === 0) return;
    try {
      const { rows } = await this.readPool.query<{ operation_id: string; seq: number }>(
        "select operation_id, max(seq) as seq from odoo_saas.operation_events where operation_id = any($1) group by operation_id",
        [ids],
      );
      for (const row of rows) {
        const watch = this.watches.get(row.operation_id);
        if (watch && [...watch.subs].some((sub) => sub.lastSeq < row.seq)) this.wake(row.operation_id);
      }
    } catch (err) {
      this.log.log("warn", `progress not polled: ${(err as Error).message}`);
    }
  }

  private wake(operationId: string): void {
    const watch = this.watches.get(operationId);
    if (!watch) return;
    watch.reading = watch.reading.then(async () => {
      const subs = [...watch.subs].filter((sub) => !sub.closed);
      if (subs.length === 0) return;
      const from = Math.min(...subs.map((sub) => sub.lastSeq));
      const { rows } = await this.readPool.query<{ seq: number; at: Date; event: ProgressEvent }>(
        "select seq, at, event from odoo_saas.operation_events where operation_id = $1 and seq > $2 order by seq",
        [operationId, from],
      );
      for (const entry of rows.map(entryOf)) {
        for (const sub of subs) {
          if (sub.closed || entry.seq <= sub.lastSeq) continue;
          sub.lastSeq = entry.seq;
          sub.listener(entry);
        }
      }
    }).catch((err: unknown) => this.log.log("warn", `progress of ${operationId} not read: ${(err as Error).message}`));
  }
}

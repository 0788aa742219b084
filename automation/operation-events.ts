/**
 * Progress of each operation as small JSON messages, kept in memory for late subscribers
 * (the Server-Sent Events endpoint replays what happened so far, then streams live ones).
 * Messages carry no secrets and nothing about other tenants: the stack operator forwards
 * only the steps and diagnostics it attributed to the operation's own tenant.
 */
import type { OperationError } from "./signup-store";

export type ProgressEvent =
  | { type: "queued" }
  | { type: "recovering"; message: string }
  | { type: "started"; update: number; operations: number }
  | { type: "step"; status: "started" | "finished" | "failed"; op: string; resource: string; kind: string }
  | { type: "diagnostic"; severity: "error" | "warning"; message: string }
  | { type: "summary"; changes: Record<string, number>; durationSeconds?: number }
  | { type: "succeeded" }
  | { type: "failed"; error: OperationError };

export interface ProgressEntry {
  /** 1, 2, 3, ... per operation: the SSE event id (Last-Event-ID resumes after it). */
  seq: number;
  at: string;
  event: ProgressEvent;
}

type Listener = (entry: ProgressEntry) => void;

interface Log {
  entries: ProgressEntry[];
  nextSeq: number;
  done: boolean;
  listeners: Set<Listener>;
}

const MAX_ENTRIES_PER_OPERATION = 2_000;
const MAX_OPERATIONS_KEPT = 5_000;

export function isTerminal(event: ProgressEvent): boolean {
  return event.type === "succeeded" || event.type === "failed";
}

export class OperationEvents {
  private readonly logs = new Map<string, Log>();

  private log(operationId: string): Log {
    let log = this.logs.get(operationId);
    if (!log) {
      log = { entries: [], nextSeq: 1, done: false, listeners: new Set() };
      this.logs.set(operationId, log);
      this.prune();
    }
    return log;
  }

  private prune(): void {
    if (this.logs.size <= MAX_OPERATIONS_KEPT) return;
    for (const [id, log] of this.logs) {
      if (log.done && log.listeners.size === 0) this.logs.delete(id);
      if (this.logs.size <= MAX_OPERATIONS_KEPT) return;
    }
  }

  append(operationId: string, event: ProgressEvent): void {
    const log = this.log(operationId);
    if (log.done) return;
    const entry: ProgressEntry = { seq: log.nextSeq++, at: new Date().toISOString(), event };
    // A huge update must not grow memory without bound; the terminal event always fits.
    if (log.entries.length < MAX_ENTRIES_PER_OPERATION || isTerminal(event)) log.entries.push(entry);
    if (isTerminal(event)) log.done = true;
    for (const listener of [...log.listeners]) listener(entry);
    if (log.done) log.listeners.clear();
  }

  /** Entries after `afterSeq` (0: all of them). */
  history(operationId: string, afterSeq = 0): ProgressEntry[] {
    return (this.logs.get(operationId)?.entries ?? []).filter((entry) => entry.seq > afterSeq);
  }

  known(operationId: string): boolean {
    return this.logs.has(operationId);
  }

  done(operationId: string): boolean {
    return this.logs.get(operationId)?.done ?? false;
  }

  /** Live entries from now on; returns the unsubscribe function. */
  subscribe(operationId: string, listener: Listener): () => void {
    const log = this.log(operationId);
    if (log.done) return () => undefined;
    log.listeners.add(listener);
    return () => log.listeners.delete(listener);
  }
}

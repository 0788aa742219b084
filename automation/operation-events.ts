/**
 * Progress of each operation as small JSON messages, for the Server-Sent Events endpoint:
 * a late subscriber gets what happened so far, then live messages. Messages carry no
 * secrets and nothing about other tenants: the runner forwards only the steps and
 * diagnostics of the operation's own tenant. They are persisted (records/event-log.ts), so a
 * client on one server process sees an operation that another process runs.
 */
import type { OperationError } from "./records/types";

export type ProgressEvent =
  | { type: "queued" }
  | { type: "recovering"; message: string }
  | { type: "started"; attempt: number }
  | { type: "step"; status: "started" | "finished" | "failed"; op: string; resource: string; kind: string }
  | { type: "diagnostic"; severity: "error" | "warning"; message: string }
  | { type: "summary"; changes: Record<string, number>; durationSeconds?: number }
  /** A temporary failure (a locked stack, the API server away): the operation runs again after a pause. */
  | { type: "retrying"; attempt: number; error: OperationError }
  | { type: "succeeded" }
  | { type: "failed"; error: OperationError };

export interface ProgressEntry {
  /** 1, 2, 3, ... per operation: the SSE event id (Last-Event-ID resumes after it). */
  seq: number;
  at: string;
  event: ProgressEvent;
}

export type ProgressListener = (entry: ProgressEntry) => void;

export interface OperationEvents {
  /** Appends (persisted before it resolves); nothing is appended after a terminal event. */
  append(operationId: string, event: ProgressEvent): Promise<void>;
  /** Entries after `afterSeq` (0: all of them). */
  history(operationId: string, afterSeq?: number): Promise<ProgressEntry[]>;
  /** Entries after `afterSeq` as they are appended, by any process; returns the unsubscribe function. */
  subscribe(operationId: string, afterSeq: number, listener: ProgressListener): () => void;
}

export const MAX_ENTRIES_PER_OPERATION = 2_000;

export function isTerminal(event: ProgressEvent): boolean {
  return event.type === "succeeded" || event.type === "failed";
}

/**
 * A cap on open Server-Sent Events streams, per user and per server process: each stream holds
 * a connection and a subscription for as long as the client keeps it. Counted in this process
 * (a stream lives in one process; a restart frees them all), so "per user" is per user and
 * process. Over the user's cap: 429; over the server's: 503; both with Retry-After, and the
 * browser's EventSource tries again by itself.
 */
import { ApiError } from "./api-error";

export interface StreamCaps {
  /** Open streams one user may hold (default 10; env ODOO_SAAS_SSE_PER_USER). */
  perUser: number;
  /** Open streams this process serves (default 500; env ODOO_SAAS_SSE_PER_SERVER). */
  perServer: number;
}

export const DEFAULT_STREAM_CAPS: StreamCaps = { perUser: 10, perServer: 500 };

/** Seconds a refused client waits before trying again. */
export const STREAM_RETRY_SECONDS = 10;

export class StreamSlots {
  private readonly byUser = new Map<string, number>();
  private total = 0;

  constructor(readonly caps: StreamCaps = DEFAULT_STREAM_CAPS) {}

  /** Takes a slot for the user or throws 429/503; the returned function frees it (once). */
  open(user: string): () => void {
    const mine = this.byUser.get(user) ?? 0;
    const retry = { "Retry-After": String(STREAM_RETRY_SECONDS) };
    if (mine >= this.caps.perUser) {
      throw new ApiError(429, "too_many_streams", `you are following ${mine} operations at once, the most one account can; close a page that follows one and try again`, undefined, retry);
    }
    if (this.total >= this.caps.perServer) {
      throw new ApiError(503, "server_busy", "the server is following too many operations right now; please try again in a few seconds", undefined, retry);
    }
    this.byUser.set(user, mine + 1);
    this.total++;
    let open = true;
    return () => {
      if (!open) return;
      open = false;
      this.total--;
      const left = (this.byUser.get(user) ?? 1) - 1;
      if (left <= 0) this.byUser.delete(user);
      else this.byUser.set(user, left);
    };
  }

  /** Open streams in this process (tests). */
  get openCount(): number {
    return this.total;
  }
}

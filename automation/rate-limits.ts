/**
 * Bounds on requests that start expensive work (a reader Job, an engine run, a stack read):
 * a fixed window per action, counted per user and per tenant, in PostgreSQL so the bound holds
 * however many server processes share the database. A request takes one from both windows in
 * one transaction, or from neither (429 with Retry-After); what it took is given back when the
 * request is then refused for another reason, so a refusal costs the customer nothing.
 *
 * The tenant's window is only ever touched after the caller was found to be its owner or an
 * administrator (the services call `take` after their ownership check), so nobody can use up
 * another customer's allowance. Time is the database's, the same for every process.
 */
import type { Pool } from "pg";
import { withTransaction } from "./records/transaction";
import { ApiError } from "./api-error";
import type { Caller } from "./auth";

export type RateAction = "download" | "credentials" | "suspend-resume";

export interface RateRule {
  /** Requests per window, per user and per tenant. */
  limit: number;
  windowSeconds: number;
}

export type RateRules = Readonly<Record<RateAction, RateRule>>;

/** Defaults (env ODOO_SAAS_RATE_DOWNLOAD, ODOO_SAAS_RATE_CREDENTIALS, ODOO_SAAS_RATE_SUSPEND_RESUME as "<limit>/<seconds>"). */
export const DEFAULT_RATE_RULES: RateRules = {
  download: { limit: 20, windowSeconds: 600 },
  credentials: { limit: 30, windowSeconds: 600 },
  "suspend-resume": { limit: 6, windowSeconds: 3600 },
};

export const RATE_ENV: Readonly<Record<RateAction, string>> = {
  download: "ODOO_SAAS_RATE_DOWNLOAD",
  credentials: "ODOO_SAAS_RATE_CREDENTIALS",
  "suspend-resume": "ODOO_SAAS_RATE_SUSPEND_RESUME",
};

const WHAT: Readonly<Record<RateAction, string>> = {
  download: "backup downloads",
  credentials: "requests for the login details",
  "suspend-resume": "pauses and restarts",
};

/** "<limit>/<seconds>", e.g. "20/600"; undefined when the text is not that. */
export function parseRateRule(text: string): RateRule | undefined {
  const match = /^(\d{1,6})\/(\d{1,7})$/.exec(text.trim());
  if (!match) return undefined;
  const limit = Number(match[1]);
  const windowSeconds = Number(match[2]);
  return limit >= 1 && windowSeconds >= 1 ? { limit, windowSeconds } : undefined;
}

function waitWords(seconds: number): string {
  if (seconds < 90) return `${seconds} second${seconds === 1 ? "" : "s"}`;
  const minutes = Math.ceil(seconds / 60);
  return `${minutes} minutes`;
}

/** Gives back what `take` took (when the request is refused for another reason). */
export type GiveBack = () => Promise<void>;

export class RateLimits {
  private lastSweep = 0;

  constructor(private readonly pool: Pool, readonly rules: RateRules = DEFAULT_RATE_RULES) {}

  /** One from the user's and the tenant's window of `action`, or a 429 ApiError (nothing taken). */
  async take(action: RateAction, caller: Caller, tenant: string): Promise<GiveBack> {
    const rule = this.rules[action];
    const keys = [`${action}:user:${caller.sub}`, `${action}:tenant:${tenant}`];
    // A refusal (429) throws inside the transaction: it rolls back, so nothing is taken.
    const start = await withTransaction(this.pool, async (client) => {
      const { rows } = await client.query<{ at: number }>("select extract(epoch from now())::float8 as at");
      const at = rows[0]?.at ?? Date.now() / 1000;
      const startSeconds = Math.floor(at / rule.windowSeconds) * rule.windowSeconds;
      const windowStart = new Date(startSeconds * 1000);
      for (const key of keys) {
        const taken = await client.query(
          `insert into odoo_saas.rate_limits (key, window_start, used) values ($1, $2, 1)
           on conflict (key, window_start) do update set used = odoo_saas.rate_limits.used + 1
           where odoo_saas.rate_limits.used < $3
           returning used`,
          [key, windowStart, rule.limit],
        );
        if (taken.rowCount === 0) {
          const retry = Math.max(1, Math.ceil(startSeconds + rule.windowSeconds - at));
          throw new ApiError(429, "too_many_requests",
            `too many ${WHAT[action]} in a short time (at most ${rule.limit} in ${waitWords(rule.windowSeconds)}); you can try again in ${waitWords(retry)}`,
            undefined, { "Retry-After": String(retry) });
        }
      }
      return windowStart;
    });
    await this.sweep();
    return async () => {
      await this.pool.query(
        "update odoo_saas.rate_limits set used = used - 1 where key = any($1) and window_start = $2 and used > 0",
        [keys, start],
      );
    };
  }

  /** Windows that ended are removed, at most once a minute per process. */
  private async sweep(): Promise<void> {
    if (Date.now() - this.lastSweep < 60_000) return;
    this.lastSweep = Date.now();
    const longest = Math.max(...Object.values(this.rules).map((r) => r.windowSeconds));
    await this.pool.query("delete from odoo_saas.rate_limits where window_start < now() - make_interval(secs => $1)", [longest]);
  }
}

/**
 * Issue 19's limits against a real PostgreSQL, with two pools standing for two server
 * processes: the rate-limit windows (rate-limits.ts), download tickets (download-tickets.ts)
 * and live progress for many streams on a LISTEN connection of its own (records/event-log.ts).
 */
import { expect } from "chai";
import { ApiError } from "../../automation/api-error";
import { DownloadTickets } from "../../automation/download-tickets";
import { jsonLogger, Redactor } from "../../automation/log";
import type { ProgressEntry } from "../../automation/operation-events";
import { RateLimits, parseRateRule, type RateRules } from "../../automation/rate-limits";
import { PgOperationEvents } from "../../automation/records/event-log";
import { RecordsStore } from "../../automation/records/records-store";
import { freshDatabase } from "../support/test-postgres";
import { signup } from "./records.test";

const quiet = jsonLogger(new Redactor(), { quiet: true });

function rules(limit: number, windowSeconds: number): RateRules {
  return { download: { limit, windowSeconds }, credentials: { limit, windowSeconds }, "suspend-resume": { limit, windowSeconds } };
}

async function refusal(work: Promise<unknown>): Promise<ApiError | undefined> {
  try {
    await work;
    return undefined;
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
}

describe("limits in PostgreSQL (two pools as two server processes)", function () {
  let url: string;
  let a: RecordsStore;
  let b: RecordsStore;

  before(async () => {
    url = await freshDatabase("limits");
    [a, b] = [await RecordsStore.open(url), await RecordsStore.open(url)];
  });
  after(async () => {
    await a?.close();
    await b?.close();
  });

  describe("rate limits", () => {
    const user = (sub: string) => ({ sub, isAdmin: false });

    it("lets 12 racing requests from two processes take exactly 5 of one window; the others get 429 with Retry-After, taking nothing", async () => {
      const la = new RateLimits(a.pool, rules(5, 600));
      const lb = new RateLimits(b.pool, rules(5, 600));
      const results = await Promise.all(Array.from({ length: 12 }, (_, i) => refusal((i % 2 ? la : lb).take("download", user("racer"), "race-shop"))));
      const refused = results.filter((r) => r !== undefined);
      expect(results.length - refused.length).to.equal(5);
      for (const err of refused) {
        expect(err?.status).to.equal(429);
        expect(err?.code).to.equal("too_many_requests");
        expect(err?.message).to.match(/too many backup downloads .* try again in \d+ (seconds?|minutes)/);
        expect(Number(err?.headers["Retry-After"])).to.be.within(1, 600);
      }
      const { rows } = await a.pool.query<{ key: string; used: number }>("select key, used from odoo_saas.rate_limits where key like 'download:%' order by key");
      expect(rows).to.deep.equal([{ key: "download:tenant:race-shop", used: 5 }, { key: "download:user:racer", used: 5 }]);
    });

    it("counts per user and per tenant: a full tenant refuses its other users, a full user is refused on other tenants, others are untouched", async () => {
      const limits = new RateLimits(a.pool, rules(2, 600));
      await limits.take("credentials", user("ann"), "shop-one");
      await limits.take("credentials", user("ann"), "shop-one");
      expect((await refusal(limits.take("credentials", user("admin"), "shop-one")))?.status, "tenant full").to.equal(429);
      expect((await refusal(limits.take("credentials", user("ann"), "shop-two")))?.status, "user full").to.equal(429);
      expect(await refusal(limits.take("credentials", user("ben"), "shop-three")), "someone else").to.equal(undefined);
      // Another action has its own windows.
      expect(await refusal(limits.take("suspend-resume", user("ann"), "shop-one"))).to.equal(undefined);
    });

    it("gives back what a refused request took, and opens again when the window ends", async () => {
      const limits = new RateLimits(b.pool, rules(1, 2));
      // Start at a fresh 2-second window, so the wait below crosses exactly one boundary.
      const { rows } = await b.pool.query<{ at: number }>("select extract(epoch from now())::float8 as at");
      await new Promise((r) => setTimeout(r, (2 - ((rows[0]?.at ?? 0) % 2)) * 1000 + 50));
      const giveBack = await limits.take("download", user("cat"), "cats-shop");
      const full = await refusal(limits.take("download", user("cat"), "cats-shop"));
      expect(full?.status).to.equal(429);
      expect(Number(full?.headers["Retry-After"])).to.be.within(1, 2);
      await giveBack();
      expect(await refusal(limits.take("download", user("cat"), "cats-shop")), "given back").to.equal(undefined);
      expect(await refusal(limits.take("download", user("cat"), "cats-shop"))).to.not.equal(undefined);
      await new Promise((r) => setTimeout(r, 2_100));
      expect(await refusal(limits.take("download", user("cat"), "cats-shop")), "next window").to.equal(undefined);
    });

    it("reads '<requests>/<seconds>' and nothing else", () => {
      expect(parseRateRule("20/600")).to.deep.equal({ limit: 20, windowSeconds: 600 });
      for (const bad of ["0/600", "20/0", "20", "20/600/1", "-1/5", "a/b", "20 per 600"]) expect(parseRateRule(bad), bad).to.equal(undefined);
    });
  });

  describe("download tickets", () => {
    it("a ticket made by one process works on the other, once: of two racing uses exactly one passes", async () => {
      const ta = new DownloadTickets(a.pool);
      const tb = new DownloadTickets(b.pool);
      const { ticket } = await ta.issue({ sub: "owner-1", isAdmin: false }, "shop", "shop-20261101T020000Z-scheduled.zip");
      expect(await tb.redeem(ticket, "shop", "shop-20261101T020000Z-scheduled.zip", false)).to.deep.equal({ sub: "owner-1", isAdmin: false });
      const uses = await Promise.all([ta, tb, ta, tb].map((t) => t.redeem(ticket, "shop", "shop-20261101T020000Z-scheduled.zip", true)));
      expect(uses.filter((u) => u !== undefined)).to.deep.equal([{ sub: "owner-1", isAdmin: false }]);
    });

    it("expired tickets are removed as new ones are made", async () => {
      const tickets = new DownloadTickets(a.pool, 1);
      await tickets.issue({ sub: "o", isAdmin: false }, "shop", "old.zip", new Date(Date.now() - 60_000));
      await tickets.issue({ sub: "o", isAdmin: false }, "shop", "new.zip");
      const { rows } = await a.pool.query<{ backup_name: string }>("select backup_name from odoo_saas.download_tickets where tenant_id = 'shop' and caller_sub = 'o'");
      expect(rows.map((r) => r.backup_name)).to.deep.equal(["new.zip"]);
    });
  });

  describe("live progress for many streams", () => {
    it("fans one operation out to 60 subscribers (any starting point) without touching the queue's pool", async () => {
      const { tenant, op } = signup("fan-out", "owner-f");
      await a.createSignup(tenant, op, () => undefined);
      const queuePool = await RecordsStore.open(url, { maxConnections: 1 });
      let acquired = 0;
      queuePool.pool.on("acquire", () => acquired++);
      const reader = new PgOperationEvents(queuePool.pool, quiet, 60_000); // no polling: notices alone deliver
      const writer = new PgOperationEvents(a.pool, quiet);
      await reader.start();
      try {
        const seen: ProgressEntry[][] = Array.from({ length: 60 }, () => []);
        const done = seen.map((list, i) => new Promise<void>((resolve) => {
          reader.subscribe(op.id, i % 3, (entry) => {
            list.push(entry);
            if (entry.event.type === "succeeded") resolve();
          });
        }));
        for (let i = 1; i <= 5; i++) await writer.append(op.id, { type: "started", attempt: i });
        await writer.append(op.id, { type: "succeeded" });
        await Promise.all(done);
        for (const [i, list] of seen.entries()) expect(list.map((e) => e.seq), `subscriber ${i}`).to.deep.equal([1, 2, 3, 4, 5, 6, 7].filter((s) => s > i % 3));
        expect(acquired, "connections taken from the queue's pool").to.equal(0);
      } finally {
        await reader.stop();
        await queuePool.close();
      }
    });

    it("listens again when its connection is cut, and delivers what was appended meanwhile", async () => {
      const { tenant, op } = signup("cut-off", "owner-c");
      await a.createSignup(tenant, op, () => undefined);
      const reader = new PgOperationEvents(b.pool, quiet, 500);
      const writer = new PgOperationEvents(a.pool, quiet);
      await reader.start();
      try {
        const seen: number[] = [];
        const done = new Promise<void>((resolve) => {
          reader.subscribe(op.id, 0, (entry) => {
            seen.push(entry.seq);
            if (entry.event.type === "succeeded") resolve();
          });
        });
        const cut = await a.pool.query("select pg_terminate_backend(pid) from pg_stat_activity where query ilike 'listen %' and datname = current_database()");
        expect(cut.rowCount).to.be.at.least(1);
        await writer.append(op.id, { type: "started", attempt: 1 });
        await writer.append(op.id, { type: "succeeded" });
        await done;
        expect(seen).to.deep.equal([1, 2, 3]);
        // Listening again: a notice alone delivers once more.
        await new Promise((r) => setTimeout(r, 1_500));
        const { rows } = await a.pool.query<{ n: number }>("select count(*)::int as n from pg_stat_activity where query ilike 'listen %' and datname = current_database()");
        expect(rows[0]?.n).to.equal(1);
      } finally {
        await reader.stop();
      }
    });
  });
});

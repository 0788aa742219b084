/**
 * `npm run bench:signup [-- 1 10 50]`: N concurrent signups (N distinct users) against the
 * real signup server and the real Pulumi engine (Go-built CLI, local file backend), on a
 * fresh self-service stack per N. Prints, per N: time until every signup is applied, the
 * number of stack updates that ran, and p50/p95/max of the time from a signup's POST to its
 * operation's "succeeded" event (read from its Server-Sent Events stream).
 *
 * The program is the STAND-IN program (test/support/standin-program.ts: one component and
 * one dynamic-provider resource per tenant), because the Kubernetes provider plugin cannot
 * be built on this machine. The real component registers ~25 Kubernetes objects per tenant
 * and waits for them, so absolute times here are a lower bound; what this measures is the
 * queue: how many engine runs N signups cost, and what each signup waits.
 *
 * Two arrival patterns: a burst (all N requests at once) and the same N spread evenly over
 * 5 seconds, where most signups arrive while an update runs and join the next one.
 */
import { performance } from "node:perf_hooks";
import { Harness, waitForEvent } from "../test/support/signup-harness";

interface Row {
  n: number;
  arrival: string;
  allAppliedMs: number;
  updates: number;
  p50: number;
  p95: number;
  max: number;
  failed: number;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)] as number;
}

async function run(n: number, spreadMs: number): Promise<Row> {
  const h = await Harness.start({ tenantLimit: 3, modes: ["hs256"] });
  try {
    const users = Array.from({ length: n }, (_, i) => `bench-user-${i}`);
    const tokens = await Promise.all(users.map((u) => h.token(u, { alg: "HS256" })));
    const started = performance.now();
    const latencies = await Promise.all(users.map(async (_, i) => {
      if (spreadMs > 0 && n > 1) await new Promise((r) => setTimeout(r, (spreadMs * i) / (n - 1)));
      const t0 = performance.now();
      const res = await h.request<{ operation: { id: string; events: string } }>("POST", "/api/tenants", {
        token: tokens[i] as string,
        body: { id: `bench-${n}-${i}`, plan: "starter" },
      });
      if (res.status !== 202) throw new Error(`signup ${i}: HTTP ${res.status} ${res.text}`);
      const final = await waitForEvent(h.url, res.body.operation.events, tokens[i] as string,
        (e) => e.type === "succeeded" || e.type === "failed", 600_000);
      return { ms: performance.now() - t0, ok: final.type === "succeeded" };
    }));
    const allAppliedMs = performance.now() - started;
    await h.app.operator.idle();
    const updates = h.app.store.updates();
    const sorted = latencies.map((l) => l.ms).sort((a, b) => a - b);
    return {
      n,
      arrival: spreadMs > 0 ? `over ${spreadMs / 1000} s` : "burst",
      allAppliedMs,
      updates: updates.length,
      p50: percentile(sorted, 50),
      p95: percentile(sorted, 95),
      max: sorted.at(-1) ?? 0,
      failed: latencies.filter((l) => !l.ok).length,
    };
  } finally {
    await h.close();
  }
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

async function main(): Promise<void> {
  const sizes = process.argv.slice(2).map(Number).filter((n) => Number.isInteger(n) && n > 0);
  const rows: Row[] = [];
  for (const spreadMs of [0, 5_000]) {
    for (const n of sizes.length > 0 ? sizes : [1, 10, 50]) {
      if (spreadMs > 0 && n === 1) continue;
      process.stderr.write(`bench: ${n} signup(s), ${spreadMs > 0 ? `spread over ${spreadMs} ms` : "all at once"}...\n`);
      rows.push(await run(n, spreadMs));
    }
  }
  const header = ["signups", "arrival", "all applied", "stack updates", "p50 per signup", "p95 per signup", "max", "failed"];
  const lines = rows.map((r) => [String(r.n), r.arrival, seconds(r.allAppliedMs), String(r.updates), seconds(r.p50), seconds(r.p95), seconds(r.max), String(r.failed)]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] as string).length)));
  const fmt = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i] as number)).join(" | ")} |`;
  console.log("Signup benchmark: real Pulumi engine (local backend), stand-in program (1 component + 1 dynamic resource per tenant)");
  console.log(fmt(header));
  console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
  for (const line of lines) console.log(fmt(line));
  if (rows.some((r) => r.failed > 0)) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

/**
 * `npm run bench:signup [-- 1 10 50]`: N concurrent signups (N distinct users) against the
 * real signup server, the real engine (Go-built CLI and plugins, local file backend) and the
 * REAL program, deploying into a private local control plane (KWOK nodes). A fresh
 * self-service stack per run. Prints, per N: time until every signup is applied, the number
 * of stack updates that ran, and p50/p95/max from a signup's POST to its operation's end.
 *
 * Two arrival patterns: a burst (all N requests at once) and the same N spread evenly over
 * 5 seconds, where most signups arrive while an update runs and join the next one.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import * as yaml from "js-yaml";
import { startAuthStandIn, type AuthStandIn } from "../automation/local-supabase-auth";
import { jsonLogger, Redactor } from "../automation/log";
import { startSignupApp } from "../automation/signup-app";
import { startLocalCluster, type LocalCluster } from "../ops/local-cluster";
import { startPostgres, type PostgresServer } from "../ops/local-postgres";
import { workerCount } from "../automation/queue/worker-count";

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

async function json<T>(url: string, init: RequestInit): Promise<{ status: number; body: T }> {
  const res = await fetch(url, init);
  return { status: res.status, body: (await res.json()) as T };
}

async function run(cluster: LocalCluster, auth: AuthStandIn, pg: PostgresServer, n: number, spreadMs: number): Promise<Row> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "odoo-saas-bench-signup-"));
  fs.writeFileSync(path.join(dir, "Pulumi.dev.yaml"), yaml.dump({
    config: {
      "odoo-saas:baseDomain": "bench.odoo-saas.test",
      "odoo-saas:storageClassName": "local-pool",
      "odoo-saas:ingress": { awaitLoadBalancer: false },
      "odoo-saas:tenants": [],
    },
  }));
  const database = `bench_${n}_${spreadMs}`;
  pg.sql("postgres", `create database ${database}`);
  const app = await startSignupApp({
    host: "127.0.0.1", port: 0, opsStack: "dev", opsDir: dir, selfServiceStack: `bench-${n}-${spreadMs}`, storeDir: path.join(dir, "store"),
    supabaseUrl: auth.url, supabaseAnonKey: "bench", issuer: auth.issuer, audience: auth.audience, hs256Secret: auth.hs256Secret,
    adminClaim: "app_metadata.role=admin", allowAnonymous: false, tenantLimit: 3, kubeconfig: cluster.kubeconfig,
    databaseUrl: `postgres://${pg.env.PGUSER}:${pg.env.PGPASSWORD}@${pg.env.PGHOST}:${pg.env.PGPORT}/${database}`, workers: workerCount(process.env.ODOO_SAAS_WORKERS),
  }, { engine: { backendDir: path.join(dir, "backend"), pulumiHome: path.join(dir, "home") }, log: jsonLogger(new Redactor(), { write: () => undefined }) });
  try {
    const tokens = await Promise.all(Array.from({ length: n }, (_, i) => auth.sign({ sub: `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`, email: `bench${i}@example.com`, alg: "HS256" })));
    const started = performance.now();
    const latencies = await Promise.all(tokens.map(async (token, i) => {
      if (spreadMs > 0 && n > 1) await new Promise((r) => setTimeout(r, (spreadMs * i) / (n - 1)));
      const t0 = performance.now();
      const headers = { Authorization: `Bearer ${token}`, "Content-Type": "application/json" };
      const res = await json<{ operation: { id: string } }>(`${app.url}/api/tenants`, { method: "POST", headers, body: JSON.stringify({ id: `bench${spreadMs > 0 ? "s" : "b"}${n}x${i}`, plan: "starter" }) });
      if (res.status !== 202) throw new Error(`signup ${i}: HTTP ${res.status} ${JSON.stringify(res.body)}`);
      for (;;) {
        const op = await json<{ status: string }>(`${app.url}/api/operations/${res.body.operation.id}`, { headers });
        if (op.body.status === "succeeded" || op.body.status === "failed") return { ms: performance.now() - t0, ok: op.body.status === "succeeded" };
        await new Promise((r) => setTimeout(r, 200));
      }
    }));
    const allAppliedMs = performance.now() - started;
    await app.idle();
    const sorted = latencies.map((l) => l.ms).sort((a, b) => a - b);
    return {
      n,
      arrival: spreadMs > 0 ? `over ${spreadMs / 1000} s` : "burst",
      allAppliedMs,
      // One stack update per operation now (one stack per tenant): the operations that ran.
      updates: (await app.records.recentOperations(10_000)).length,
      p50: percentile(sorted, 50),
      p95: percentile(sorted, 95),
      max: sorted.at(-1) ?? 0,
      failed: latencies.filter((l) => !l.ok).length,
    };
  } finally {
    await app.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

async function main(): Promise<void> {
  const sizes = process.argv.slice(2).map(Number).filter((n) => Number.isInteger(n) && n > 0);
  const rows: Row[] = [];
  const runs = [0, 5_000].flatMap((spreadMs) => (sizes.length > 0 ? sizes : [1, 10, 50]).filter((n) => spreadMs === 0 || n > 1).map((n) => ({ n, spreadMs })));
  const tenants = runs.reduce((sum, r) => sum + r.n, 0);
  process.stderr.write(`bench: starting a private local cluster (3 KWOK nodes, volumes for ${tenants} tenants)\n`);
  // Each tenant claims 3 volumes, spread over the 3 nodes.
  const cluster = startLocalCluster(3, tenants + 10);
  const auth = await startAuthStandIn();
  const pg = await startPostgres({ fsync: true });
  try {
    for (const { n, spreadMs } of runs) {
      process.stderr.write(`bench: ${n} signup(s), ${spreadMs > 0 ? `spread over ${spreadMs} ms` : "all at once"}...\n`);
      rows.push(await run(cluster, auth, pg, n, spreadMs));
    }
  } finally {
    await pg.stop();
    await auth.close();
    cluster.down();
  }
  const header = ["signups", "arrival", "all applied", "stack updates", "p50 per signup", "p95 per signup", "max", "failed"];
  const lines = rows.map((r) => [String(r.n), r.arrival, seconds(r.allAppliedMs), String(r.updates), seconds(r.p50), seconds(r.p95), seconds(r.max), String(r.failed)]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] as string).length)));
  const fmt = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i] as number)).join(" | ")} |`;
  console.log("Signup benchmark: real signup server, real Pulumi engine and plugins (local backend), real program into a local control plane (KWOK nodes)");
  console.log(fmt(header));
  console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
  for (const line of lines) console.log(fmt(line));
  if (rows.some((r) => r.failed > 0)) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

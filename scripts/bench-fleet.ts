/**
 * `npm run bench:stack -- --design fleet [--sizes 10,20,40] [--parallel 3]`: the tenants file
 * as one stack per tenant (automation/engine/fleet-stacks.ts), through the real engine on a
 * private local control plane. The fleet grows through the sizes (one backend, one cluster);
 * at each size: a PR that changes one tenant (plan + preview, then plan + apply), a no-op
 * run (plan only: no tenant differs, no engine starts), and one tenant's drift preview (the
 * unit of a full convergence). Then the 500-tenant row: the plan measured at 500, and every
 * engine step fitted (least squares) over the measured sizes and evaluated at 500, marked as
 * extrapolated. Nothing is asserted (a benchmark, not a test).
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { planFleet } from "../automation/engine/fleet-plan";
import { FleetRunner, fleetSummary, type TenantRun } from "../automation/engine/fleet-stacks";
import { table } from "../checks/cluster-view";
import { startLocalCluster } from "../local/local-cluster";
import { PROJECT_NAME } from "../tenants/config-source";
import { load1, measured } from "./bench-measure";

const TARGET = 500;
const HEADERS = ["tenants", "step", "time", "stacks run", "changes", "load 1m (before / after)", "peak RSS engine+plugins", "peak RSS node (program)"];

interface Tenant { id: string; adminEmail: string; plan: string; suspended: boolean }

function fleet(count: number, suspendedFirst: boolean): Tenant[] {
  return Array.from({ length: count }, (_, i) => ({ id: `f${i}`, adminEmail: `admin@f${i}.example`, plan: "starter", suspended: i === 0 && suspendedFirst }));
}

function configMap(list: Tenant[]): Record<string, unknown> {
  return {
    [`${PROJECT_NAME}:baseDomain`]: "fleet.odoo-saas.test",
    [`${PROJECT_NAME}:storageClassName`]: "local-pool",
    [`${PROJECT_NAME}:ingress`]: { awaitLoadBalancer: false },
    [`${PROJECT_NAME}:tenants`]: list,
  };
}

/** y = a + b·x through the points (least squares); with one point, y is flat. */
function fit(points: ReadonlyArray<readonly [number, number]>): (x: number) => number {
  const n = points.length;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const sxx = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  const b = sxx === 0 ? 0 : points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0) / sxx;
  return (x) => my + b * (x - mx);
}

function changes(runs: readonly TenantRun[]): number {
  return [...fleetSummary(runs).tenants.values()].reduce((n, c) => n + c.create + c.update + c.replace + c.delete, 0);
}

/** `node dist/scripts/fleet.js preview --base` of an unchanged file: a whole CI no-op run, new process. */
function noopCli(map: Record<string, unknown>): number {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "odoo-saas-bench-noop-"));
  try {
    const file = path.join(dir, "Pulumi.bench.yaml");
    fs.writeFileSync(file, JSON.stringify({ config: map }));
    const started = process.hrtime.bigint();
    const run = spawnSync(process.execPath, [path.join(__dirname, "fleet.js"), "preview", "--stack", "bench", "--dir", dir, "--base", file], { encoding: "utf8" });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (run.status !== 0 || !run.stdout.includes("no tenant changed")) throw new Error(`the no-op run failed: ${run.stdout}${run.stderr}`);
    return seconds;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchFleet(sizes: readonly number[], parallel: number): Promise<void> {
  const sorted = [...sizes].sort((a, b) => a - b);
  const largest = sorted[sorted.length - 1] ?? 1;
  console.log(`bench:stack --design fleet: sizes ${sorted.join(", ")} (grown in place), ${parallel} stacks at once; starting a private local cluster`);
  // A KWOK node offers 8 CPUs; a starter tenant requests 0.35: 20 tenants a node, 3 volumes each.
  const nodes = Math.max(3, Math.ceil(largest / 20));
  const cluster = startLocalCluster(nodes, Math.ceil((3 * largest) / nodes) + 5);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "odoo-saas-bench-fleet-"));
  const engine = { backendDir: path.join(dir, "backend"), pulumiHome: path.join(dir, "home") };
  const rows: string[][] = [];
  const series = new Map<string, Array<[number, number]>>();
  const runner = (map: Record<string, unknown>): FleetRunner => new FleetRunner({ stackName: "bench", configMap: map, kubeconfig: cluster.kubeconfig, kc: cluster.kc, engine, parallel });
  let current: Record<string, unknown> | undefined;
  let suspended = false;
  let created = 0;
  try {
    for (const size of sorted) {
      console.log(`size ${size}:`);
      const step = async (label: string, key: string | undefined, work: () => Promise<TenantRun[]>): Promise<{ runs: TenantRun[]; seconds: number }> => {
        process.stdout.write(`  ${label} ... `);
        const load = load1();
        const m = await measured(work);
        const failed = m.value.filter((r) => !r.ok);
        if (failed.length > 0) throw new Error(`${label}: ${failed.map((r) => `${r.id}: ${r.message ?? "?"}`).join("; ")}`);
        console.log(`${m.seconds.toFixed(1)} s`);
        rows.push([String(size), label, `${m.seconds.toFixed(1)} s`, String(m.value.length), String(changes(m.value)), `${load} / ${load1()}`, `${m.engineMb.toFixed(0)} MiB`, `${m.nodeMb.toFixed(0)} MiB`]);
        if (key !== undefined) series.set(key, [...(series.get(key) ?? []), [size, m.seconds]]);
        return { runs: m.value, seconds: m.seconds };
      };
      const grown = configMap(fleet(size, suspended));
      const added = size - created;
      const growth = await step(`create ${added} (${created} -> ${size})`, undefined, () => runner(grown).run("up", planFleet(current, grown)));
      series.set("create wall per tenant", [...(series.get("create wall per tenant") ?? []), [size, growth.seconds / Math.max(1, added)]]);
      created = size;
      current = grown;

      suspended = !suspended;
      const head = configMap(fleet(size, suspended));
      const base = current;
      await step("one-tenant change: preview", "preview", () => runner(head).run("preview", planFleet(base, head)));
      await step("one-tenant change: apply", "apply", () => runner(head).run("up", planFleet(base, head)));
      current = head;
      await step("no-op run (plan: no tenant differs)", "noop", async () => runner(head).run("preview", planFleet(head, head)));
      await step("drift preview of one tenant's stack", "drift", () => runner(head).run("preview", { changed: ["f1"], removed: [] }));
    }
  } catch (err) {
    // What was measured before the failure is kept (a long run's table is not lost).
    console.log(`\nstopped: ${(err as Error).message}\n${table(HEADERS, rows)}`);
    throw err;
  } finally {
    cluster.down();
    fs.rmSync(dir, { recursive: true, force: true });
  }

  // The 500 row: the plan for real (500 tenants parsed and compared), the engine steps fitted.
  const five = configMap(fleet(TARGET, false));
  const fiveHead = configMap(fleet(TARGET, true));
  const plan = await measured(async () => planFleet(five, fiveHead));
  rows.push([String(TARGET), `plan of a one-tenant change (measured: ${plan.value.changed.length} of ${plan.value.head.tenants.length} touched)`, `${plan.seconds.toFixed(2)} s`, "0", "0", load1(), "-", `${plan.nodeMb.toFixed(0)} MiB`]);
  const cli = noopCli(five);
  rows.push([String(TARGET), "no-op run: `fleet:preview --base` as CI runs it, whole process (measured)", `${cli.toFixed(1)} s`, "0", "0", load1(), "-", "-"]);
  // Measured at 500 (or more): the engine rows above are the 500-tenant row, nothing to extrapolate.
  if (largest < TARGET) extrapolate(rows, series, sorted, parallel);

  console.log(`\n${table(HEADERS, rows)}`);
  console.log(`\nmachine: ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB; real engine, local file backend, simulated cluster (KWOK nodes)`);
}

/** The 500-tenant engine rows from smaller sizes, each marked as extrapolated. */
function extrapolate(rows: string[][], series: ReadonlyMap<string, Array<[number, number]>>, sorted: readonly number[], parallel: number): void {
  const largest = sorted[sorted.length - 1] ?? 1;
  // One-tenant steps: a line a + b·N through the measured sizes (least squares), at 500.
  const fitted = `extrapolated: a + b·N fitted over ${sorted.join(", ")}`;
  for (const [key, label] of [["preview", "one-tenant change: preview"], ["apply", "one-tenant change: apply"], ["drift", "drift preview of one tenant's stack"]] as const) {
    const points = series.get(key) ?? [];
    const line = fit(points);
    const slope = points.length > 1 ? (line(100) - line(0)).toFixed(1) : "?";
    rows.push([String(TARGET), `${label} (${fitted}; b = ${slope} s per 100 tenants)`, `${line(TARGET).toFixed(1)} s`, "1", "", "", "", ""]);
  }
  // Creating: the batches measured, then the rest at the largest batch's wall time per tenant.
  const batches = series.get("create wall per tenant") ?? [];
  const last = batches[batches.length - 1];
  if (last !== undefined) {
    const measuredSeconds = rows.filter((r) => r[1]?.startsWith("create ")).reduce((s, r) => s + Number((r[2] ?? "0").replace(" s", "")), 0);
    const total = measuredSeconds + (TARGET - largest) * last[1];
    rows.push([String(TARGET), `create ${TARGET}, ${parallel} at once (extrapolated: ${largest} measured, the rest at ${last[1].toFixed(1)} s each)`, `${(total / 60).toFixed(0)} min`, String(TARGET), "", "", "", ""]);
    const drifts = series.get("drift") ?? [];
    const mean = drifts.reduce((s, [, y]) => s + y, 0) / Math.max(1, drifts.length);
    rows.push([String(TARGET), `full drift check of ${TARGET} stacks, ${parallel} at once (extrapolated: mean of one stack's drift preview x ${TARGET} / ${parallel})`, `${((mean * TARGET) / parallel / 60).toFixed(0)} min`, String(TARGET), "", "", "", ""]);
  }
}

/**
 * `npm run bench:stack [-- --sizes 1,10,50]`: the real program through the real engine on a
 * private local control plane. For each size N: create a stack of N tenants, add one more,
 * run a no-op preview; with the peak resident memory of the engine and its plugins (the
 * Pulumi CLI and pulumi-resource-* processes) and of this Node process (the inline program).
 * Prints a table; nothing is asserted (a benchmark, not a test).
 * `--design fleet`: the same file as one stack per tenant (scripts/bench-fleet.ts), up to 500.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { TenantChangeSummary } from "../automation/engine/change-summary";
import { deployStack, previewStack, type DeployOptions } from "../automation/engine/deploy";
import { table } from "../checks/cluster-view";
import { startLocalCluster } from "../local/local-cluster";
import { PROJECT_NAME } from "../tenants/config-source";
import { benchFleet } from "./bench-fleet";
import { measured } from "./bench-measure";

function sizesArgument(argv: readonly string[], fallback = "1,10,50", max = 200): number[] {
  const index = argv.indexOf("--sizes");
  const text = index >= 0 ? argv[index + 1] ?? "" : fallback;
  const sizes = text.split(",").map((s) => Number(s.trim()));
  if (sizes.length === 0 || sizes.some((n) => !Number.isInteger(n) || n < 1 || n > max)) throw new Error(`--sizes takes whole numbers from 1 to ${max}, e.g. ${fallback} (got "${text}")`);
  return sizes;
}

function tenants(size: number, count: number): Array<{ id: string; adminEmail: string; plan: string }> {
  return Array.from({ length: count }, (_, i) => ({ id: `b${size}t${i}`, adminEmail: `admin@b${size}t${i}.example`, plan: "starter" }));
}

function configFor(list: ReturnType<typeof tenants>): Record<string, unknown> {
  return {
    [`${PROJECT_NAME}:baseDomain`]: "bench.odoo-saas.test",
    [`${PROJECT_NAME}:storageClassName`]: "local-pool",
    [`${PROJECT_NAME}:ingress`]: { awaitLoadBalancer: false },
    [`${PROJECT_NAME}:tenants`]: list,
  };
}

async function main(argv: string[]): Promise<void> {
  const design = argv.indexOf("--design") >= 0 ? argv[argv.indexOf("--design") + 1] : "one";
  if (design === "fleet") {
    const index = argv.indexOf("--parallel");
    await benchFleet(sizesArgument(argv, "10,20,40", 500), index >= 0 ? Number(argv[index + 1]) || 2 : 3);
    return;
  }
  if (design !== "one") throw new Error(`--design takes one (index.ts: every tenant in one stack) or fleet (one stack per tenant), got "${design ?? ""}"`);
  const sizes = sizesArgument(argv);
  const needed = sizes.reduce((sum, n) => sum + n + 1, 0);
  console.log(`bench:stack: sizes ${sizes.join(", ")}; starting a private local cluster (3 KWOK nodes, volumes for ${needed} tenants)`);
  // Each tenant claims 3 volumes; every node gets a third of them, plus slack.
  const cluster = startLocalCluster(3, needed + 5);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "odoo-saas-bench-stack-"));
  const engine = { backendDir: path.join(dir, "backend"), pulumiHome: path.join(dir, "home") };
  const rows: string[][] = [];
  try {
    for (const size of sizes) {
      const base: Omit<DeployOptions, "config"> = { stackName: `bench-${size}`, engine, kubeconfig: cluster.kubeconfig, kc: cluster.kc };
      const run = async (label: string, list: ReturnType<typeof tenants>, preview = false): Promise<void> => {
        process.stdout.write(`  ${label} ... `);
        const m = await measured(async (): Promise<{ ok: boolean; message?: string; summary?: TenantChangeSummary }> =>
          (preview ? previewStack({ ...base, config: configFor(list), expectNoChanges: true }) : deployStack({ ...base, config: configFor(list) })));
        if (!m.value.ok) throw new Error(`${label} failed: ${m.value.message ?? "?"}`);
        const changes = m.value.summary ? [...m.value.summary.tenants.values()].reduce((n, c) => n + c.create + c.update + c.replace + c.delete, 0) : 0;
        console.log(`${m.seconds.toFixed(1)} s`);
        rows.push([String(size), label, `${m.seconds.toFixed(1)} s`, String(changes), `${m.engineMb.toFixed(0)} MiB`, `${m.nodeMb.toFixed(0)} MiB`]);
      };
      console.log(`size ${size}:`);
      await run(`create ${size}`, tenants(size, size));
      await run("add one", tenants(size, size + 1));
      await run("no-op preview", tenants(size, size + 1), true);
    }
  } finally {
    cluster.down();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  console.log(`\n${table(["tenants", "step", "time", "changes", "peak RSS engine+plugins", "peak RSS node (program)"], rows)}`);
  console.log(`\nmachine: ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB; real engine, local file backend, simulated cluster (KWOK nodes)`);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(`bench:stack failed: ${(err as Error).message}`);
  process.exitCode = 1;
});

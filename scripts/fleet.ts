/**
 * `npm run fleet:preview|fleet:up -- --stack NAME (--base FILE | --all) [--parallel N]`:
 * the tenants file run as one stack per tenant (automation/engine/fleet-stacks.ts), touching
 * only the tenants whose values differ from FILE (the file as it was on the base branch, or
 * as last applied), and retiring those FILE has and the stack file no longer has. `--all`:
 * every tenant (the first run, or a full convergence). Prints Markdown for a PR comment.
 * `--dir DIR`: where Pulumi.<stack>.yaml is (default: this repository).
 * Exit 0: every touched tenant previewed/applied; 1: invalid config or a tenant failed;
 * 2: usage or file errors.
 *
 * Cluster: KUBECONFIG when set (the stack's real cluster); otherwise the local simulated one.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { formatChangeTable } from "../automation/engine/change-summary";
import { repoRoot } from "../automation/engine/engine-env";
import { FleetConfigError, planFleet, type FleetPlan } from "../automation/engine/fleet-plan";
import { FleetRunner, fleetSummary, type FleetMode, type TenantRun } from "../automation/engine/fleet-stacks";
import { loadKubeConfig } from "../checks/kube";
import { readStackConfigMap, StackFileError, stackFilePath } from "../tenants/config-source";

interface Args { mode: FleetMode; stack: string; dir?: string; base?: string; all: boolean; parallel: number }

const USAGE = "usage: fleet preview|up [--stack NAME] [--dir DIR] (--base FILE | --all) [--parallel N]";

function parseArgs(argv: readonly string[]): Args {
  const [mode, ...rest] = argv;
  if (mode !== "preview" && mode !== "up") throw new StackFileError(USAGE);
  const args: Args = { mode, stack: "dev", all: false, parallel: 2 };
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    const next = rest[i + 1];
    if (arg === "--all") args.all = true;
    else if (arg === "--stack" && next !== undefined) { args.stack = next; i++; }
    else if (arg === "--base" && next !== undefined) { args.base = next; i++; }
    else if (arg === "--dir" && next !== undefined) { args.dir = next; i++; }
    else if (arg === "--parallel" && next !== undefined && /^[1-9]\d?$/.test(next)) { args.parallel = Number(next); i++; }
    else throw new StackFileError(`${USAGE} (unexpected "${arg ?? ""}")`);
  }
  if (args.all === (args.base !== undefined)) throw new StackFileError(`${USAGE} (give exactly one of --base and --all)`);
  return args;
}

/** The base file; an empty or missing one (the stack file is new in this change) lists no tenant. */
function readBase(file: string): Record<string, unknown> | undefined {
  if (!fs.existsSync(file) || fs.statSync(file).size === 0) return undefined;
  return readStackConfigMap(file);
}

function clusterKubeconfig(root: string): string {
  const fromEnv = process.env.KUBECONFIG;
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  execFileSync(path.join(root, "scripts", "local-cluster"), ["up"], { stdio: ["ignore", "ignore", "inherit"] });
  return path.join(process.env.ODOO_SAAS_CLUSTER_DIR ?? path.join(root, ".cluster"), "kubeconfig");
}

export function fleetMarkdown(mode: FleetMode, stack: string, plan: FleetPlan, runs: readonly TenantRun[], seconds: number): string {
  const failed = runs.filter((r) => !r.ok);
  const verb = mode === "preview" ? "Preview" : "Apply";
  const touched = plan.changed.length + plan.removed.length;
  const heading = touched === 0 ? "no tenant changed; no engine was started" : failed.length > 0 ? `${failed.length} of ${touched} touched tenant(s) failed` : `${touched} tenant(s) touched`;
  const lines = [
    `### ${verb} of \`Pulumi.${stack}.yaml\` (one stack per tenant): ${heading}`,
    "",
    `${plan.head.tenants.length} tenant(s) in the file: ${plan.changed.length} new or changed, ${plan.removed.length} removed (retired: objects removed, data kept), ${plan.unchanged} unchanged (not run). ${seconds.toFixed(1)} s.`,
  ];
  if (runs.length > 0) lines.push("", formatChangeTable(fleetSummary(runs)));
  for (const run of runs) {
    if (!run.ok || run.message !== undefined) lines.push("", `- **${run.id}** (${run.action}) ${run.ok ? "" : "failed: "}${(run.message ?? "").replace(/\n/g, " ")}`);
  }
  return lines.join("\n");
}

async function main(argv: string[]): Promise<number> {
  const started = Date.now();
  let args: Args;
  let plan: FleetPlan;
  let head: Record<string, unknown>;
  const root = repoRoot();
  try {
    args = parseArgs(argv);
    head = readStackConfigMap(stackFilePath(args.dir ?? root, args.stack));
    plan = planFleet(args.all ? undefined : readBase(args.base ?? ""), head);
  } catch (err) {
    if (err instanceof FleetConfigError) { console.log(`### Pulumi stack file: invalid config\n\n${err.message}`); return 1; }
    if (err instanceof StackFileError) { console.error(err.message); return 2; }
    throw err;
  }
  let runs: TenantRun[] = [];
  if (plan.changed.length + plan.removed.length > 0) {
    const kubeconfig = clusterKubeconfig(root);
    const runner = new FleetRunner({ stackName: args.stack, configMap: head, kubeconfig, kc: loadKubeConfig(kubeconfig), root, parallel: args.parallel, progress: (line) => console.error(line) });
    runs = await runner.run(args.mode, plan);
  }
  console.log(fleetMarkdown(args.mode, args.stack, plan, runs, (Date.now() - started) / 1000));
  return runs.every((r) => r.ok) ? 0 : 1;
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (err: unknown) => {
    console.error(`fleet failed: ${(err as Error).message}`);
    process.exitCode = 1;
  });
}

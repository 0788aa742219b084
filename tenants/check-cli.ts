/**
 * `npm run check:tenants [-- --stack NAME]`: validates Pulumi.<stack>.yaml with the one
 * schema, without engine or cluster. The command a CI job runs on every pull request.
 * With `--taken FILE` (the signup server's `GET /api/admin/tenant-ids` answer) it also refuses
 * ids and hosts the self-service stack already owns.
 * Exit 0 when valid, 1 with the full report when not, 2 on usage or file errors.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { rawConfigFromStackFile, StackFileError, stackFilePath } from "./config-source";
import { formatIssues, parseStackConfig, takenIssues, tenantHost, type ParseResult, type TakenElsewhere } from "./validate";

const USAGE = "usage: check:tenants [--stack NAME] [--dir DIR] [--taken FILE]";

function parseArgs(argv: readonly string[]): { stack: string; dir: string; taken?: string } {
  const options: { stack: string; dir: string; taken?: string } = { stack: "dev", dir: process.cwd() };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const next = argv[i + 1];
    if ((arg === "--stack" || arg === "--dir" || arg === "--taken") && next !== undefined) {
      options[arg.slice(2) as "stack" | "dir" | "taken"] = next;
      i++;
    } else {
      throw new StackFileError(`${USAGE} (unexpected "${arg}")`);
    }
  }
  return options;
}

/** The signup server's `GET /api/admin/tenant-ids` answer, saved by the CI job. */
function readTaken(file: string): TakenElsewhere {
  let doc: unknown;
  try {
    doc = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (err) {
    throw new StackFileError(`cannot read ${file}: ${(err as Error).message}`);
  }
  const d = doc as Partial<TakenElsewhere>;
  const strings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === "string");
  if (typeof d.stack !== "string" || !strings(d.ids) || !strings(d.hosts)) {
    throw new StackFileError(`${file} is not a tenant-ids answer ({ "stack", "ids": [], "hosts": [] })`);
  }
  return { stack: d.stack, ids: d.ids, hosts: d.hosts };
}

export function main(argv: readonly string[]): number {
  let file = "";
  try {
    const { stack, dir, taken } = parseArgs(argv);
    file = stackFilePath(dir, stack);
    const parsed = parseStackConfig(rawConfigFromStackFile(file));
    const clashes = parsed.ok && taken !== undefined ? takenIssues(parsed.config, readTaken(taken)) : [];
    const result: ParseResult = parsed.ok && clashes.length > 0 ? { ok: false, issues: clashes } : parsed;
    if (!result.ok) {
      console.error(`${path.basename(file)}: ${result.issues.length} problem(s); nothing would be created:\n${formatIssues(result.issues)}`);
      return 1;
    }
    const { config } = result;
    console.log(`${path.basename(file)}: valid, ${config.tenants.length} tenant(s)`);
    for (const tenant of config.tenants) {
      const hosts = [tenantHost(config, tenant.id), ...tenant.customDomains].join(", ");
      console.log(`  ${tenant.id}: plan ${tenant.plan}, Odoo ${tenant.odooVersion}${tenant.suspended ? ", suspended" : ""} -> ${hosts}`);
    }
    return 0;
  } catch (err) {
    if (err instanceof StackFileError) {
      console.error(err.message);
      return 2;
    }
    throw err;
  }
}

if (require.main === module) {
  process.exitCode = main(process.argv.slice(2));
}

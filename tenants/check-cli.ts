/**
 * `npm run check:tenants [-- --stack NAME]`: validates Pulumi.<stack>.yaml with the one
 * schema, without engine or cluster. The command a CI job runs on every pull request.
 * Exit 0 when valid, 1 with the full report when not, 2 on usage or file errors.
 */
import * as path from "node:path";
import { rawConfigFromStackFile, StackFileError } from "./config-source";
import { formatIssues, parseStackConfig, tenantHost } from "./validate";

function parseArgs(argv: readonly string[]): { stack: string; dir: string } {
  let stack = "dev";
  let dir = process.cwd();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const next = argv[i + 1];
    if ((arg === "--stack" || arg === "--dir") && next !== undefined) {
      if (arg === "--stack") stack = next;
      else dir = next;
      i++;
    } else {
      throw new StackFileError(`usage: check:tenants [--stack NAME] [--dir DIR] (unexpected "${arg}")`);
    }
  }
  if (!/^[A-Za-z0-9_.-]+$/.test(stack)) throw new StackFileError(`stack name "${stack}" has characters a stack name cannot have`);
  return { stack, dir };
}

export function main(argv: readonly string[]): number {
  let file = "";
  try {
    const { stack, dir } = parseArgs(argv);
    file = path.join(dir, `Pulumi.${stack}.yaml`);
    const result = parseStackConfig(rawConfigFromStackFile(file));
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

/**
 * `npm run preview -- --stack NAME`: what `pulumi up` would change, for a pull request.
 * Runs the engine's preview of the real program (inline, as `npm start` does) and prints a
 * per-tenant summary and the engine's diff, short enough for a PR comment (Markdown).
 * Exit 0: the preview ran (with or without changes); 1: invalid config or engine error.
 *
 * Cluster: KUBECONFIG when set (the stack's real cluster); otherwise the local simulated
 * cluster is started, as `npm start` does.
 */
import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { formatChangeTable, hasChanges, summarizeChanges } from "../automation/engine/change-summary";
import { repoRoot } from "../automation/engine/engine-env";
import { sanitizeDiagnostic } from "../automation/engine/engine-events";
import { previewStack } from "../automation/engine/deploy";
import { loadKubeConfig } from "../checks/kube";
import { projectConfig, readStackConfigMap, stackArgument, stackFilePath } from "../tenants/config-source";
import { formatIssues, parseStackConfig } from "../tenants/validate";

/** A PR comment has room for the summary and the start of the diff, not a novel. */
const MAX_DIFF_LINES = 150;

function clusterKubeconfig(root: string): string {
  const fromEnv = process.env.KUBECONFIG;
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  execFileSync(path.join(root, "scripts", "local-cluster"), ["up"], { stdio: ["ignore", "ignore", "inherit"] });
  return path.join(process.env.ODOO_SAAS_CLUSTER_DIR ?? path.join(root, ".cluster"), "kubeconfig");
}

async function main(argv: string[]): Promise<number> {
  const stackName = stackArgument(argv);
  const root = repoRoot();
  const file = stackFilePath(root, stackName);
  const configMap = readStackConfigMap(file);
  const parsed = parseStackConfig(projectConfig(configMap));
  if (!parsed.ok) {
    console.log(`### Preview of stack \`${stackName}\`: invalid config, nothing would be changed\n\n${formatIssues(parsed.issues)}`);
    return 1;
  }
  const kubeconfig = clusterKubeconfig(root);
  const diff: string[] = [];
  const errors: string[] = [];
  const outcome = await previewStack({
    stackName, config: configMap, kubeconfig, kc: loadKubeConfig(kubeconfig), root,
    progress: (line) => console.error(line),
    onOutput: (text) => diff.push(text),
    onEvent: (e) => { if (e.diagnosticEvent?.severity === "error") errors.push(sanitizeDiagnostic(e.diagnosticEvent.message, (t) => t)); },
  });
  if (!outcome.ok && outcome.failure !== "engine") {
    console.log(`### Preview of stack \`${stackName}\`: refused\n\n${outcome.message}`);
    return 1;
  }
  const summary = outcome.summary ?? summarizeChanges([]);
  const heading = !outcome.ok ? "failed" : hasChanges(summary) ? "changes" : "no changes";
  console.log(`### Preview of stack \`${stackName}\`: ${heading}\n\n${formatChangeTable(summary)}`);
  if (!outcome.ok) {
    const lines = errors.length > 0 ? errors : [sanitizeDiagnostic(outcome.message, (t) => t)];
    console.log(`\n**Errors**\n\n${lines.map((e) => `- ${e.replace(/\n/g, " ")}`).join("\n")}`);
  }
  const lines = diff.join("").split("\n").filter((l) => l.trim() !== "");
  const shown = lines.slice(0, MAX_DIFF_LINES);
  console.log(`\n<details><summary>engine diff (${lines.length} lines${lines.length > shown.length ? `, first ${shown.length} shown` : ""})</summary>\n\n\`\`\`diff\n${shown.join("\n")}\n\`\`\`\n</details>`);
  return outcome.ok ? 0 : 1;
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (err: unknown) => {
  console.error(`preview failed: ${(err as Error).message}`);
  process.exitCode = 1;
});

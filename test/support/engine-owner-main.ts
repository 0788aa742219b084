/**
 * A server stand-in for the launcher's kill -9 test: runs the stand-in CLI's `spawn` through
 * the launcher (FAKE_CLI_ROOT), with ODOO_SAAS_TEST_RUN in its environment, and prints
 * "engine started" once the CLI said so. The test then kills this process.
 */
import { launchedCommand } from "../../automation/engine/engine-command";
import { repoRoot } from "../../automation/engine/engine-env";
import type { EngineRun } from "./fake-cli";

async function main(): Promise<void> {
  const root = process.env.FAKE_CLI_ROOT;
  const marker = process.env.ODOO_SAAS_TEST_RUN;
  if (root === undefined || marker === undefined) throw new Error("FAKE_CLI_ROOT and ODOO_SAAS_TEST_RUN are required");
  const command = (await launchedCommand(root, repoRoot())) as unknown as EngineRun;
  await command.run(["spawn", "--stack", "owned"], root, {}, (text) => {
    if (text.includes("started")) process.stdout.write("engine started\n");
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`engine owner: ${(err as Error).message}\n`);
  process.exit(1);
});

/**
 * The signup server as its own process, for tests that kill it (kill -9) mid-update at a
 * moment they control, or that run two servers on one database. Same as
 * automation/server-main.ts except for the program and the queue's timings: the
 * STAND-IN program (standin-program.ts), whose updates can be slowed and made to fail. Settings from the same environment variables, plus
 * STANDIN_WORLD_DIR and STANDIN_DELAY_MS for the stand-in provider. Engine folders come
 * from ODOO_SAAS_BACKEND_DIR / ODOO_SAAS_PULUMI_HOME (automation/engine/engine-env.ts).
 */
import { configFromEnv, describeConfig } from "../../automation/server-config";
import { startSignupApp } from "../../automation/signup-app";
import { QUEUE_TIMINGS } from "./signup-harness";
import { standInProgram } from "./standin-program";

async function main(): Promise<void> {
  const config = configFromEnv();
  const world = process.env.STANDIN_WORLD_DIR;
  if (world === undefined || world === "") throw new Error("STANDIN_WORLD_DIR is required");
  // Short queue timings, as in-process harnesses use: a killed server's jobs run again within seconds.
  const app = await startSignupApp(config, { program: standInProgram(), queue: QUEUE_TIMINGS });
  for (const line of describeConfig(config)) console.log(`signup server (stand-in program): ${line}`);
  console.log(`signup server (stand-in program): listening on ${app.url}`);
  process.once("SIGTERM", () => {
    app.close().then(() => process.exit(0), () => process.exit(1));
  });
}

main().catch((err: unknown) => {
  console.error(`signup server (stand-in program): cannot start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});

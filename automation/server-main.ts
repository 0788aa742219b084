/**
 * `npm run serve`: the signup server with the real program (`odooSaasProgram`), one stack
 * per self-service tenant, records and work queue in the PostgreSQL of DATABASE_URL (several
 * processes on one database share the work). Settings come from the environment (see
 * server-config.ts and automation/README.md); secrets are never printed.
 */
import { ConfigProblem, configFromEnv, describeConfig, engineSecretsSetting, requireDatabaseUrl } from "./server-config";
import { startSignupApp } from "./signup-app";

async function main(): Promise<number> {
  let config;
  let secrets: string;
  try {
    config = configFromEnv();
    // `npm run serve` is never the local default (that is serve:local): refuse before any state is touched.
    secrets = engineSecretsSetting();
    requireDatabaseUrl(config);
  } catch (err) {
    if (err instanceof ConfigProblem) {
      console.error(`signup server: ${err.message}`);
      return 2;
    }
    throw err;
  }
  const app = await startSignupApp(config);
  // JSON lines from here on, as every other line of the server (log.ts).
  for (const line of describeConfig(config)) app.log.log("info", line);
  app.log.log("info", `engine secrets: ${secrets}`);
  app.log.log("info", "listening", { url: app.url });
  const shutdown = (signal: string): void => {
    app.log.log("info", `${signal}, finishing the running operations (queued ones stay in the database for any server)`);
    app.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.once("SIGTERM", () => shutdown("SIGTERM"));
  process.once("SIGINT", () => shutdown("SIGINT"));
  return 0;
}

if (require.main === module) {
  main().then(
    (code) => {
      if (code !== 0) process.exit(code);
    },
    (err: unknown) => {
      console.error(`signup server: cannot start: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    },
  );
}

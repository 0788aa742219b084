/**
 * `npm run serve:local [-- --admin you@example.com] [--standin-program]`: the signup server on
 * the embedded defaults, for trying it on one machine:
 *   - the local cluster (scripts/local-cluster) for tenant status and the admin view;
 *   - the local Pulumi backend (.state/) with the Go-built CLI;
 *   - a local test JWKS: a small stand-in for Supabase Auth on loopback (the page's sign-up
 *     and sign-in work against it; accounts live in memory). Set SUPABASE_URL etc. and use
 *     `npm run serve` for a real Supabase project.
 * The program is the real odooSaasProgram. On a machine without the Kubernetes provider
 * plugin (this development machine) its updates fail with a plain message; `--standin-program`
 * runs the tests' stand-in program instead, which deploys nothing and says so.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { repoRoot } from "../automation/engine-env";
import { configFromEnv, describeConfig } from "../automation/server-config";
import { startSignupApp } from "../automation/signup-app";
import { standInEnv } from "../test/support/signup-harness";
import { standInProgram } from "../test/support/standin-program";
import { startAuthStandIn } from "../test/support/supabase-auth-standin";

async function main(argv: string[]): Promise<void> {
  const root = repoRoot();
  const adminIndex = argv.indexOf("--admin");
  const admin = adminIndex >= 0 ? argv[adminIndex + 1] : undefined;
  const standin = argv.includes("--standin-program");

  execFileSync(path.join(root, "scripts", "local-cluster"), ["up"], { stdio: "inherit" });
  const kubeconfig = path.join(process.env.ODOO_SAAS_CLUSTER_DIR ?? path.join(root, ".cluster"), "kubeconfig");
  const auth = await startAuthStandIn();
  if (admin !== undefined) auth.admins.add(admin);
  const config = configFromEnv({
    ...process.env,
    SUPABASE_URL: auth.url,
    SUPABASE_ANON_KEY: "local-standin-anon-key",
    SUPABASE_JWKS_URL: auth.jwksUrl,
    SUPABASE_JWT_ISSUER: auth.issuer,
    SUPABASE_JWT_AUDIENCE: auth.audience,
    KUBECONFIG: kubeconfig,
  }, root);
  const world = path.join(root, ".state", "standin-world");
  fs.mkdirSync(world, { recursive: true });
  const app = await startSignupApp(config, standin ? { program: standInProgram(), extraEnv: standInEnv(world, 1000, "") } : {});
  for (const line of describeConfig(config)) console.log(`serve:local: ${line}`);
  console.log(`serve:local: Supabase Auth stand-in (local test JWKS) at ${auth.url}${admin !== undefined ? `; ${admin} is an administrator` : ""}`);
  console.log(`serve:local: program: ${standin ? "STAND-IN (deploys nothing)" : "odooSaasProgram (needs the Kubernetes provider plugin)"}`);
  console.log(`serve:local: open ${app.url} and create an account; Ctrl-C stops (the cluster keeps running: scripts/local-cluster down)`);
  const stop = (): void => { void app.close().then(() => auth.close()).then(() => process.exit(0)); };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(`serve:local: cannot start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});

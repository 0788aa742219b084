/**
 * `npm run serve:local [-- --admin you@example.com]`: the signup server on
 * the embedded defaults, for trying it on one machine:
 *   - the local cluster (scripts/local-cluster) for tenant status and the admin view;
 *   - the local Pulumi backend (.state/) with the Go-built CLI;
 *   - PostgreSQL for the records and the work queue: DATABASE_URL when set, otherwise a
 *     local server (local/local-postgres.ts, as the tests use) whose data is kept across runs
 *     (localDatabaseDir);
 *   - a local test JWKS: a small stand-in for Supabase Auth on loopback (the page's sign-up
 *     and sign-in work against it; accounts live in memory). Set SUPABASE_URL etc. and use
 *     `npm run serve` for a real Supabase project.
 * The program is the real odooSaasProgram, deployed into the local cluster by the engine.
 */
import { execFileSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { repoRoot } from "../automation/engine/engine-env";
import { configFromEnv, describeConfig } from "../automation/server-config";
import { startSignupApp } from "../automation/signup-app";
import { startAuthStandIn } from "../local/local-supabase-auth";
import { startPostgres, type PostgresServer } from "../local/local-postgres";

/**
 * Where serve:local keeps its PostgreSQL data: `.state/postgres`; as root the server runs as
 * the `postgres` user, who cannot enter the private `.state`, so a folder of this checkout
 * under /var/tmp (kept across runs and reboots) instead.
 */
function localDatabaseDir(root: string): string {
  if (process.getuid?.() !== 0) return path.join(root, ".state", "postgres");
  return path.join("/var/tmp", `odoo-saas-postgres-${crypto.createHash("sha256").update(root).digest("hex").slice(0, 12)}`);
}

async function main(argv: string[]): Promise<void> {
  const root = repoRoot();
  const adminIndex = argv.indexOf("--admin");
  const admin = adminIndex >= 0 ? argv[adminIndex + 1] : undefined;

  // With the real node by default, as npm start; a cluster keeps the mode it was started in.
  const wantReal = (process.env.LOCAL_CLUSTER_REAL_NODES ?? "1") === "1";
  execFileSync(path.join(root, "scripts", "local-cluster"), ["up"], { stdio: "inherit", env: { ...process.env, LOCAL_CLUSTER_REAL_NODES: wantReal ? "1" : "0" } });
  const stateDir = process.env.ODOO_SAAS_CLUSTER_DIR ?? path.join(root, ".cluster");
  const kubeconfig = path.join(stateDir, "kubeconfig");
  // "ready" needs the tenant's address to answer through the ingress: the forwarder into the real node.
  const ingressPort = /^INGRESS_PORT=(\d+)$/m.exec(fs.readFileSync(path.join(stateDir, "ports.env"), "utf8"))?.[1];
  const ingressUrl = process.env.ODOO_SAAS_INGRESS_URL ?? (ingressPort !== undefined ? `http://127.0.0.1:${ingressPort}` : undefined);
  let pg: PostgresServer | undefined;
  let databaseUrl = process.env.DATABASE_URL;
  if (databaseUrl === undefined || databaseUrl === "") {
    pg = await startPostgres({ fsync: true, dir: localDatabaseDir(root) });
    if (pg.sql("postgres", "select 1 from pg_database where datname = 'odoo_saas'").trim() === "") pg.sql("postgres", "create database odoo_saas");
    databaseUrl = `postgres://${pg.env.PGUSER}:${encodeURIComponent(pg.env.PGPASSWORD)}@${pg.env.PGHOST}:${pg.env.PGPORT}/odoo_saas`;
  }
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
    DATABASE_URL: databaseUrl,
    ...(ingressUrl !== undefined ? { ODOO_SAAS_INGRESS_URL: ingressUrl } : {}),
    // Odoo itself never runs on this machine (a stand-in at best): customers see the demo notice.
    ODOO_SAAS_DEMO: process.env.ODOO_SAAS_DEMO ?? "1",
  }, root);
  const app = await startSignupApp(config);
  for (const line of describeConfig(config)) console.log(`serve:local: ${line}`);
  if (pg) console.log(`serve:local: records and queue in a local PostgreSQL (data in ${localDatabaseDir(root)}; DATABASE_URL overrides)`);
  console.log(`serve:local: Supabase Auth stand-in (local test JWKS) at ${auth.url}${admin !== undefined ? `; ${admin} is an administrator` : ""}`);
  console.log(ingressPort !== undefined
    ? `serve:local: program: odooSaasProgram into the local cluster's real node (PostgreSQL and the ODOO STAND-IN run; Odoo itself does not); ingress ${ingressUrl}; KUBECONFIG=${kubeconfig}`
    : `serve:local: program: odooSaasProgram into the local simulated cluster (KWOK nodes: pods report Running, no Odoo runs; status says "unknown": no ingress to ask); KUBECONFIG=${kubeconfig}`);
  console.log(`serve:local: open ${app.url} and create an account; Ctrl-C stops (the cluster keeps running: scripts/local-cluster down)`);
  const stop = (): void => { void app.close().then(() => auth.close()).then(() => pg?.stop()).then(() => process.exit(0)); };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(`serve:local: cannot start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});

// SQL runs only as fixed scripts shipped in this code. Values (database names, locales) travel as
// psql variables (`-v name=value`) and are interpolated by psql itself as `:"name"` (an identifier,
// quoted) or `:'name'` (a literal, quoted), so they are data, never SQL text.
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { PgConnection } from "../config";
import { spawnPg } from "./pg-process";

const BASE_ARGS = ["--no-psqlrc", "--no-password", "--quiet", "-v", "ON_ERROR_STOP=1"];

function variableArgs(variables: Record<string, string>): string[] {
  const args: string[] = [];
  for (const [name, value] of Object.entries(variables)) {
    if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`bad psql variable name ${name}`);
    if (value.includes("\0")) throw new Error(`psql variable ${name} contains a NUL byte`);
    args.push("-v", `${name}=${value}`);
  }
  return args;
}

/**
 * Runs a fixed script read from stdin against `database` and returns its output in unaligned,
 * tuples-only form (one row per line).
 */
export async function runPsqlScript(
  conn: PgConnection,
  database: string,
  script: string,
  variables: Record<string, string> = {},
): Promise<string> {
  const psql = spawnPg(conn, "psql", [...BASE_ARGS, "--no-align", "--tuples-only", ...variableArgs(variables)], database, {
    stdin: "pipe",
    stdout: "pipe",
  });
  const chunks: Buffer[] = [];
  psql.child.stdout!.on("data", (chunk: Buffer) => chunks.push(chunk));
  psql.child.stdin!.on("error", () => undefined); // psql may exit before reading all; its status tells why
  psql.child.stdin!.end(script);
  await psql.exited;
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * Feeds a SQL stream (a plain dump) into `database`, stopping at the first error. No
 * --single-transaction: the target is a fresh scratch database anyway, and one transaction over
 * a large Odoo schema can exhaust max_locks_per_transaction.
 */
export async function loadSqlStream(conn: PgConnection, database: string, sql: Readable): Promise<void> {
  const psql = spawnPg(conn, "psql", BASE_ARGS, database, { stdin: "pipe", stdout: "ignore" });
  let sourceError: Error | undefined;
  sql.on("error", (err: Error) => {
    sourceError ??= err;
    psql.child.kill("SIGTERM");
  });
  const feeding = pipeline(sql, psql.child.stdin!).catch(() => undefined);
  try {
    await psql.exited;
  } catch (err) {
    // When we stopped psql because the input broke, the input's error is the real cause;
    // otherwise psql's own message (the failing SQL) explains more than the EPIPE it causes here.
    throw sourceError ?? err;
  }
  await feeding;
  if (sourceError) throw sourceError;
}

/** libpq's words for a server that is not there yet (restarting, or its Service has no ready endpoint). */
const NOT_YET_THERE = /connection refused|could not connect|the database system is (starting up|shutting down|in recovery mode)|timeout expired|no route to host|could not translate host name/i;

/**
 * Waits until PostgreSQL answers, for at most `timeoutMs`: a backup or restore Job may start
 * while the tenant's PostgreSQL restarts (its Service then refuses connections), and should wait
 * for it rather than fail. Any other error (a wrong password, a missing database) fails at once.
 */
export async function waitForServer(conn: PgConnection, options: { timeoutMs?: number; log?: (line: string) => void } = {}): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  let told = false;
  for (;;) {
    try {
      await runPsqlScript(conn, conn.maintenanceDatabase, "SELECT 1");
      return;
    } catch (err) {
      const message = (err as Error).message;
      if (!NOT_YET_THERE.test(message) || Date.now() >= deadline) throw err;
      if (!told) options.log?.(`waiting for PostgreSQL at ${conn.host}:${conn.port} to accept connections`);
      told = true;
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  }
}

/**
 * One throwaway PostgreSQL server per mocha run (local/local-postgres.ts, the same one the
 * embedded default starts), a fresh database per test file or harness. Registered as mocha
 * global fixtures by the suites' mocharc (`require`); missing server binaries fail the run.
 */
import * as crypto from "node:crypto";
import { Client } from "pg";
import { startPostgres, type PostgresServer } from "../../local/local-postgres";

let server: PostgresServer | undefined;

export async function mochaGlobalSetup(): Promise<void> {
  server = await startPostgres();
}

export async function mochaGlobalTeardown(): Promise<void> {
  await server?.stop();
  server = undefined;
}

function requireServer(): PostgresServer {
  if (!server) throw new Error("no test PostgreSQL: add test/support/test-postgres to the suite's mocharc `require`");
  return server;
}

export function connectionString(database: string): string {
  const { env } = requireServer();
  return `postgres://${env.PGUSER}:${encodeURIComponent(env.PGPASSWORD)}@${env.PGHOST}:${env.PGPORT}/${database}`;
}

/** A new, empty database (its name is ours: letters, digits, "_"); returns its connection string. */
export async function freshDatabase(prefix = "t"): Promise<string> {
  const name = `${prefix.replace(/[^a-z0-9_]/g, "_")}_${crypto.randomBytes(5).toString("hex")}`;
  const client = new Client({ connectionString: connectionString("postgres") });
  await client.connect();
  try {
    await client.query(`create database ${name}`);
  } finally {
    await client.end();
  }
  return connectionString(name);
}

// Every PostgreSQL client program is spawned here: argument arrays, no shell, and an environment
// built from scratch so only the connection settings (and never the S3 secrets) reach the child.
import { ChildProcess, spawn } from "node:child_process";
import * as path from "node:path";
import { PgConnection } from "../config";

export type PgProgram = "pg_dump" | "psql";

export function pgProgramPath(conn: PgConnection, program: PgProgram): string {
  return conn.binDir !== undefined ? path.join(conn.binDir, program) : program;
}

/**
 * The database is named through PGDATABASE rather than `--dbname`: libpq expands a `--dbname`
 * value containing `=` as a connection string (so a name like `x host=evil` would redirect the
 * connection), while the environment value is always taken literally.
 */
export function pgChildEnv(conn: PgConnection, database: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
    LANG: "C.UTF-8",
    PGHOST: conn.host,
    PGPORT: String(conn.port),
    PGUSER: conn.user,
    PGDATABASE: database,
    PGAPPNAME: "odoo-saas-backup",
    PGCLIENTENCODING: "UTF8",
    ...conn.passThrough,
  };
  if (conn.password !== undefined) env.PGPASSWORD = conn.password;
  if (process.env.HOME !== undefined) env.HOME = process.env.HOME;
  return env;
}

/** Keeps only the last few KiB of a child's stderr, for error messages. */
export class StderrTail {
  private text = "";
  constructor(private readonly limit = 4096) {}
  push(chunk: Buffer | string): void {
    this.text = (this.text + chunk.toString()).slice(-this.limit);
  }
  toString(): string {
    return this.text.trim();
  }
}

export interface SpawnedPg {
  child: ChildProcess;
  stderr: StderrTail;
  /** Resolves when the program exited with status 0, rejects with its stderr otherwise. */
  exited: Promise<void>;
}

export function spawnPg(
  conn: PgConnection,
  program: PgProgram,
  args: readonly string[],
  database: string,
  stdio: { stdin: "pipe" | "ignore"; stdout: "pipe" | "ignore" },
): SpawnedPg {
  const child = spawn(pgProgramPath(conn, program), [...args], {
    env: pgChildEnv(conn, database),
    stdio: [stdio.stdin, stdio.stdout, "pipe"],
    shell: false,
  });
  const stderr = new StderrTail();
  child.stderr?.on("data", (chunk: Buffer) => stderr.push(chunk));
  const exited = new Promise<void>((resolve, reject) => {
    child.on("error", (err: NodeJS.ErrnoException) => {
      reject(
        err.code === "ENOENT"
          ? new Error(`${program} not found (${pgProgramPath(conn, program)}): install the PostgreSQL client or set PG_BIN_DIR`)
          : new Error(`${program} could not start: ${err.message}`),
      );
    });
    child.on("close", (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`${program} failed (${signal !== null ? `signal ${signal}` : `exit status ${code}`}): ${stderr.toString() || "no error output"}`));
    });
  });
  // Callers may attach their handlers later; avoid an unhandled rejection in the meantime.
  exited.catch(() => undefined);
  return { child, stderr, exited };
}

// A throwaway private PostgreSQL server (tests, benchmarks): initdb into a temporary folder, listen on a free port
// on 127.0.0.1 only (plus a private socket folder), password authentication over TCP.
// Missing server binaries are an error, not a skip: scripts/test-backup.sh installs them.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { freePort } from "./free-port";

export interface PgTestEnv {
  PGHOST: string;
  PGPORT: string;
  PGUSER: string;
  PGPASSWORD: string;
}

export interface PostgresServer {
  env: PgTestEnv;
  /** Folder with this server's client programs (psql, pg_dump), for PG_BIN_DIR. */
  binDir: string;
  /** Runs trusted test SQL (fixtures only) and returns unaligned tuples-only output. */
  sql(database: string, script: string, variables?: Record<string, string>, as?: { user: string; password: string }): string;
  stop(): Promise<void>;
}

function findBinDir(): string {
  const candidates: string[] = [];
  const root = "/usr/lib/postgresql";
  if (fs.existsSync(root)) {
    for (const version of fs.readdirSync(root).sort((a, b) => Number(b) - Number(a))) candidates.push(path.join(root, version, "bin"));
  }
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) if (dir) candidates.push(dir);
  for (const dir of candidates) {
    if (["initdb", "pg_ctl", "postgres", "psql", "pg_dump"].every((p) => fs.existsSync(path.join(dir, p)))) return fs.realpathSync(dir);
  }
  throw new Error(
    "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found in /usr/lib/postgresql/*/bin or PATH. " +
      "Install them (Debian: apt-get install -y postgresql) or run scripts/test-backup.sh, which does.",
  );
}


export interface StartOptions {
  /** Durable writes (default off: tests do not need crash safety; benchmarks want realism). */
  fsync?: boolean;
  /**
   * A folder kept across runs (serve:local's records): initialised once, reused after, not
   * removed by stop(). Default: a temporary folder, removed by stop().
   */
  dir?: string;
  /**
   * Name of the bootstrap superuser (initdb -U; default `postgres`). `odoo` reproduces a tenant
   * volume initialised before the application role existed (POSTGRES_USER=odoo).
   */
  superuser?: string;
}

export async function startPostgres(options: StartOptions = {}): Promise<PostgresServer> {
  const binDir = findBinDir();
  const asRoot = process.getuid?.() === 0;
  const kept = options.dir !== undefined;
  const dir = options.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), "odoo-saas-pg-"));
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const dataDir = path.join(dir, "data");
  const socketDir = path.join(dir, "socket");
  fs.mkdirSync(socketDir, { recursive: true });
  const pwfile = path.join(dir, "pwfile");
  const initialised = kept && fs.existsSync(path.join(dataDir, "PG_VERSION")) && fs.existsSync(pwfile);
  const password = initialised ? fs.readFileSync(pwfile, "utf8").trim() : randomBytes(12).toString("hex");
  if (!initialised) fs.writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  if (asRoot) {
    // initdb refuses to run as root: the server runs as the `postgres` OS user.
    execFileSync("chown", ["-R", "postgres:postgres", dir]);
    fs.chmodSync(dir, 0o700);
  }
  // runuser keeps argument arrays intact (no shell) when switching user.
  const run = (program: string, args: string[]): string[] => (asRoot ? ["runuser", "-u", "postgres", "--", path.join(binDir, program), ...args] : [path.join(binDir, program), ...args]);
  const sh = (argv: string[]) => {
    const r = spawnSync(argv[0]!, argv.slice(1), { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`${argv.slice(0, 5).join(" ")} failed: ${r.stderr || r.stdout || r.error?.message}`);
  };
  const superuser = options.superuser ?? "postgres";
  if (!initialised) sh(run("initdb", ["-D", dataDir, "-U", superuser, "-E", "UTF8", "--locale=C.UTF-8", "--auth-host=scram-sha-256", "--auth-local=trust", `--pwfile=${path.join(dir, "pwfile")}`]));

  let port = 0;
  for (let attempt = 0; attempt < 5; attempt++) {
    port = await freePort();
    // pg_ctl hands -o to the server through a shell: only our own mkdtemp path and a number go in.
    const argv = run("pg_ctl", ["-D", dataDir, "-l", path.join(dir, "server.log"), "-w", "-t", "60", "-o", `-c listen_addresses=127.0.0.1 -p ${port} -k ${socketDir} -c fsync=${options.fsync ? "on" : "off"}`, "start"]);
    const start = spawnSync(argv[0]!, argv.slice(1), { encoding: "utf8" });
    if (start.status === 0) break;
    if (attempt === 4) {
      const log = fs.existsSync(path.join(dir, "server.log")) ? fs.readFileSync(path.join(dir, "server.log"), "utf8") : "";
      throw new Error(`PostgreSQL did not start: ${start.stderr}\n${log}`);
    }
  }

  // A throwaway server outlives a SIGKILLed owner unless something watches for it.
  if (!kept) {
    const stopArgv = run("pg_ctl", ["-D", dataDir, "-m", "immediate", "-w", "stop"]);
    spawn(process.execPath, [path.join(__dirname, "postgres-watchdog.js"), String(process.pid), dir, JSON.stringify(stopArgv)], { detached: true, stdio: "ignore" }).unref();
  }

  const env: PgTestEnv = { PGHOST: "127.0.0.1", PGPORT: String(port), PGUSER: superuser, PGPASSWORD: password };
  const sql: PostgresServer["sql"] = (database, script, variables = {}, as) => {
    const args = ["--no-psqlrc", "-v", "ON_ERROR_STOP=1", "--quiet", "--no-align", "--tuples-only"];
    for (const [k, v] of Object.entries(variables)) args.push("-v", `${k}=${v}`);
    const r = spawnSync(path.join(binDir, "psql"), args, {
      input: script,
      encoding: "utf8",
      env: { PATH: process.env.PATH, ...env, ...(as ? { PGUSER: as.user, PGPASSWORD: as.password } : {}), PGDATABASE: database },
    });
    if (r.status !== 0) throw new Error(`psql failed: ${r.stderr}`);
    return r.stdout;
  };
  return {
    env,
    binDir,
    sql,
    async stop() {
      await new Promise<void>((resolve) => {
        // A kept folder is shut down cleanly (its data is meant to survive); a throwaway one at once.
        const argv = run("pg_ctl", ["-D", dataDir, "-m", kept ? "fast" : "immediate", "-w", "stop"]);
        spawn(argv[0]!, argv.slice(1), { stdio: "ignore" }).on("close", () => resolve());
      });
      if (!kept) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

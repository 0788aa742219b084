// Benchmark: our backup and restore against plain pg_dump -Fc / pg_restore on the same data.
//   node dist/scripts/bench-backup.js              # about 200 MB of database + 500 MB of filestore
//   BENCH_DB_MB=20 BENCH_FILES_MB=50 node dist/scripts/bench-backup.js    # a quick run
// Also: BENCH_COMPRESSION_LEVEL (passed to the backup as BACKUP_COMPRESSION_LEVEL), BENCH_VERBOSE=1
// (shows the backup's and restore's own progress lines, with timestamps).
// Starts its own PostgreSQL (fsync on) in a temporary folder and removes everything afterwards.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { startPostgres, PostgresServer } from "../local/local-postgres";

const MB = 1024 * 1024;
const CLI = path.resolve(__dirname, "../backup/cli.js");

interface Run {
  seconds: number;
  peakRssMb: number;
  stdout: string;
}

/** Runs a program, timing it and sampling its resident memory every 100 ms. */
function timed(program: string, args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(program, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let peak = 0;
    const sample = setInterval(() => {
      try {
        const rss = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${child.pid}/status`, "utf8"));
        if (rss) peak = Math.max(peak, Number(rss[1]) / 1024);
      } catch {
        /* exited */
      }
    }, 100);
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => {
      stderr = (stderr + c.toString()).slice(-4000);
      if (process.env.BENCH_VERBOSE) process.stderr.write(c);
    });
    child.on("error", reject);
    child.on("close", (code) => {
      clearInterval(sample);
      if (code !== 0) return reject(new Error(`${path.basename(program)} ${args[0] ?? ""} failed (${code}): ${stderr}`));
      resolve({ seconds: Number(process.hrtime.bigint() - started) / 1e9, peakRssMb: peak, stdout });
    });
  });
}

function databaseBytes(pg: PostgresServer, db: string): number {
  return Number(pg.sql("postgres", "SELECT pg_database_size(:'db');", { db }).trim());
}

/** Odoo-like rows (text, numbers, timestamps, jsonb, some bytea) until the database reaches `targetMb`. */
function fillDatabase(pg: PostgresServer, db: string, targetMb: number): void {
  pg.sql(db, `
    CREATE TABLE account_move_line (id bigserial PRIMARY KEY, move_id int, partner_id int, name text, ref text,
      debit numeric(16,2), credit numeric(16,2), date date, create_date timestamp, data jsonb);
    CREATE INDEX account_move_line_partner ON account_move_line (partner_id, date);
    CREATE TABLE ir_attachment_blob (id bigserial PRIMARY KEY, name text, datas bytea);
  `);
  let batch = 0;
  while (databaseBytes(pg, db) < targetMb * MB) {
    pg.sql(db, `
      INSERT INTO account_move_line (move_id, partner_id, name, ref, debit, credit, date, create_date, data)
      SELECT g / 7, g % 5000, 'Invoice line ' || g || ' — ' || md5(g::text), 'INV/2024/' || lpad((g / 7)::text, 6, '0'),
             (g % 1000) * 1.37, 0, date '2020-01-01' + (g % 1500), timestamp '2020-01-01' + g * interval '1 minute',
             jsonb_build_object('tax', g % 21, 'account', 400000 + g % 300, 'label', md5((g * 3)::text))
      FROM generate_series(${batch * 50000 + 1}, ${(batch + 1) * 50000}) AS g;
      INSERT INTO ir_attachment_blob (name, datas)
      SELECT 'blob ' || g, decode(string_agg(md5((g * 1000 + i)::text), ''), 'hex')
      FROM generate_series(${batch * 200 + 1}, ${(batch + 1) * 200}) AS g, generate_series(1, 256) AS i GROUP BY g;
    `);
    batch += 1;
  }
  pg.sql(db, "VACUUM ANALYZE;");
}

/** Random (incompressible, like images and PDFs) files of mixed sizes in Odoo's `xx/hash` layout. */
function fillFilestore(dir: string, targetMb: number): number {
  const sizes = [4 * 1024, 24 * 1024, 90 * 1024, 300 * 1024, 1.5 * MB, 6 * MB];
  let total = 0;
  let i = 0;
  while (total < targetMb * MB) {
    const size = Math.floor(sizes[i % sizes.length]! * (0.5 + Math.random()));
    const name = randomBytes(20).toString("hex");
    fs.mkdirSync(path.join(dir, name.slice(0, 2)), { recursive: true });
    fs.writeFileSync(path.join(dir, name.slice(0, 2), name), randomBytes(size));
    total += size;
    i += 1;
  }
  return total;
}

async function main(): Promise<void> {
  const dbMb = Number(process.env.BENCH_DB_MB ?? 200);
  const filesMb = Number(process.env.BENCH_FILES_MB ?? 500);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "odoo-saas-bench-"));
  const pg = await startPostgres({ fsync: true });
  try {
    const db = "bench";
    const filestore = path.join(work, "filestore", db);
    fs.mkdirSync(filestore, { recursive: true });
    process.stderr.write(`generating about ${dbMb} MB of database and ${filesMb} MB of filestore in ${work}\n`);
    pg.sql("postgres", `CREATE DATABASE ${db} TEMPLATE template0;`);
    fillDatabase(pg, db, dbMb);
    const fileBytes = fillFilestore(filestore, filesMb);
    const dbBytes = databaseBytes(pg, db);
    const fileCount = fs.readdirSync(filestore).reduce((n, d) => n + fs.readdirSync(path.join(filestore, d)).length, 0);
    const rowsBefore = pg.sql(db, "SELECT count(*), sum(debit) FROM account_move_line;").trim();

    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      ...pg.env,
      PG_BIN_DIR: pg.binDir,
      TENANT_ID: "bench",
      ODOO_VERSION: "17.0",
      PGDATABASE: db,
      FILESTORE_DIR: filestore,
      BACKUP_DIR: path.join(work, "backups"),
      ...(process.env.BENCH_COMPRESSION_LEVEL ? { BACKUP_COMPRESSION_LEVEL: process.env.BENCH_COMPRESSION_LEVEL } : {}),
    };
    const rows: string[][] = [];
    const row = (what: string, run: Run, sourceBytes: number, outputBytes?: number) =>
      rows.push([what, run.seconds.toFixed(1), (sourceBytes / MB).toFixed(0), outputBytes === undefined ? "" : (outputBytes / MB).toFixed(0), (sourceBytes / MB / run.seconds).toFixed(1), run.peakRssMb.toFixed(0)]);

    const backup = await timed(process.execPath, [CLI, "backup"], env);
    const name = backup.stdout.trim();
    const archiveBytes = fs.statSync(path.join(work, "backups", "bench", name)).size;
    row("our backup (db + filestore -> zip)", backup, dbBytes + fileBytes, archiveBytes);

    const restore = await timed(process.execPath, [CLI, "restore", name], env);
    row("our restore (verify, load, extract, switch)", restore, dbBytes + fileBytes);
    const rowsAfter = pg.sql(db, "SELECT count(*), sum(debit) FROM account_move_line;").trim();
    if (rowsAfter !== rowsBefore) throw new Error(`restore mismatch: ${rowsBefore} vs ${rowsAfter}`);

    const dumpFile = path.join(work, "bench.dump");
    const pgDump = await timed(path.join(pg.binDir, "pg_dump"), ["-Fc", "--no-owner", "--no-privileges", "-f", dumpFile], { ...env, PGDATABASE: db });
    row("pg_dump -Fc (db only)", pgDump, dbBytes, fs.statSync(dumpFile).size);

    pg.sql("postgres", "CREATE DATABASE bench_pg_restore TEMPLATE template0;");
    const pgRestore = await timed(path.join(pg.binDir, "pg_restore"), ["--no-owner", "--no-privileges", "-d", "bench_pg_restore", dumpFile], { ...env, PGDATABASE: "bench_pg_restore" });
    row("pg_restore (db only, into empty db)", pgRestore, dbBytes);

    const header = ["step", "time s", "source MB", "output MB", "MB/s", "peak RSS MB"];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(" | ")} |`;
    console.log(`\ndatabase ${(dbBytes / MB).toFixed(0)} MB (pg_database_size), filestore ${(fileBytes / MB).toFixed(0)} MB in ${fileCount} files, ${os.cpus().length} cores\n`);
    console.log(line(header));
    console.log(`|${widths.map((w, i) => (i === 0 ? "-".repeat(w + 2) : `${"-".repeat(w + 1)}:`)).join("|")}|`);
    for (const r of rows) console.log(line(r));
  } finally {
    await pg.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err: Error) => {
  process.stderr.write(`bench failed: ${err.message}\n`);
  process.exitCode = 1;
});

/**
 * Stops a throwaway PostgreSQL server (local/local-postgres.ts) once the process that started
 * it is gone, so a test run ended by SIGKILL leaves no server behind. Runs detached, in a
 * session of its own, as `node postgres-watchdog.js <owner pid> <dir> <pg_ctl argv as JSON>`.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

function main(): void {
  const [ownerArg, dir, stopJson] = process.argv.slice(2);
  const owner = Number(ownerArg);
  if (!Number.isInteger(owner) || owner <= 1 || !dir || !stopJson) {
    process.exitCode = 2;
    return;
  }
  const stop = JSON.parse(stopJson) as string[];
  const timer = setInterval(() => {
    if (!fs.existsSync(dir)) {
      clearInterval(timer); // stopped by its owner
      return;
    }
    if (alive(owner)) return;
    clearInterval(timer);
    spawnSync(stop[0]!, stop.slice(1), { stdio: "ignore", timeout: 30_000 });
    fs.rmSync(dir, { recursive: true, force: true });
  }, 1000);
}

main();

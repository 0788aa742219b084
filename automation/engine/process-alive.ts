import * as fs from "node:fs";

/**
 * Is a process of this host still running? (EPERM: it runs, as another user.) A zombie (exited,
 * not yet reaped: an engine killed with its launcher waits for init to reap it) is not.
 */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch {
    // No /proc (not Linux), or exited meanwhile: the signal check above decides.
    return fs.existsSync("/proc/self") ? false : true;
  }
}

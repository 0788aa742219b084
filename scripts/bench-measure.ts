/**
 * What the stack benchmarks measure around a run: wall time, and the peak resident memory of
 * the engine and its plugins (the Pulumi CLI and pulumi-resource-* processes) and of this
 * Node process (the inline program), sampled every 200 ms; and the machine's load.
 */
import * as fs from "node:fs";
import * as os from "node:os";

/** Pids of this process's descendants: the machine is shared, other engines are not ours. */
function descendants(root = process.pid): Set<number> {
  const children = new Map<number, number[]>();
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // Fields after the command name (which may hold spaces): state, then the parent's pid.
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch { /* exited meanwhile */ }
  }
  const found = new Set<number>();
  const queue = [root];
  while (queue.length > 0) {
    for (const child of children.get(queue.pop() as number) ?? []) {
      if (!found.has(child)) { found.add(child); queue.push(child); }
    }
  }
  return found;
}

/** Resident memory (bytes) of this run's engine processes: the pulumi CLI and its resource plugins. */
function engineRss(): number {
  let total = 0;
  for (const pid of descendants()) {
    try {
      const name = fs.readFileSync(`/proc/${pid}/comm`, "utf8").trim();
      if (name !== "pulumi" && !name.startsWith("pulumi-resource")) continue;
      const rss = /^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
      total += rss ? Number(rss[1]) * 1024 : 0;
    } catch { /* exited meanwhile */ }
  }
  return total;
}

/** Runs `work`, sampling memory every 200 ms; returns seconds and peaks. */
export async function measured<T>(work: () => Promise<T>): Promise<{ value: T; seconds: number; engineMb: number; nodeMb: number }> {
  let engine = 0;
  let node = 0;
  const sample = (): void => {
    engine = Math.max(engine, engineRss());
    node = Math.max(node, process.memoryUsage().rss);
  };
  const timer = setInterval(sample, 200);
  const started = process.hrtime.bigint();
  try {
    const value = await work();
    sample();
    return { value, seconds: Number(process.hrtime.bigint() - started) / 1e9, engineMb: engine / 2 ** 20, nodeMb: node / 2 ** 20 };
  } finally {
    clearInterval(timer);
  }
}

/** The 1-minute load average (other agents share the machine: the numbers say how busy it was). */
export function load1(): string {
  return (os.loadavg()[0] ?? 0).toFixed(1);
}

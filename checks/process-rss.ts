/**
 * Resident memory of a process tree from /proc (Linux): what the engines and plugins a
 * server started actually hold, for sizing the number of workers from measurements.
 */
import * as fs from "node:fs";

function read(file: string): string | undefined {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return undefined; // the process exited meanwhile
  }
}

/** Resident set size of one process in bytes (0 when it is gone). */
export function rssOf(pid: number): number {
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(read(`/proc/${pid}/status`) ?? "");
  return match ? Number(match[1]) * 1024 : 0;
}

export function commandOf(pid: number): string {
  return (read(`/proc/${pid}/cmdline`) ?? "").split("\0").join(" ").trim();
}

/** Every descendant of `pid` (children, their children, ...). */
export function descendants(pid: number): number[] {
  const out: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const current = queue.shift() as number;
    let tasks: string[] = [];
    try {
      tasks = fs.readdirSync(`/proc/${current}/task`);
    } catch {
      continue;
    }
    for (const task of tasks) {
      for (const child of (read(`/proc/${current}/task/${task}/children`) ?? "").split(/\s+/).filter(Boolean).map(Number)) {
        out.push(child);
        queue.push(child);
      }
    }
  }
  return out;
}

export interface TreeMemory {
  /** The process itself (e.g. the Node server with its inline programs). */
  selfBytes: number;
  /** Its descendants: engine CLIs and provider plugins. */
  childrenBytes: number;
  /** Descendants that are Pulumi CLIs (`pulumi ...`): one per running update. */
  engines: number;
}

export function treeMemory(pid = process.pid): TreeMemory {
  const children = descendants(pid);
  let childrenBytes = 0;
  let engines = 0;
  for (const child of children) {
    childrenBytes += rssOf(child);
    const argv0 = commandOf(child).split(" ")[0] ?? "";
    if (/(^|\/)pulumi$/.test(argv0)) engines++;
  }
  return { selfBytes: rssOf(pid), childrenBytes, engines };
}

/** Samples a tree every `everyMs` and keeps the peaks, until stopped. */
export function samplePeaks(pid = process.pid, everyMs = 250): { stop(): { peakTotalBytes: number; peakChildrenBytes: number; peakEngines: number } } {
  let peakTotalBytes = 0;
  let peakChildrenBytes = 0;
  let peakEngines = 0;
  const sample = (): void => {
    const m = treeMemory(pid);
    peakTotalBytes = Math.max(peakTotalBytes, m.selfBytes + m.childrenBytes);
    peakChildrenBytes = Math.max(peakChildrenBytes, m.childrenBytes);
    peakEngines = Math.max(peakEngines, m.engines);
  };
  sample();
  const timer = setInterval(sample, everyMs);
  timer.unref();
  return {
    stop: () => {
      clearInterval(timer);
      sample();
      return { peakTotalBytes, peakChildrenBytes, peakEngines };
    },
  };
}

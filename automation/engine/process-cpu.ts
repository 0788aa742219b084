/**
 * CPU time of an engine's process tree (the launcher, the CLI, its plugins), from /proc (Linux):
 * sampled while it runs, since an exited process's own time can no longer be read. A process's
 * last interval before it exits is missed (at most `intervalMs` of it), so this is a lower bound.
 */
import * as fs from "node:fs";
import { descendants } from "../../checks/process-rss";

/** clock ticks per second (USER_HZ): 100 on every Linux this runs on. */
const TICKS_PER_SECOND = 100;

interface ProcStat {
  comm: string;
  cpuTicks: number;
  /** Start, in ticks since boot. */
  startTicks: number;
}

export function procStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: fields follow the last ")".
  const close = text.lastIndexOf(")");
  const comm = text.slice(text.indexOf("(") + 1, close);
  const fields = text.slice(close + 2).split(" ");
  // After the name: state is field 3, so utime (14) is index 11, stime (15) 12, starttime (22) 19.
  return { comm, cpuTicks: Number(fields[11]) + Number(fields[12]), startTicks: Number(fields[19]) };
}

export interface TreeCpu {
  /** The CLI and its launcher. */
  engineMs: number;
  /** Provider and language plugins (`pulumi-resource-*`, `pulumi-language-*`). */
  pluginMs: number;
  /** Plugin processes seen: executable name (e.g. pulumi-resource-kubernetes) and start, ms since boot. */
  pluginStarts: Array<{ name: string; startMsSinceBoot: number }>;
}

export function isPlugin(comm: string): boolean {
  // comm is cut at 15 characters: "pulumi-resource", "pulumi-language".
  return comm.startsWith("pulumi-resource") || comm.startsWith("pulumi-language");
}

/** Samples the CPU time of `rootPid` and its descendants every `intervalMs` until stopped. */
export function sampleTreeCpu(rootPid: number, intervalMs = 100): { stop(): TreeCpu } {
  const last = new Map<number, ProcStat>();
  const names = new Map<number, string>();
  const sample = (): void => {
    for (const pid of [rootPid, ...descendants(rootPid)]) {
      const stat = procStat(pid);
      if (!stat) continue;
      last.set(pid, stat);
      if (isPlugin(stat.comm) && !names.has(pid)) names.set(pid, executableName(pid) ?? stat.comm);
    }
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  timer.unref();
  return {
    stop(): TreeCpu {
      clearInterval(timer);
      sample();
      const out: TreeCpu = { engineMs: 0, pluginMs: 0, pluginStarts: [] };
      for (const [pid, stat] of last) {
        const ms = (stat.cpuTicks * 1000) / TICKS_PER_SECOND;
        if (isPlugin(stat.comm)) {
          out.pluginMs += ms;
          out.pluginStarts.push({ name: names.get(pid) ?? stat.comm, startMsSinceBoot: (stat.startTicks * 1000) / TICKS_PER_SECOND });
        } else {
          out.engineMs += ms;
        }
      }
      return out;
    },
  };
}

function executableName(pid: number): string | undefined {
  try {
    const argv0 = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")[0] ?? "";
    return argv0.split("/").pop();
  } catch {
    return undefined;
  }
}

/** ms since boot now (/proc/uptime, 10 ms resolution): maps process start times to this clock. */
export function msSinceBoot(): number {
  return Number(fs.readFileSync("/proc/uptime", "utf8").split(" ")[0]) * 1000;
}

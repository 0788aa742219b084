/**
 * The phase breakdown of one signup for `bench:signup`: the phases the server's own code timed
 * (automation/engine/phase-timer.ts: queue, runner, engine processes, engine events, state
 * writes), and the CPU seconds the signup cost: the server's own (process.cpuUsage) and its
 * engines' and plugins' (the server's reaped children in /proc/self/stat, exact; split between
 * engine and plugins by sampling /proc while they ran). Meant for a signup that runs alone.
 */
import * as fs from "node:fs";
import { performance } from "node:perf_hooks";
import { onPhase, type PhaseSample } from "../automation/engine/phase-timer";

/** CPU ms of this process's reaped children (cutime + cstime of /proc/self/stat). */
function reapedChildrenMs(): number {
  const text = fs.readFileSync("/proc/self/stat", "utf8");
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[13]) + Number(fields[14])) * 1000) / 100;
}

export interface Breakdown {
  samples: PhaseSample[];
  serverCpuMs: number;
  childrenCpuMs: number;
  wallMs: number;
}

/** Collects every phase of every operation from now on; `finish(id)` takes one operation's. */
export function recordPhases(): { begin(): void; finish(operationId: string): Breakdown; stop(): void } {
  const samples: PhaseSample[] = [];
  const stop = onPhase((s) => samples.push(s));
  let cpu0 = process.cpuUsage();
  let children0 = reapedChildrenMs();
  let t0 = performance.now();
  return {
    begin(): void {
      cpu0 = process.cpuUsage();
      children0 = reapedChildrenMs();
      t0 = performance.now();
    },
    finish(operationId: string): Breakdown {
      const used = process.cpuUsage(cpu0);
      return {
        samples: samples.filter((s) => s.operationId === operationId),
        serverCpuMs: (used.user + used.system) / 1000,
        childrenCpuMs: reapedChildrenMs() - children0,
        wallMs: performance.now() - t0,
      };
    },
    stop,
  };
}

interface Line {
  phase: string;
  count: number;
  /** First start to last end: the wall time the phase occupies. */
  spanMs: number;
  /** Sum of the samples (phases that overlap, e.g. resources, add up to more than their span). */
  sumMs: number;
  cpuMs?: number;
}

function line(phase: string, samples: readonly PhaseSample[]): Line | undefined {
  if (samples.length === 0) return undefined;
  const start = Math.min(...samples.map((s) => s.startMs));
  const end = Math.max(...samples.map((s) => s.startMs + s.ms));
  const cpu = samples.filter((s) => s.cpuMs !== undefined);
  return { phase, count: samples.length, spanMs: end - start, sumMs: samples.reduce((a, s) => a + s.ms, 0), ...(cpu.length > 0 ? { cpuMs: cpu.reduce((a, s) => a + (s.cpuMs ?? 0), 0) } : {}) };
}

/** Plugin start: the plugin process's start to its provider's step (launched, handshake, config checked). */
function pluginStarts(samples: readonly PhaseSample[]): Line[] {
  const out: Line[] = [];
  for (const proc of samples.filter((s) => s.phase === "plugin process start")) {
    const name = (proc.detail ?? "").replace(/^pulumi-resource-/, "");
    const ready = samples.find((s) => s.phase === "provider ready" && s.detail === `pulumi:providers:${name}` && s.startMs >= proc.startMs);
    if (ready) out.push({ phase: `plugin start: ${name}`, count: 1, spanMs: ready.startMs - proc.startMs, sumMs: ready.startMs - proc.startMs });
  }
  return out;
}

export function breakdownTable(title: string, b: Breakdown, signupMs: number): string {
  const by = (phase: string, detail?: string): PhaseSample[] => b.samples.filter((s) => s.phase === phase && (detail === undefined || s.detail === detail));
  const lines: Array<Line | undefined> = [
    line("queue pickup (record -> run)", by("queue pickup")),
    line("stack lock", by("stack lock")),
    line("platform config read + check", by("platform config read")),
    line("workspace and stack selection", by("workspace and stack selection")),
    line("recovery (retries only)", by("recovery")),
    line("config writes", by("config writes")),
    line("namespace check", by("namespace check")),
    line("engine run (stack.up, all below)", by("engine run")),
    line("  engine start (call -> first event)", by("engine start")),
    ...pluginStarts(b.samples).map((l) => ({ ...l, phase: `  ${l.phase}` })),
    ...[...new Set(by("provider configure").map((s) => s.detail ?? ""))].map((d) => line(`  provider configure: ${d.replace("pulumi:providers:", "")}`, by("provider configure", d))),
    line("  program run (registrations)", by("program run")),
    ...[...new Set(b.samples.filter((s) => s.phase.startsWith("resource ")).map((s) => `${s.phase}\0${s.detail ?? ""}`))]
      .sort()
      .map((key) => {
        const [phase, detail] = key.split("\0") as [string, string];
        return line(`  ${phase}: ${detail}`, by(phase, detail));
      }),
    line("  state writes: checkpoint (temp file -> rename)", by("state write", "checkpoint")),
    line("  state writes: backup copy (temp file -> rename)", by("state write", "backup")),
    line("  engine finish (summary -> return)", by("engine finish")),
    ...[...new Set(by("engine process").map((s) => s.detail ?? ""))].map((verb) => line(`  CLI process: pulumi ${verb}`, by("engine process", verb))),
    ...[...new Set(by("plugin processes").map((s) => s.detail ?? ""))].map((verb) => {
      const l = line(`  plugins under: pulumi ${verb}`, by("plugin processes", verb));
      return l && l.cpuMs ? l : undefined;
    }),
    line("status write", by("status write")),
  ];
  const s = (ms: number): string => (ms / 1000).toFixed(2);
  const rows = lines.filter((l): l is Line => l !== undefined).map((l) => [l.phase, String(l.count), s(l.spanMs), s(l.sumMs), l.cpuMs === undefined ? "" : s(l.cpuMs)]);
  rows.push(["signup -> applied (client)", "1", s(signupMs), "", ""]);
  const sampled = by("engine process").reduce((a, x) => a + (x.cpuMs ?? 0), 0) + by("plugin processes").reduce((a, x) => a + (x.cpuMs ?? 0), 0);
  rows.push(["CPU: server (inline program, queue, HTTP)", "", "", "", s(b.serverCpuMs)]);
  rows.push(["CPU: engines + plugins (reaped, exact)", "", "", "", s(b.childrenCpuMs)]);
  rows.push(["CPU: engines + plugins (sampled)", "", "", "", s(sampled)]);
  const header = ["phase", "n", "wall s", "sum s", "CPU s"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const fmt = (cells: string[]): string => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join(" | ")} |`;
  return [title, fmt(header), `|${widths.map((w, i) => (i === 0 ? "-".repeat(w + 2) : `${"-".repeat(w + 1)}:`)).join("|")}|`, ...rows.map(fmt)].join("\n");
}

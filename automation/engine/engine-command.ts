/**
 * The engine's processes. Every Pulumi CLI command of the Automation API runs through
 * automation/engine/engine-launch.sh in a session of its own (setsid), so that
 * - when this process dies (kill -9, a crash), the launcher reads end-of-file on its fd 3 and
 *   ends the CLI and every plugin the CLI started (the CLI puts each plugin in a process group
 *   of its own, so one group kill would leave them running);
 * - a holder that lost its stack's lock ends that stack's engines at once (`endEngines`);
 * - engines whose owner is gone (say, a launcher killed by hand) carry the owner's mark in their
 *   environment and are ended on recovery (`endOrphanedEngines`).
 * Linux only (/proc), as the rest of the engine set-up.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { PulumiCommand } from "@pulumi/pulumi/automation";
import { phasesObserved, timerOfStack } from "./phase-timer";
import { msSinceBoot, sampleTreeCpu } from "./process-cpu";

/** The environment mark of an engine: `<owner pid>:<owner start time>` (pids are reused). */
export const OWNER_VAR = "ODOO_SAAS_ENGINE_OWNER";

interface CommandResultLike {
  stdout: string;
  stderr: string;
  code: number;
}
type RunFn = (args: string[], cwd: string, env: Record<string, string>, onOutput?: (s: string) => void, onError?: (s: string) => void, signal?: AbortSignal) => Promise<CommandResultLike>;

// The Automation API's own result and error types (internal there): its callers tell a lock
// conflict or a missing stack apart by these classes.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const internalCmd = require("@pulumi/pulumi/automation/cmd") as { CommandResult: new (stdout: string, stderr: string, code: number, err?: Error) => CommandResultLike };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const internalErrors = require("@pulumi/pulumi/automation/errors") as { createCommandError: (result: CommandResultLike) => Error };

/** Running launchers of this process, by stack name ("" for commands of no stack). */
const live = new Map<string, Map<ChildProcess, string[]>>();

/** Start time of a process in clock ticks since boot (field 22 of /proc/<pid>/stat), or undefined when gone. */
export function processStartTicks(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces and parentheses: fields follow the last ")".
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

let ownMark: string | undefined;
function ownerMark(): string {
  ownMark ??= `${process.pid}:${processStartTicks(process.pid) ?? "?"}`;
  return ownMark;
}

function stackOf(args: readonly string[]): string {
  const at = args.indexOf("--stack");
  if (at >= 0) return args[at + 1] ?? "";
  // `stack init <name>` names its stack without --stack.
  return args[0] === "stack" && args[1] === "init" ? (args[2] ?? "") : "";
}

function stripFinalNewline(text: string): string {
  return text.endsWith("\n") ? text.slice(0, text.endsWith("\r\n") ? -2 : -1) : text;
}

function launch(launcher: string, cli: string): RunFn {
  return (args, cwd, additionalEnv, onOutput, onError, signal) => {
    // As the Automation API's own run: never prompt; the CLI's folder first on the PATH.
    if (!args.includes("--non-interactive")) args.push("--non-interactive");
    const env: NodeJS.ProcessEnv = {
      ...process.env, ...additionalEnv,
      PATH: [path.dirname(cli), additionalEnv.PATH ?? process.env.PATH ?? ""].join(path.delimiter),
      PULUMI_AUTOMATION_API: "true",
      [OWNER_VAR]: ownerMark(),
    };
    const child = spawn("/bin/sh", [launcher, cli, ...args], { cwd, env, detached: true, stdio: ["ignore", "pipe", "pipe", "pipe"] });
    const stack = stackOf(args);
    // Timed only while someone listens to the run on this stack (phase-timer.ts).
    const timer = phasesObserved() ? timerOfStack(stack) : undefined;
    const started = performance.now();
    const cpu = timer && child.pid !== undefined ? sampleTreeCpu(child.pid) : undefined;
    const reasons: string[] = [];
    const running = live.get(stack) ?? new Map<ChildProcess, string[]>();
    running.set(child, reasons);
    live.set(stack, running);
    let stdout = "";
    let stderr = "";
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
      onOutput?.(chunk);
    });
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
      onError?.(chunk);
    });
    // The launcher forwards SIGINT to the CLI, which then stops gracefully.
    signal?.addEventListener("abort", () => child.kill("SIGINT"));
    return new Promise((resolve, reject) => {
      const done = (): void => {
        if (timer && cpu) {
          const ended = performance.now();
          const used = cpu.stop();
          // The verb only ("up", "stack output"): arguments may name the tenant.
          const verb = args.slice(0, args[0] === "stack" ? 2 : 1).join(" ");
          timer.record("engine process", started, ended, { detail: verb, cpuMs: used.engineMs });
          timer.record("plugin processes", started, ended, { detail: verb, cpuMs: used.pluginMs });
          const bootToPerf = performance.now() - msSinceBoot();
          for (const plugin of used.pluginStarts) timer.record("plugin process start", plugin.startMsSinceBoot + bootToPerf, plugin.startMsSinceBoot + bootToPerf, { detail: plugin.name });
        }
        running.delete(child);
        if (running.size === 0 && live.get(stack) === running) live.delete(stack);
      };
      child.once("error", (err) => {
        done();
        reject(internalErrors.createCommandError(new internalCmd.CommandResult("", err.message, -2, err)));
      });
      child.once("close", (code, sig) => {
        done();
        const exit = code ?? -2;
        if (exit === 0) {
          resolve(new internalCmd.CommandResult(stripFinalNewline(stdout), stripFinalNewline(stderr), 0));
          return;
        }
        const why = reasons.length > 0 ? reasons.join("; ") : sig !== null ? `stopped by ${sig}` : "";
        const text = why === "" ? stderr : `${stderr}\nthe engine was ended: ${why}`;
        reject(internalErrors.createCommandError(new internalCmd.CommandResult(stdout, text, exit)));
      });
    });
  };
}

/** The CLI under `root/bin`, each of its commands run through the launcher. */
export async function launchedCommand(cliRootDir: string, repoRootDir: string): Promise<PulumiCommand> {
  const command = await PulumiCommand.get({ root: cliRootDir });
  const launcher = path.join(repoRootDir, "automation", "engine", "engine-launch.sh");
  Object.defineProperty(command, "run", { value: launch(launcher, command.command) });
  return command;
}

/** Ends every engine this process runs on `stackName` (its session: CLI and plugins). Returns how many. */
export function endEngines(stackName: string, reason: string): number {
  const running = live.get(stackName);
  if (!running) return 0;
  for (const [child, reasons] of running) {
    reasons.push(reason);
    // End-of-file on fd 3: the launcher ends its whole session at once.
    child.stdio[3]?.destroy();
  }
  return running.size;
}

/** Engines this process runs now, on one stack or on all. */
export function runningEngines(stackName?: string): number {
  if (stackName !== undefined) return live.get(stackName)?.size ?? 0;
  let count = 0;
  for (const running of live.values()) count += running.size;
  return count;
}

/** Process ids of the launchers this process runs now (each leads its engine's session), for metrics. */
export function runningEnginePids(): number[] {
  const pids: number[] = [];
  for (const running of live.values()) for (const child of running.keys()) if (child.pid !== undefined) pids.push(child.pid);
  return pids;
}

/** The owner mark in a process's environment, or undefined (gone, another user's, unmarked). */
function markOf(pid: number): string | undefined {
  try {
    const prefix = `${OWNER_VAR}=`;
    const entry = fs.readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").find((e) => e.startsWith(prefix));
    return entry?.slice(prefix.length);
  } catch {
    return undefined;
  }
}

function ownerAlive(mark: string): boolean {
  const [pid, ticks] = mark.split(":");
  const owner = Number(pid);
  return Number.isInteger(owner) && owner > 0 && processStartTicks(owner) === ticks;
}

/**
 * Recovery: ends the engine processes (CLIs, plugins) of this host whose owner process is gone,
 * and returns their pids. Only processes carrying the mark are touched.
 */
export function endOrphanedEngines(): number[] {
  const ended: number[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    const mark = markOf(pid);
    if (mark === undefined || ownerAlive(mark)) continue;
    try {
      process.kill(pid, "SIGKILL");
      ended.push(pid);
    } catch {
      // exited meanwhile
    }
  }
  return ended;
}

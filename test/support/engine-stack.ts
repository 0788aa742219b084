/**
 * Stacks of the real program for tests: a private engine location (backend, PULUMI_HOME,
 * passphrase) per suite, config maps built from the fixtures, and the engine's processes
 * found by their command line (to kill them as a crash would).
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { EngineLocation } from "../../automation/engine/engine-env";
import { PROJECT_NAME } from "../../tenants/config-source";
import type { StackConfigInput } from "../../tenants/schema";

/** Every engine folder of this test process, removed when it exits (a suite's own `after` may do it sooner). */
const engineDirs = new Set<string>();
process.once("exit", () => {
  for (const dir of engineDirs) fs.rmSync(dir, { recursive: true, force: true });
});

export function tempEngine(prefix: string): EngineLocation & { dir: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `odoo-saas-${prefix}-`));
  engineDirs.add(dir);
  return { dir, backendDir: path.join(dir, "backend"), pulumiHome: path.join(dir, "home") };
}

/** `{ baseDomain: ... }` -> `{ "odoo-saas:baseDomain": ... }`, as under `config:` in a stack file. */
export function stackConfigMap(raw: StackConfigInput | Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(raw).map(([key, value]) => [`${PROJECT_NAME}:${key}`, value]));
}

/** The stack's checkpoint file in a file backend, as the engine wrote it. */
export function stateFile(engine: EngineLocation, stackName: string): string {
  return path.join(engine.backendDir, ".pulumi", "stacks", PROJECT_NAME, `${stackName}.json`);
}

/** Pids whose command line contains every one of `parts`. */
export function pidsMatching(...parts: string[]): number[] {
  const out: number[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0").join(" ");
      if (parts.every((p) => cmdline.includes(p))) out.push(Number(entry));
    } catch { /* exited meanwhile */ }
  }
  return out;
}

/** Direct children of a process (e.g. the plugins an engine started). */
export function childPids(pid: number): number[] {
  try {
    return execFileSync("ps", ["-o", "pid=", "--ppid", String(pid)], { encoding: "utf8" }).split("\n").map((l) => Number(l.trim())).filter((n) => n > 0);
  } catch {
    return [];
  }
}

/**
 * Server processes for tests that kill them: spawned in their own process group (so kill -9
 * of the group also kills the Pulumi CLI it runs, as a crash of the machine or container
 * would), tagged with a marker in their environment. Plugins started by the engine run in
 * their own sessions and outlive such a kill; `killTagged` finds those leftovers by the
 * marker and ends them by pid (only processes this test started carry the marker).
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  output: () => string;
}

export async function spawnServer(script: string, env: Record<string, string>, timeoutMs = 60_000): Promise<ServerProcess> {
  const child = spawn(process.execPath, [script], {
    env: { ...process.env, ...env },
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (c: Buffer) => (output += c.toString()));
  child.stderr?.on("data", (c: Buffer) => (output += c.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start within ${timeoutMs} ms:\n${output}`)), timeoutMs);
    const check = (): void => {
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout?.on("data", check);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${String(code)}) before listening:\n${output}`));
    });
  });
  return { child, url, output: () => output };
}

/** kill -9 of the whole process group: server, its Pulumi CLI, the language host. */
export async function killGroup(server: ServerProcess): Promise<void> {
  const pid = server.child.pid;
  if (pid === undefined) return;
  const exited = new Promise<void>((resolve) => server.child.once("exit", () => resolve()));
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // already gone
  }
  await exited;
}

/** Pids of live processes whose environment carries ODOO_SAAS_TEST_RUN=<marker>. */
export function taggedPids(marker: string): number[] {
  const needle = `ODOO_SAAS_TEST_RUN=${marker}`;
  const pids: number[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const environ = fs.readFileSync(`/proc/${entry}/environ`, "utf8");
      if (environ.split("\0").includes(needle)) pids.push(Number(entry));
    } catch {
      // exited, or not ours to read
    }
  }
  return pids;
}

export function killTagged(marker: string): number {
  const pids = taggedPids(marker);
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  return pids.length;
}

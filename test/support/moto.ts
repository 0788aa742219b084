// A throwaway S3-compatible server for tests: moto's server mode on a free port of 127.0.0.1.
// When moto_server is not installed it is installed into a private virtualenv (PyPI); if it
// still cannot start, the tests fail with the reason.
import { ChildProcess, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { freePort } from "../../local/free-port";

export const MOTO_VENV = path.join(os.homedir(), ".cache", "odoo-saas", "moto-venv");
const MOTO_REQUIREMENT = "moto[server]>=5,<6";

export interface MotoServer {
  endpoint: string;
  stop(): Promise<void>;
}

function onPath(program: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    const candidate = path.join(dir, program);
    if (dir && fs.existsSync(candidate)) {
      // pyenv shims exist for every installed version; make sure this one really runs.
      const probe = spawnSync(candidate, ["--help"], { stdio: "ignore" });
      if (probe.status === 0) return candidate;
    }
  }
  return undefined;
}

export function findOrInstallMotoServer(): string {
  const venvServer = path.join(MOTO_VENV, "bin", "moto_server");
  if (fs.existsSync(venvServer)) return venvServer;
  const found = onPath("moto_server");
  if (found) return found;
  const steps: [string, string[]][] = [
    ["python3", ["-m", "venv", MOTO_VENV]],
    [path.join(MOTO_VENV, "bin", "pip"), ["install", "--quiet", "--disable-pip-version-check", MOTO_REQUIREMENT]],
  ];
  fs.mkdirSync(path.dirname(MOTO_VENV), { recursive: true });
  for (const [program, args] of steps) {
    const r = spawnSync(program, args, { encoding: "utf8" });
    if (r.status !== 0) {
      throw new Error(`could not install moto for the S3 tests (${program} ${args.join(" ")}): ${r.stderr || r.error?.message}. ` + "Debian needs python3-venv; scripts/test-backup.sh installs it.");
    }
  }
  if (!fs.existsSync(venvServer)) throw new Error(`moto installed but ${venvServer} is missing`);
  return venvServer;
}


function ping(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get(url, (res) => {
      res.resume();
      resolve(true);
    });
    req.on("error", () => resolve(false));
    req.setTimeout(1000, () => {
      req.destroy();
      resolve(false);
    });
  });
}

export async function startMoto(): Promise<MotoServer> {
  const program = findOrInstallMotoServer();
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  let output = "";
  const child: ChildProcess = spawn(program, ["-H", "127.0.0.1", "-p", String(port)], { stdio: ["ignore", "pipe", "pipe"] });
  child.stdout?.on("data", (c: Buffer) => (output = (output + c.toString()).slice(-4000)));
  child.stderr?.on("data", (c: Buffer) => (output = (output + c.toString()).slice(-4000)));
  let exited = false;
  child.on("exit", () => (exited = true));
  const deadline = Date.now() + 60_000;
  while (!(await ping(`${endpoint}/moto-api/`))) {
    if (exited || Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`moto_server did not start on ${endpoint}: ${output}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    endpoint,
    stop: () =>
      new Promise<void>((resolve) => {
        if (exited) return resolve();
        child.on("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}

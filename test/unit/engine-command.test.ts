/**
 * The engine's launcher (automation/engine/engine-command.ts, engine-launch.sh) with real processes and
 * a stand-in CLI whose "plugins" sit in process groups of their own, as the real CLI's do:
 * output and failures pass through as the Automation API's own; kill -9 of the process that
 * started an engine ends the CLI and its plugins; `endEngines` ends one stack's engine; and
 * recovery ends marked processes whose owner is gone, and only those.
 */
import { expect } from "chai";
import { spawn } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { CommandError } from "@pulumi/pulumi/automation";
import { endEngines, endOrphanedEngines, launchedCommand, OWNER_VAR, processStartTicks, runningEngines } from "../../automation/engine/engine-command";
import { repoRoot } from "../../automation/engine/engine-env";
import { processAlive } from "../../automation/engine/process-alive";
import { fakeCliRoot, type EngineRun } from "../support/fake-cli";
import { taggedPids } from "../support/processes";

async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("engine launcher: one session per engine, ended with its owner", () => {
  let root: string;
  let command: EngineRun;
  const marker = `launcher-${crypto.randomBytes(4).toString("hex")}`;
  const env = { ODOO_SAAS_TEST_RUN: marker };

  before(async () => {
    root = fakeCliRoot();
    command = (await launchedCommand(root, repoRoot())) as unknown as EngineRun;
  });
  after(() => {
    for (const pid of taggedPids(marker)) process.kill(pid, "SIGKILL");
    fs.rmSync(root, { recursive: true, force: true });
  });

  it("passes output through, and a failure as the Automation API's CommandError with the CLI's text", async () => {
    const ok = await command.run(["stack", "ls", "--stack", "a"], root, env);
    expect(ok.stdout).to.equal("out:stack ls --stack a --non-interactive");
    const failure = await command.run(["fail"], root, env).then(() => undefined, (err: unknown) => err);
    expect(failure).to.be.instanceOf(CommandError);
    expect((failure as Error).message).to.match(/code: 3/).and.match(/boom: the stand-in failed/);
    expect(runningEngines()).to.equal(0);
  });

  it("endEngines ends the stack's CLI and the plugins in their own process groups, and says why", async () => {
    let started = false;
    const running = command.run(["spawn", "--stack", "doomed"], root, env, (text) => { started ||= text.includes("started"); });
    const outcome = running.then(() => "finished", (err: Error) => err.message);
    await until(() => started && taggedPids(marker).length >= 4);
    expect(runningEngines("doomed")).to.equal(1);
    expect(endEngines("other", "not this one")).to.equal(0);
    expect(endEngines("doomed", "the stack's lock was lost")).to.equal(1);
    expect(await outcome).to.match(/the engine was ended: the stack's lock was lost/);
    await until(() => taggedPids(marker).length === 0);
  });

  it("kill -9 of the process that started the engine ends the CLI and every plugin: none left", async () => {
    const owner = spawn(process.execPath, [path.join(__dirname, "..", "support", "engine-owner-main.js")], {
      env: { ...process.env, FAKE_CLI_ROOT: root, ...env }, stdio: ["ignore", "pipe", "pipe"],
    });
    await new Promise<void>((resolve, reject) => {
      owner.stdout?.on("data", (c: Buffer) => { if (c.toString().includes("engine started")) resolve(); });
      owner.once("exit", (code) => reject(new Error(`owner exited (${String(code)})`)));
    });
    await until(() => taggedPids(marker).length >= 5); // owner, launcher, CLI, two plugins (+ the watcher)
    owner.kill("SIGKILL");
    await until(() => taggedPids(marker).length === 0, 5_000);
  });

  it("a zombie (an engine killed with its launcher, not yet reaped) is not alive: its lock is stale", async () => {
    // `sleep 0` exits at once and its parent (exec'd into `sleep 30`) never reaps it.
    const parent = spawn("sh", ["-c", "sleep 0 & echo $!; exec sleep 30"], { stdio: ["ignore", "pipe", "ignore"] });
    const zombie = await new Promise<number>((resolve) => parent.stdout?.once("data", (c: Buffer) => resolve(Number(c.toString().trim()))));
    await until(() => fs.readFileSync(`/proc/${zombie}/stat`, "utf8").includes(") Z "));
    expect(processAlive(zombie)).to.equal(false);
    expect(processAlive(parent.pid as number)).to.equal(true);
    parent.kill("SIGKILL");
  });

  it("recovery ends marked processes whose owner is gone, and leaves those of a live owner", async () => {
    const dead = spawn("sleep", ["300"], { env: { ...process.env, ...env, [OWNER_VAR]: "999999999:1" }, stdio: "ignore" });
    const live = spawn("sleep", ["300"], { env: { ...process.env, ...env, [OWNER_VAR]: `${process.pid}:${processStartTicks(process.pid) ?? ""}` }, stdio: "ignore" });
    await until(() => taggedPids(marker).length === 2);
    const ended = endOrphanedEngines();
    expect(ended).to.include(dead.pid).and.not.include(live.pid);
    await until(() => taggedPids(marker).length === 1);
    live.kill("SIGKILL");
  });
});

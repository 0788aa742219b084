/**
 * A throwaway PostgreSQL server whose owner is killed with SIGKILL (no teardown runs) is
 * stopped by its watchdog: nothing is left listening on its port, no postmaster runs for it.
 */
import { spawn } from "node:child_process";
import * as net from "node:net";
import * as path from "node:path";
import { expect } from "chai";

const ownerMain = path.join(__dirname, "..", "support", "postgres-owner-main.js");

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    socket.once("connect", () => { socket.destroy(); resolve(true); });
    socket.once("error", () => resolve(false));
  });
}

async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return check();
}

describe("throwaway PostgreSQL: a SIGKILLed owner leaves no server behind", () => {
  it("the watchdog stops the server within seconds of its owner's death", async () => {
    const owner = spawn(process.execPath, [ownerMain], { stdio: ["ignore", "pipe", "inherit"] });
    const line = await new Promise<string>((resolve, reject) => {
      let out = "";
      owner.stdout.on("data", (c: Buffer) => { out += c.toString(); if (out.includes("\n")) resolve(out.split("\n")[0]!); });
      owner.once("exit", (code) => reject(new Error(`owner exited early (${code})`)));
    });
    const port = Number((JSON.parse(line) as { port: string }).port);
    expect(await listening(port), "the server answers while its owner lives").to.equal(true);
    await new Promise((r) => setTimeout(r, 1500));
    expect(await listening(port), "still answering while the owner lives").to.equal(true);
    owner.kill("SIGKILL");
    expect(await until(async () => !(await listening(port)), 20_000), "server still listening 20 s after its owner died").to.equal(true);
  });
});

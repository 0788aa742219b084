// `cli.js cat <name>`: what the owner's download from a PVC store runs inside the tenant's
// reader pod. Byte-exact on stdout, this tenant's complete backups only.
import { expect } from "chai";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { CLI, tempDir } from "./helpers";

function cat(args: string[], env: Record<string, string>): Promise<{ status: number | null; stdout: Buffer; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, "cat", ...args], { env: { PATH: process.env.PATH ?? "", ...env }, stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => out.push(c));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, stdout: Buffer.concat(out), stderr }));
  });
}

describe("CLI cat (owner downloads from a PVC store)", () => {
  let base: string;
  const NAME = "acme-20260102T030405Z-on-demand.zip";
  beforeEach(() => {
    base = tempDir("cat");
    fs.mkdirSync(path.join(base, "acme"));
    fs.mkdirSync(path.join(base, "globex"));
  });
  afterEach(() => fs.rmSync(base, { recursive: true, force: true }));
  const env = (): Record<string, string> => ({ TENANT_ID: "acme", BACKUP_DIR: base });

  it("writes a complete backup's bytes to stdout unchanged", async () => {
    const bytes = randomBytes(2 * 1024 * 1024 + 17);
    fs.writeFileSync(path.join(base, "acme", NAME), bytes);
    const r = await cat([NAME], env());
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout.equals(bytes)).to.equal(true);
  });

  it("refuses another tenant's name, a stray file, an unfinished backup and a missing one, printing nothing", async () => {
    fs.writeFileSync(path.join(base, "globex", "globex-20260102T030405Z-on-demand.zip"), "theirs");
    fs.writeFileSync(path.join(base, "acme", "notes.zip"), "stray");
    fs.writeFileSync(path.join(base, "acme", "acme-20260103T000000Z-scheduled.zip.partial"), "half");
    const cases: Array<[string, number]> = [
      ["globex-20260102T030405Z-on-demand.zip", 2],
      ["../globex/globex-20260102T030405Z-on-demand.zip", 2],
      ["notes.zip", 2],
      ["acme-20260103T000000Z-scheduled.zip", 1],
      [NAME, 1],
    ];
    for (const [name, status] of cases) {
      const r = await cat([name], env());
      expect(r.status, name).to.equal(status);
      expect(r.stdout.length, name).to.equal(0);
    }
  });
});

/**
 * ODOO_SAAS_BACKEND_URL=file://<folder>: a missing folder is created (the engine would stop
 * with "unable to open state directory"), a relative one is made absolute (the engine runs in
 * each stack's workspace folder), and one that cannot be created is refused in one sentence
 * naming the setting.
 */
import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { backendUrl, engineEnv, localBackendDir } from "../../automation/engine/engine-env";

describe("file:// state backend folder", () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "odoo-saas-backend-"));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("creates a missing folder before the engine runs, and gives the engine its absolute path", () => {
    const missing = path.join(dir, "not", "there", "yet");
    const location = { backendDir: path.join(dir, "home"), pulumiHome: path.join(dir, "pulumi-home"), backendUrl: `file://${missing}` };
    expect(fs.existsSync(missing)).to.equal(false);
    const env = engineEnv(location);
    expect(fs.statSync(missing).isDirectory()).to.equal(true);
    expect(env.PULUMI_BACKEND_URL).to.equal(`file://${missing}`);
    expect(localBackendDir(location)).to.equal(missing);
  });

  it("resolves a relative folder against the current folder, `~` against the home", () => {
    const base = { backendDir: "/x", pulumiHome: "/y" };
    expect(backendUrl({ ...base, backendUrl: "file://state/backend" })).to.equal(`file://${path.resolve("state/backend")}`);
    expect(backendUrl({ ...base, backendUrl: "file://~/state" })).to.equal(`file://${path.join(os.homedir(), "state")}`);
    expect(backendUrl({ ...base, backendUrl: "file:///srv/state?no_checksum=true" })).to.equal("file:///srv/state?no_checksum=true");
  });

  it("refuses a folder that cannot be created, in one sentence naming ODOO_SAAS_BACKEND_URL", () => {
    const blocker = path.join(dir, "a-file");
    fs.writeFileSync(blocker, "");
    const location = { backendDir: path.join(dir, "home"), pulumiHome: path.join(dir, "pulumi-home"), backendUrl: `file://${blocker}/state` };
    expect(() => engineEnv(location)).to.throw(/^ODOO_SAAS_BACKEND_URL names the state folder .*a-file\/state, which cannot be created or written \(ENOTDIR\); create it, or set ODOO_SAAS_BACKEND_URL to a folder this user can write\.$/);
  });
});

/**
 * Which Node.js language host the CLI runs for `pulumi up` of index.ts: one it already
 * finds (PATH, beside the CLI), else the project's build, put on PATH only then.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect } from "chai";
import { chooseLanguageHost, cliEnvironment, describeLanguageHost, LANGUAGE_HOST, languageHostFacts } from "../../automation/engine/language-host";

function executable(file: string): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, "#!/bin/sh\n", { mode: 0o755 });
  return file;
}

describe("language host choice", () => {
  it("prefers a host the CLI finds on PATH, then one beside the CLI, then the project's build", () => {
    expect(chooseLanguageHost({ onPath: "/usr/bin/h", besideCli: "/opt/pulumi/h", built: "/r/.tools/language" })).to.deep.equal({ kind: "present", path: "/usr/bin/h" });
    expect(chooseLanguageHost({ besideCli: "/opt/pulumi/h", built: "/r/.tools/language" })).to.deep.equal({ kind: "present", path: "/opt/pulumi/h" });
    expect(chooseLanguageHost({ built: "/r/.tools/language" })).to.deep.equal({ kind: "built", dir: "/r/.tools/language" });
    const missing = chooseLanguageHost({});
    expect(missing).to.deep.equal({ kind: "missing" });
    expect(describeLanguageHost(missing)).to.match(/build-tools\.sh pulumi-language-nodejs/);
  });

  it("reads the facts from disk: executables only, the first on PATH, the CLI's real folder", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "odoo-saas-langhost-"));
    try {
      const root = path.join(dir, "repo");
      const cliDir = path.join(dir, "pulumi-install");
      executable(path.join(cliDir, "pulumi"));
      fs.mkdirSync(path.join(root, ".tools", "bin"), { recursive: true });
      fs.symlinkSync(path.join(cliDir, "pulumi"), path.join(root, ".tools", "bin", "pulumi"));
      const cli = path.join(root, ".tools", "bin", "pulumi");
      const a = path.join(dir, "a");
      const b = path.join(dir, "b");
      fs.mkdirSync(a, { recursive: true });
      fs.writeFileSync(path.join(a, LANGUAGE_HOST), "not executable", { mode: 0o644 });
      executable(path.join(b, LANGUAGE_HOST));
      const pathValue = ["", a, b].join(path.delimiter);

      expect(languageHostFacts(root, pathValue, cli)).to.deep.equal({ onPath: path.join(b, LANGUAGE_HOST) });
      executable(path.join(root, ".tools", "language", LANGUAGE_HOST));
      executable(path.join(cliDir, LANGUAGE_HOST));
      expect(languageHostFacts(root, a, cli)).to.deep.equal({ besideCli: path.join(cliDir, LANGUAGE_HOST), built: path.join(root, ".tools", "language") });
      expect(languageHostFacts(root, a, path.join(dir, "no-cli"))).to.deep.equal({ built: path.join(root, ".tools", "language") });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("puts the project's build first on the CLI's PATH only when it is the choice", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "odoo-saas-langhost-"));
    const saved = { PATH: process.env.PATH, PULUMI_CLI_ROOT: process.env.PULUMI_CLI_ROOT, PULUMI_CONFIG_PASSPHRASE: process.env.PULUMI_CONFIG_PASSPHRASE };
    try {
      const root = path.join(dir, "repo");
      fs.mkdirSync(path.join(root, "node_modules", "@pulumi"), { recursive: true });
      for (const name of ["kubernetes", "random"]) {
        fs.mkdirSync(path.join(root, "node_modules", "@pulumi", name));
        fs.writeFileSync(path.join(root, "node_modules", "@pulumi", name, "package.json"), JSON.stringify({ version: "1.0.0" }));
      }
      const built = path.dirname(executable(path.join(root, ".tools", "language", LANGUAGE_HOST)));
      const location = { backendDir: path.join(dir, "backend"), pulumiHome: path.join(dir, "home") };
      process.env.PATH = "/usr/bin:/bin";
      delete process.env.PULUMI_CLI_ROOT;
      process.env.PULUMI_CONFIG_PASSPHRASE = "unit-test";

      const chosen = cliEnvironment(location, root);
      expect(chosen.host).to.deep.equal({ kind: "built", dir: built });
      expect(chosen.cli).to.equal(path.join(root, ".tools", "bin", "pulumi"));
      expect(chosen.env.PATH?.split(path.delimiter)[0]).to.equal(built);
      expect(chosen.env.PULUMI_BACKEND_URL).to.equal(`file://${location.backendDir}`);

      const own = path.dirname(executable(path.join(dir, "own-pulumi", LANGUAGE_HOST)));
      process.env.PATH = `${own}:/usr/bin:/bin`;
      const present = cliEnvironment(location, root);
      expect(present.host).to.deep.equal({ kind: "present", path: path.join(own, LANGUAGE_HOST) });
      expect(present.env.PATH?.split(path.delimiter)).not.to.include(built);
    } finally {
      for (const [key, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

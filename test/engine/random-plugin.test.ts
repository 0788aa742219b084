/**
 * The project's own random provider plugin (tools/pulumi-random) under the real engine,
 * through @pulumi/random's own resource class: values generated once and kept, secret in
 * the state, any input change (keepers included) replaces, nothing changes on a re-run.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { LocalWorkspace, type Stack } from "@pulumi/pulumi/automation";
import { engineEnv, pulumiCommand, repoRoot, workspaceDir, type EngineLocation } from "../../automation/engine/engine-env";
import { planPlugins } from "../../automation/engine/plugins";

describe("the random provider plugin under the real engine", function () {
  this.timeout(180_000);
  const root = repoRoot();
  let tmp: string;
  let location: EngineLocation;
  let stack: Stack;
  let inputs: { length: number; keeper: string } = { length: 24, keeper: "one" };

  const program = async (): Promise<Record<string, pulumi.Output<string>>> => {
    const password = new random.RandomPassword("pw", { length: inputs.length, special: false, keepers: { k: inputs.keeper } });
    return { result: password.result, hash: password.bcryptHash };
  };

  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "odoo-saas-random-"));
    location = { backendDir: path.join(tmp, "backend"), pulumiHome: path.join(tmp, "home") };
    const plan = planPlugins(root, location.pulumiHome);
    const source = plan.sources.find((s) => s.name === "random");
    if (source?.kind !== "built") throw new Error(`the project's random plugin is not built (.tools/plugins/random): run scripts/build-tools.sh (got ${source?.kind})`);
    stack = await LocalWorkspace.createOrSelectStack(
      { stackName: "random-test", projectName: "odoo-saas-random-test", program },
      { pulumiCommand: await pulumiCommand(root), envVars: engineEnv(location, root, plan), workDir: workspaceDir(location, "random-test"),
        projectSettings: { name: "odoo-saas-random-test", runtime: "nodejs", backend: { url: `file://${location.backendDir}` } } },
    );
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  const stateText = (): string => fs.readFileSync(path.join(location.backendDir, ".pulumi", "stacks", "odoo-saas-random-test", "random-test.json"), "utf8");

  let first = "";
  it("creates a password of the asked length, secret in the outputs and ciphertext in the state", async () => {
    const result = await stack.up();
    first = result.outputs.result?.value as string;
    expect(first).to.match(/^[A-Za-z0-9]{24}$/);
    expect(result.outputs.result?.secret).to.equal(true);
    expect(result.outputs.hash?.value as string).to.match(/^\$2[aby]\$10\$/);
    expect(stateText()).not.to.include(first);
    expect(stateText()).to.include("ciphertext");
  });

  it("the same inputs change nothing and keep the value", async () => {
    const preview = await stack.preview();
    expect(preview.changeSummary).to.deep.equal({ same: 2 });
    const result = await stack.up();
    expect(result.outputs.result?.value).to.equal(first);
  });

  it("a keepers change replaces it with a new value", async () => {
    inputs = { ...inputs, keeper: "two" };
    const result = await stack.up();
    expect(result.summary.resourceChanges).to.include({ replace: 1 });
    expect(result.outputs.result?.value).to.match(/^[A-Za-z0-9]{24}$/).and.not.equal(first);
  });

  it("a length change replaces it too", async () => {
    inputs = { ...inputs, length: 40 };
    const result = await stack.up();
    expect(result.summary.resourceChanges).to.include({ replace: 1 });
    expect(result.outputs.result?.value).to.match(/^[A-Za-z0-9]{40}$/);
  });
});

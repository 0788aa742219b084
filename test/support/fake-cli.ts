/**
 * A stand-in Pulumi CLI for the launcher's tests (test/unit/engine-command.test.ts): a shell
 * script that answers `version`, fails on `fail`, and on `spawn` starts two "plugins" in process
 * groups of their own (as the real CLI does, setpgid) before waiting. The real CLI is used by
 * the engine and integration suites.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const SCRIPT = `#!/bin/sh
case "$1" in
  version) echo v3.274.1 ;;
  fail) echo "boom: the stand-in failed" >&2; exit 3 ;;
  spawn)
    perl -e 'setpgrp(0, 0); sleep 300' &
    perl -e 'setpgrp(0, 0); sleep 300' &
    echo started
    sleep 300 ;;
  *) echo "out:$*" ;;
esac
`;

/** The Automation API's internal `run` of a PulumiCommand, as the launcher replaces it. */
export interface EngineRun {
  run(args: string[], cwd: string, env: Record<string, string>, onOutput?: (text: string) => void): Promise<{ stdout: string; stderr: string; code: number }>;
}

/** A folder whose bin/pulumi is the stand-in CLI. */
export function fakeCliRoot(): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "odoo-saas-fake-cli-"));
  fs.mkdirSync(path.join(root, "bin"));
  fs.writeFileSync(path.join(root, "bin", "pulumi"), SCRIPT, { mode: 0o755 });
  return root;
}

package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// A TypeScript program for the real engine: config, a secret, and a failure on demand.
const smokeProgram = `import * as pulumi from "@pulumi/pulumi";
const config = new pulumi.Config();
if (config.get("fail")) throw new Error("refused: " + config.get("fail"));
const typed: string = "hello " + config.require("who");
export const greeting = typed;
export const token = config.requireSecret("token");
`

// TestPulumiCLIRunsATypeScriptProgram runs the project's Go-built `pulumi` CLI
// (.tools/bin/pulumi, scripts/build-tools.sh) on a TypeScript project with this host on
// PATH: the engine starts the host, the SDK's cmd/run compiles index.ts with its ts-node.
func TestPulumiCLIRunsATypeScriptProgram(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the pulumi CLI")
	}
	root := repoRoot(t)
	cli := filepath.Join(root, ".tools", "bin", "pulumi")
	if _, err := os.Stat(cli); err != nil {
		t.Fatalf("the pulumi CLI is not built (scripts/build-tools.sh pulumi): %v", err)
	}
	bin := builtHost(t, testVersion)

	work := t.TempDir()
	project := filepath.Join(work, "project")
	for _, d := range []string{project, filepath.Join(work, "backend"), filepath.Join(work, "home")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	files := map[string]string{
		"Pulumi.yaml":  "name: smoke\nmain: index.ts\nruntime:\n  name: nodejs\n  options:\n    typescript: true\n",
		"package.json": `{"name": "smoke", "version": "0.0.0"}`,
		"index.ts":     smokeProgram,
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(project, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(filepath.Join(root, "node_modules"), filepath.Join(project, "node_modules")); err != nil {
		t.Fatal(err)
	}

	env := append(os.Environ(),
		"PATH="+filepath.Dir(bin)+string(os.PathListSeparator)+filepath.Dir(cli)+string(os.PathListSeparator)+os.Getenv("PATH"),
		"PULUMI_HOME="+filepath.Join(work, "home"), "PULUMI_BACKEND_URL=file://"+filepath.Join(work, "backend"),
		"PULUMI_CONFIG_PASSPHRASE=smoke-test-passphrase", "PULUMI_SKIP_UPDATE_CHECK=true",
		"PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true", "PULUMI_IGNORE_AMBIENT_PLUGINS=")
	pulumi := func(args ...string) (string, error) {
		cmd := exec.Command(cli, append(args, "--non-interactive")...)
		cmd.Dir, cmd.Env = project, env
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	must := func(args ...string) string {
		out, err := pulumi(args...)
		if err != nil {
			t.Fatalf("pulumi %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}

	must("stack", "init", "dev")
	must("config", "set", "who", "world")
	must("config", "set", "--secret", "token", "s3cret-value")
	up := must("up", "--yes", "--skip-preview")
	if !strings.Contains(up, "using pulumi-language-nodejs from $PATH at "+bin) {
		t.Fatalf("the engine did not say it ran this host:\n%s", up)
	}
	if strings.Contains(up, "s3cret-value") {
		t.Fatalf("the secret appeared in the output:\n%s", up)
	}
	var outputs map[string]string
	if err := json.Unmarshal([]byte(must("stack", "output", "--json", "--show-secrets")), &outputs); err != nil {
		t.Fatal(err)
	}
	if outputs["greeting"] != "hello world" || outputs["token"] != "s3cret-value" {
		t.Fatalf("stack outputs = %v", outputs)
	}
	must("preview", "--expect-no-changes")

	must("config", "set", "fail", "bad tenant")
	out, err := pulumi("preview")
	if err == nil || !strings.Contains(out, "Error: refused: bad tenant") {
		t.Fatalf("a throwing program must fail the preview with its message: %v\n%s", err, out)
	}
	if strings.Contains(out, "Program exited with non-zero exit code") {
		t.Fatalf("the SDK reported the error: the host must bail without adding its own:\n%s", out)
	}
}

package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
)

func runRequest(t *testing.T, programDir string, options map[string]any) *pulumirpc.RunRequest {
	t.Helper()
	opts, err := structpb.NewStruct(options)
	if err != nil {
		t.Fatal(err)
	}
	return &pulumirpc.RunRequest{
		Project: "odoo-saas", Stack: "dev", Organization: "organization", DryRun: true, Parallel: 16,
		MonitorAddress:   "127.0.0.1:4001",
		Config:           map[string]string{"odoo-saas:baseDomain": "odoo-saas.test", "kubernetes:context": "kind"},
		ConfigSecretKeys: []string{"odoo-saas:smtpPassword"},
		Args:             []string{"extra"},
		Info:             &pulumirpc.ProgramInfo{RootDirectory: programDir, ProgramDirectory: programDir, EntryPoint: "index.ts", Options: opts},
	}
}

func TestRunArgumentsAreCmdRunsCommandLine(t *testing.T) {
	req := runRequest(t, "/work/app", nil)
	got := runArguments(req, "/work/app/node_modules/@pulumi/pulumi/cmd/run/index.js", "127.0.0.1:4000", "")
	want := []string{"/work/app/node_modules/@pulumi/pulumi/cmd/run/index.js",
		"--monitor", "127.0.0.1:4001", "--engine", "127.0.0.1:4000", "--organization", "organization",
		"--project", "odoo-saas", "--root-directory", "/work/app", "--stack", "dev", "--pwd", "/work/app",
		"--dry-run", "--parallel", "16", "index.ts", "extra"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("runArguments =\n %q\nwant\n %q", got, want)
	}
	req.DryRun = false
	if got := runArguments(req, "run", "e", "http://zipkin:9411"); slices.Contains(got, "--dry-run") || !slices.Contains(got, "http://zipkin:9411") {
		t.Fatalf("an update must not pass --dry-run and must pass --tracing: %q", got)
	}
}

func TestRunEnvironmentCarriesConfigForTheSDK(t *testing.T) {
	req := runRequest(t, "/work/app", nil)
	env, err := runEnvironment([]string{"PATH=/bin", "PULUMI_CONFIG=stale"}, req, nodeOptions{typescript: true, tsconfig: "tsconfig.pulumi.json"})
	if err != nil {
		t.Fatal(err)
	}
	last := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		last[k] = v // os/exec keeps the last of duplicates
	}
	var cfg map[string]string
	if err := json.Unmarshal([]byte(last["PULUMI_CONFIG"]), &cfg); err != nil {
		t.Fatalf("PULUMI_CONFIG %q: %v", last["PULUMI_CONFIG"], err)
	}
	if !reflect.DeepEqual(cfg, map[string]string{"odoo-saas:config:baseDomain": "odoo-saas.test", "kubernetes:config:context": "kind"}) {
		t.Fatalf("PULUMI_CONFIG = %v", cfg)
	}
	if last["PULUMI_CONFIG_SECRET_KEYS"] != `["odoo-saas:smtpPassword"]` || last["PULUMI_NODEJS_TYPESCRIPT"] != "true" ||
		last["PULUMI_NODEJS_TSCONFIG_PATH"] != "tsconfig.pulumi.json" || last["PATH"] != "/bin" {
		t.Fatalf("environment = %v", last)
	}
	env, err = runEnvironment(nil, &pulumirpc.RunRequest{Info: req.Info}, nodeOptions{})
	if err != nil || slices.Contains(env, "PULUMI_NODEJS_TYPESCRIPT=true") || !slices.Contains(env, "PULUMI_CONFIG={}") || !slices.Contains(env, "PULUMI_CONFIG_SECRET_KEYS=[]") {
		t.Fatalf("no config, no typescript: %v, %v", env, err)
	}
	if _, err := runEnvironment(nil, &pulumirpc.RunRequest{Config: map[string]string{"no-namespace": "x"}}, nodeOptions{}); err == nil {
		t.Fatal("a config key without a namespace must be refused")
	}
}

// recorder is a stand-in for cmd/run (PULUMI_LANGUAGE_NODEJS_RUN_PATH, which Pulumi's host
// also honours): it writes what node received and exits with EXIT_CODE, or waits forever.
const recorder = `const fs = require("fs");
fs.writeFileSync(process.env.RECORD_TO, JSON.stringify({ argv: process.argv.slice(1), execArgv: process.execArgv,
  config: process.env.PULUMI_CONFIG, secretKeys: process.env.PULUMI_CONFIG_SECRET_KEYS, typescript: process.env.PULUMI_NODEJS_TYPESCRIPT }));
if (process.env.EXIT_CODE === "hang") setInterval(() => {}, 1000); else process.exit(Number(process.env.EXIT_CODE));
`

type recorded struct {
	Argv       []string `json:"argv"`
	ExecArgv   []string `json:"execArgv"`
	Config     string   `json:"config"`
	SecretKeys string   `json:"secretKeys"`
	Typescript string   `json:"typescript"`
}

func runWithRecorder(t *testing.T, h *host, exitCode string, options map[string]any) (*pulumirpc.RunResponse, recorded) {
	t.Helper()
	dir := t.TempDir()
	script := filepath.Join(dir, "recorder.js")
	if err := os.WriteFile(script, []byte(recorder), 0o600); err != nil {
		t.Fatal(err)
	}
	record := filepath.Join(dir, "record.json")
	t.Setenv("PULUMI_LANGUAGE_NODEJS_RUN_PATH", script)
	t.Setenv("RECORD_TO", record)
	t.Setenv("EXIT_CODE", exitCode)
	resp, err := h.Run(context.Background(), runRequest(t, dir, options))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	var rec recorded
	b, err := os.ReadFile(record)
	if err != nil {
		t.Fatalf("node did not run the runner: %v (response %v)", err, resp)
	}
	if err := json.Unmarshal(b, &rec); err != nil {
		t.Fatal(err)
	}
	return resp, rec
}

func TestRunStartsNodeWithTheRunnerAndReportsItsExit(t *testing.T) {
	h := newHost("127.0.0.1:4000", "", "test")
	resp, rec := runWithRecorder(t, h, "0", map[string]any{"nodeargs": "--no-warnings"})
	if resp.Error != "" || resp.Bail {
		t.Fatalf("exit 0: %v", resp)
	}
	if !strings.HasSuffix(rec.Argv[0], "recorder.js") || !slices.Contains(rec.Argv, "--engine") || rec.Argv[len(rec.Argv)-2] != "index.ts" {
		t.Fatalf("argv = %q", rec.Argv)
	}
	if !reflect.DeepEqual(rec.ExecArgv, []string{"--no-warnings"}) || rec.Typescript != "true" || rec.SecretKeys != `["odoo-saas:smtpPassword"]` ||
		!strings.Contains(rec.Config, `"odoo-saas:config:baseDomain":"odoo-saas.test"`) {
		t.Fatalf("node got %+v", rec)
	}

	resp, _ = runWithRecorder(t, h, "32", nil)
	if !resp.Bail || resp.Error != "" {
		t.Fatalf("exit 32 (the SDK already reported the error) must bail silently: %v", resp)
	}
	resp, _ = runWithRecorder(t, h, "7", nil)
	if resp.Bail || resp.Error != "Program exited with non-zero exit code: 7" {
		t.Fatalf("exit 7: %v", resp)
	}
}

func TestCancelInterruptsTheProgram(t *testing.T) {
	h := newHost("127.0.0.1:4000", "", "test")
	go func() {
		time.Sleep(1500 * time.Millisecond)
		_, _ = h.Cancel(context.Background(), &emptypb.Empty{})
	}()
	start := time.Now()
	resp, _ := runWithRecorder(t, h, "hang", nil)
	if !strings.HasPrefix(resp.Error, "Program was stopped") || time.Since(start) > 10*time.Second {
		t.Fatalf("after Cancel: %v in %s", resp, time.Since(start))
	}
}

func TestRunWithoutTheSDKSaysWhatToInstall(t *testing.T) {
	h := newHost("127.0.0.1:4000", "", "test")
	t.Setenv("PULUMI_LANGUAGE_NODEJS_RUN_PATH", "")
	resp, err := h.Run(context.Background(), runRequest(t, t.TempDir(), nil))
	if err != nil || !strings.Contains(resp.Error, "cannot resolve @pulumi/pulumi/cmd/run") || !strings.Contains(resp.Error, "npm ci") {
		t.Fatalf("Run without node_modules = %v, %v", resp, err)
	}
	if _, err := newHost("", "", "test").Run(context.Background(), runRequest(t, t.TempDir(), nil)); err == nil {
		t.Fatal("Run without an engine address must fail")
	}
}

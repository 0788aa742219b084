package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/config"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

const (
	// The SDK's program runner, resolved from the program's folder (Pulumi's host does the
	// same; PULUMI_LANGUAGE_NODEJS_RUN_PATH overrides it, as there).
	defaultRunModule = "@pulumi/pulumi/cmd/run"
	// The SDK exits with this code after it showed the user an actionable message: the
	// engine then stops without adding its own.
	exitAfterUserMessage = 32
)

// Run runs the program once: node with the SDK's cmd/run, the engine's arguments, and the
// stack's config in PULUMI_CONFIG / PULUMI_CONFIG_SECRET_KEYS.
//
// Unlike Pulumi's host, the program talks to the engine's resource monitor directly: that
// host interposes a proxy only to serve synchronous invokes over files (--sync), a
// deprecated path this project does not use (the inline Automation API path has none
// either).
func (h *host) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	if req.GetAttachDebugger() {
		return &pulumirpc.RunResponse{Error: "this language host (the project's own) cannot attach a debugger"}, nil
	}
	engine := h.engine()
	if engine == "" {
		return nil, errors.New("no engine address: start the host with the engine's address, or call Handshake before Run")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("could not find node on the PATH: %v", err)}, nil
	}
	opts, err := parseOptions(req.GetInfo().GetOptions().AsMap())
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}
	runModule := os.Getenv("PULUMI_LANGUAGE_NODEJS_RUN_PATH")
	if runModule == "" {
		runModule = defaultRunModule
	}
	runPath, err := locateModule(ctx, runModule, req.GetInfo().GetProgramDirectory())
	if err != nil {
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("%v. Is the Pulumi SDK installed (npm ci)?", err)}, nil
	}
	env, err := runEnvironment(os.Environ(), req, opts)
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}
	args := append(append([]string{}, opts.nodeargs...), runArguments(req, runPath, engine, h.tracing)...)
	return h.execNode(ctx, node, args, env), nil
}

// runArguments is cmd/run's command line, built as Pulumi's host builds it.
func runArguments(req *pulumirpc.RunRequest, runPath, engineAddress, tracing string) []string {
	args := []string{runPath}
	flag := func(name, value string) {
		if value != "" {
			args = append(args, "--"+name, value)
		}
	}
	flag("monitor", req.GetMonitorAddress())
	flag("engine", engineAddress)
	flag("organization", req.GetOrganization())
	flag("project", req.GetProject())
	flag("root-directory", req.GetInfo().GetRootDirectory())
	flag("stack", req.GetStack())
	flag("pwd", req.GetInfo().GetProgramDirectory())
	if req.GetDryRun() {
		args = append(args, "--dry-run")
	}
	flag("parallel", strconv.Itoa(int(req.GetParallel())))
	flag("tracing", tracing)
	// The engine always names an entry point ("." for the program folder).
	args = append(args, req.GetInfo().GetEntryPoint())
	return append(args, req.GetArgs()...)
}

// runEnvironment adds the stack's config and the TypeScript options to the host's own
// environment (later entries win in os/exec).
func runEnvironment(base []string, req *pulumirpc.RunRequest, opts nodeOptions) ([]string, error) {
	// Keys go to the SDK as `<namespace>:config:<name>`, the form every SDK version reads.
	cfg := make(map[string]string, len(req.GetConfig()))
	for k, v := range req.GetConfig() {
		key, err := config.ParseKey(k)
		if err != nil {
			return nil, fmt.Errorf("config key %q: %w", k, err)
		}
		cfg[key.Namespace()+":config:"+key.Name()] = v
	}
	cfgJSON, err := json.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("failed to serialize configuration: %w", err)
	}
	secretKeys := req.GetConfigSecretKeys()
	if secretKeys == nil {
		secretKeys = []string{}
	}
	secretJSON, err := json.Marshal(secretKeys)
	if err != nil {
		return nil, fmt.Errorf("failed to serialize configuration secret keys: %w", err)
	}
	env := append(append([]string{}, base...), "PULUMI_CONFIG="+string(cfgJSON), "PULUMI_CONFIG_SECRET_KEYS="+string(secretJSON))
	if opts.typescript {
		env = append(env, "PULUMI_NODEJS_TYPESCRIPT=true")
	}
	if opts.tsconfig != "" {
		env = append(env, "PULUMI_NODEJS_TSCONFIG_PATH="+opts.tsconfig)
	}
	return env, nil
}

// execNode runs node to the end and turns its exit into the engine's answer: 0 is
// success, 32 "already reported" (bail), anything else an error naming the code.
func (h *host) execNode(ctx context.Context, node string, args, env []string) *pulumirpc.RunResponse {
	// Interrupted by the engine's Cancel, or when the engine abandons the request.
	cmdCtx, cancel := context.WithCancel(h.cancelCtx)
	defer cancel()
	stop := context.AfterFunc(ctx, cancel)
	defer stop()
	cmd := exec.CommandContext(cmdCtx, node, args...)
	cmd.Cancel = func() error {
		if err := cmd.Process.Signal(os.Interrupt); err != nil {
			return cmd.Process.Kill()
		}
		return nil
	}
	cmd.WaitDelay = 5 * time.Second
	cmd.Env = env
	// Wrapped so os/exec copies through a pipe: node may switch its stdio to non-blocking,
	// which must not leak into the engine's file descriptors.
	cmd.Stdout = struct{ io.Writer }{os.Stdout}
	cmd.Stderr = struct{ io.Writer }{os.Stderr}

	err := cmd.Run()
	if err == nil {
		return &pulumirpc.RunResponse{}
	}
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		switch code := exitErr.ExitCode(); code {
		case exitAfterUserMessage:
			return &pulumirpc.RunResponse{Bail: true}
		case -1:
			return &pulumirpc.RunResponse{Error: fmt.Sprintf("Program was stopped: %v", exitErr)}
		default:
			return &pulumirpc.RunResponse{Error: fmt.Sprintf("Program exited with non-zero exit code: %d", code)}
		}
	}
	return &pulumirpc.RunResponse{Error: fmt.Sprintf("Problem executing program (could not run node): %v", err)}
}

package main

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/types/known/emptypb"
)

// host implements the LanguageRuntime service for Node.js programs. Methods it does not
// implement (code generation, packing, linking, RunPlugin, Template) answer Unimplemented
// through the embedded type; the engine does not call them for `preview`/`up`/`destroy`.
type host struct {
	pulumirpc.UnimplementedLanguageRuntimeServer

	version string
	tracing string

	mu            sync.Mutex
	engineAddress string

	// cancelled when the engine sends Cancel: the running program is interrupted.
	cancelCtx  context.Context
	cancelFunc context.CancelFunc
}

func newHost(engineAddress, tracing, version string) *host {
	ctx, cancel := context.WithCancel(context.Background())
	return &host{version: version, tracing: tracing, engineAddress: engineAddress, cancelCtx: ctx, cancelFunc: cancel}
}

func (h *host) engine() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.engineAddress
}

func (h *host) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: h.version}, nil
}

// Handshake is how the engine gives its address to a host it attached to rather than
// started (PULUMI_DEBUG_LANGUAGES); a started host gets it as its argument.
func (h *host) Handshake(_ context.Context, req *pulumirpc.LanguageHandshakeRequest) (*pulumirpc.LanguageHandshakeResponse, error) {
	if req.GetEngineAddress() == "" {
		return nil, errors.New("handshake without an engine address")
	}
	h.mu.Lock()
	h.engineAddress = req.GetEngineAddress()
	h.mu.Unlock()
	if err := rpcutil.Healthcheck(h.cancelCtx, req.GetEngineAddress(), 5*time.Minute, h.cancelFunc); err != nil {
		return nil, fmt.Errorf("could not start the health check of the engine: %w", err)
	}
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *host) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	h.cancelFunc()
	return &emptypb.Empty{}, nil
}

// RuntimeOptionsPrompts asks nothing: the project's Pulumi.yaml sets its options.
func (h *host) RuntimeOptionsPrompts(context.Context, *pulumirpc.RuntimeOptionsRequest) (*pulumirpc.RuntimeOptionsResponse, error) {
	return &pulumirpc.RuntimeOptionsResponse{}, nil
}

// About reports what `pulumi about` shows for Pulumi's host: node's path and version, the
// package manager and the TypeScript the program would load. A version it cannot read is
// left out rather than guessed.
func (h *host) About(ctx context.Context, req *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, fmt.Errorf("could not find node on the PATH: %w", err)
	}
	dir := req.GetInfo().GetProgramDirectory()
	metadata := map[string]string{"packagemanager": "npm"}
	if v := commandOutput(ctx, dir, "npm", "--version"); v != "" {
		metadata["packagemanagerVersion"] = v
	}
	if v := commandOutput(ctx, dir, node, "-e", "console.log(require('typescript/package.json').version)"); v != "" {
		metadata["typescriptVersion"] = v
	}
	return &pulumirpc.AboutResponse{Executable: node, Version: commandOutput(ctx, dir, node, "--version"), Metadata: metadata}, nil
}

// InstallDependencies does not install: the project's set-up runs `npm ci` (installing
// from the lock file is its job, and a second installer could change node_modules under
// a running server). It checks that the SDK is there and says so, or fails saying what to run.
func (h *host) InstallDependencies(req *pulumirpc.InstallDependenciesRequest, server pulumirpc.LanguageRuntime_InstallDependenciesServer) error {
	closer, stdout, _, err := rpcutil.MakeInstallDependenciesStreams(server, req.GetIsTerminal())
	if err != nil {
		return err
	}
	defer closer.Close()
	dir := req.GetInfo().GetProgramDirectory()
	sdk, err := locateModule(server.Context(), "@pulumi/pulumi/package.json", dir)
	if err != nil {
		return fmt.Errorf("@pulumi/pulumi is not installed for %s: run `npm ci` there (this language host does not install packages): %w", dir, err)
	}
	fmt.Fprintf(stdout, "Not installing: this language host leaves dependencies to `npm ci` (the project's set-up); @pulumi/pulumi found at %s\n", sdk)
	return closer.Close()
}

// commandOutput is the trimmed stdout of a command, or "" when it fails.
func commandOutput(ctx context.Context, dir, name string, args ...string) string {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// locateModule resolves a module from the program's folder with node's own resolution,
// as Pulumi's host does, so the SDK the program imports is the one that runs it.
func locateModule(ctx context.Context, module, dir string) (string, error) {
	// The module name is passed as an argument, never spliced into the script.
	cmd := exec.CommandContext(ctx, "node", "-e", "console.log(require.resolve(process.argv[1]))", module)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			return "", fmt.Errorf("cannot resolve %s from %s: %s", module, dir, firstLine(string(exitErr.Stderr)))
		}
		return "", fmt.Errorf("cannot run node to resolve %s: %w", module, err)
	}
	return strings.TrimSpace(string(out)), nil
}

func firstLine(s string) string {
	for _, line := range strings.Split(s, "\n") {
		if t := strings.TrimSpace(line); t != "" && !strings.HasPrefix(t, "node:") && !strings.HasPrefix(t, "throw ") && !strings.HasPrefix(t, "^") {
			return t
		}
	}
	return strings.TrimSpace(s)
}

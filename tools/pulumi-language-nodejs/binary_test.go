package main

import (
	"bufio"
	"context"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthgrpc "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
)

var buildOnce struct {
	sync.Once
	bin string
	err error
	out []byte
}

// builtHost builds the host once per test run, stamped with version, as build-tools.sh does.
func builtHost(t *testing.T, version string) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "langhost-test-")
		if err != nil {
			buildOnce.err = err
			return
		}
		buildOnce.bin = filepath.Join(dir, "pulumi-language-nodejs")
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-X main.Version="+version, "-o", buildOnce.bin, ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		buildOnce.out, buildOnce.err = cmd.CombinedOutput()
	})
	if buildOnce.err != nil {
		t.Fatalf("go build: %v\n%s", buildOnce.err, buildOnce.out)
	}
	return buildOnce.bin
}

const testVersion = "3.274.1+smoke.1"

func TestMain(m *testing.M) {
	code := m.Run()
	if buildOnce.bin != "" {
		_ = os.RemoveAll(filepath.Dir(buildOnce.bin))
	}
	os.Exit(code)
}

// TestBinaryServesTheEngine starts the built host the way the engine does (logging flags,
// then the engine's address; it prints its port) next to a gRPC health service standing
// for the engine, and calls it over gRPC.
func TestBinaryServesTheEngine(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the host binary")
	}
	bin := builtHost(t, testVersion)

	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	engine := grpc.NewServer()
	healthgrpc.RegisterHealthServer(engine, health.NewServer())
	go func() { _ = engine.Serve(lis) }()
	t.Cleanup(engine.Stop)

	cmd := exec.Command(bin, "--logtostderr", "-v=1", lis.Addr().String())
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	port, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the port: %v", err)
	}
	conn, err := grpc.NewClient("127.0.0.1:"+strings.TrimSpace(port), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := pulumirpc.NewLanguageRuntimeClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	info, err := client.GetPluginInfo(ctx, &emptypb.Empty{})
	if err != nil || info.Version != testVersion {
		t.Fatalf("GetPluginInfo = %v, %v; want version %s", info, err, testVersion)
	}
	root := repoRoot(t)
	program := &pulumirpc.ProgramInfo{RootDirectory: root, ProgramDirectory: root, EntryPoint: "index.ts"}
	packages, err := client.GetRequiredPackages(ctx, &pulumirpc.GetRequiredPackagesRequest{Info: program})
	if err != nil || len(packages.Packages) != 2 {
		t.Fatalf("GetRequiredPackages = %v, %v; want kubernetes and random", packages, err)
	}
	about, err := client.About(ctx, &pulumirpc.AboutRequest{Info: program})
	if err != nil || !strings.HasSuffix(about.Executable, "node") || !strings.HasPrefix(about.Version, "v") || about.Metadata["typescriptVersion"] == "" {
		t.Fatalf("About = %v, %v", about, err)
	}
	if _, err := client.Handshake(ctx, &pulumirpc.LanguageHandshakeRequest{EngineAddress: lis.Addr().String()}); err != nil {
		t.Fatalf("Handshake: %v", err)
	}
	// What it does not do, it says so (the engine falls back or reports it).
	if _, err := client.GeneratePackage(ctx, &pulumirpc.GeneratePackageRequest{}); status.Code(err) != codes.Unimplemented {
		t.Fatalf("GeneratePackage = %v, want Unimplemented", err)
	}

	text, err := installDependencies(ctx, client, root)
	if err != nil || !strings.Contains(text, "Not installing") || !strings.Contains(text, "@pulumi/pulumi found at") {
		t.Fatalf("InstallDependencies in the project = %q, %v", text, err)
	}
	if _, err := installDependencies(ctx, client, t.TempDir()); err == nil || !strings.Contains(err.Error(), "npm ci") {
		t.Fatalf("InstallDependencies without node_modules = %v, want an error naming npm ci", err)
	}
}

func installDependencies(ctx context.Context, client pulumirpc.LanguageRuntimeClient, dir string) (string, error) {
	stream, err := client.InstallDependencies(ctx, &pulumirpc.InstallDependenciesRequest{Info: &pulumirpc.ProgramInfo{ProgramDirectory: dir, RootDirectory: dir, EntryPoint: "."}})
	if err != nil {
		return "", err
	}
	var text strings.Builder
	for {
		msg, err := stream.Recv()
		if err == io.EOF {
			return text.String(), nil
		}
		if err != nil {
			return text.String(), err
		}
		text.Write(msg.Stdout)
		text.Write(msg.Stderr)
	}
}

// TestBinaryVersionFlag: `pulumi-language-nodejs --version` prints the stamped version.
func TestBinaryVersionFlag(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the host binary")
	}
	out, err := exec.Command(builtHost(t, testVersion), "--version").Output()
	if err != nil || strings.TrimSpace(string(out)) != testVersion {
		t.Fatalf("--version = %q, %v", out, err)
	}
}

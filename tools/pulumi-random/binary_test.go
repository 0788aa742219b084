package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/emptypb"
)

// TestBinaryOverGRPC builds the plugin with a stamped version, starts it the
// way the engine does (it prints its port) and talks to it over gRPC.
func TestBinaryOverGRPC(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the plugin binary")
	}
	const version = "4.21.2-smoke.1"
	bin := filepath.Join(t.TempDir(), "pulumi-resource-random")
	build := exec.Command("go", "build", "-trimpath", "-ldflags", "-X main.Version="+version, "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	cmd := exec.Command(bin)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
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
	client := pulumirpc.NewResourceProviderClient(conn)

	info, err := client.GetPluginInfo(ctx, &emptypb.Empty{})
	if err != nil || info.Version != version {
		t.Fatalf("GetPluginInfo = %v, %v; want version %s", info, err, version)
	}
	checkResp, err := client.Check(ctx, &pulumirpc.CheckRequest{Urn: testURN(tokenPassword), News: toStruct(t, projectInputs())})
	if err != nil || len(checkResp.Failures) > 0 {
		t.Fatalf("Check = %v, %v", checkResp, err)
	}
	created, err := client.Create(ctx, &pulumirpc.CreateRequest{Urn: testURN(tokenPassword), Properties: checkResp.Inputs})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	outs := fromStruct(t, created.Properties)
	if created.Id != "none" || !outs["result"].IsSecret() || !outs[resource.PropertyKey("bcryptHash")].IsSecret() {
		t.Fatalf("Create over gRPC: id %q, result/bcryptHash not secret", created.Id)
	}
}

// Command pulumi-language-nodejs is the project's minimal Node.js language host: the
// engine starts it to run a Node.js program (`pulumi up` of index.ts). It exists only
// because Pulumi's own host cannot be downloaded or built here (the Go module proxy
// refuses its module); it runs the program the way Pulumi's does, through the SDK's
// own `@pulumi/pulumi/cmd/run`.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/logging"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
)

// Version is stamped by the build: -ldflags "-X main.Version=3.274.1+odoo-saas.1".
var Version = "0.0.0-dev"

func main() {
	// The engine may pass --logtostderr, -v=N (registered by the logging package) and
	// --tracing ENDPOINT before the engine's address.
	tracing := flag.String("tracing", "", "Emit tracing to a Zipkin-compatible tracing endpoint")
	runtimeName := flag.String("runtime", "nodejs", "The runtime: only nodejs is supported")
	showVersion := flag.Bool("version", false, "Print the plugin version and exit")
	flag.Parse()
	if *showVersion {
		fmt.Println(Version)
		return
	}
	logging.InitLogging(false, 0, false)
	if *runtimeName != "nodejs" {
		fail(fmt.Errorf("unsupported runtime %q: this host runs only nodejs", *runtimeName))
	}

	var engineAddress string
	if args := flag.Args(); len(args) > 0 {
		engineAddress = args[0]
	}

	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt)
	defer cancel()
	stop := make(chan bool)
	go func() {
		<-ctx.Done()
		close(stop)
	}()
	// Exit when the engine goes away, as Pulumi's hosts do.
	if engineAddress != "" {
		if err := rpcutil.Healthcheck(ctx, engineAddress, 5*time.Minute, cancel); err != nil {
			fail(fmt.Errorf("could not start the health check of the engine: %w", err))
		}
	}

	host := newHost(engineAddress, *tracing, Version)
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Cancel: stop,
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, host)
			return nil
		},
		Options: rpcutil.TracingServerInterceptorOptions(nil),
	})
	if err != nil {
		fail(fmt.Errorf("could not start the language host's RPC server: %w", err))
	}
	// The engine reads the port from the first line of stdout.
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		fail(fmt.Errorf("language host RPC stopped serving: %w", err))
	}
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: %v\n", err)
	os.Exit(1)
}

// Command pulumi-resource-random is the project's stand-in for Pulumi's random
// provider plugin, used only where that plugin cannot be downloaded.
package main

import (
	"fmt"
	"os"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/provider"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// Version is stamped by the build: -ldflags "-X main.Version=4.21.2+odoo-saas.1".
var Version = "0.0.0-dev"

func main() {
	err := provider.Main("random", func(*provider.HostClient) (pulumirpc.ResourceProviderServer, error) {
		return newProvider(Version), nil
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-resource-random: %v\n", err)
		os.Exit(1)
	}
}

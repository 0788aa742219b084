// Command pulumi-resource-kubernetes serves Pulumi's Kubernetes provider from the
// github.com/pulumi/pulumi-kubernetes/provider/v4 module. The module's own main embeds
// files that `go generate` makes and the module zip lacks, so scripts/build-tools.sh
// writes them (schema with its version set, compacted mapping) next to a copy of this
// file before building.
package main

import (
	_ "embed"

	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
)

//go:embed schema-embed.json
var pulumiSchema []byte

//go:embed terraform-mapping-embed.json
var terraformMapping []byte

func main() {
	provider.Serve("kubernetes", version.Version, pulumiSchema, terraformMapping)
}

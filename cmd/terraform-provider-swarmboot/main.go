// Command terraform-provider-swarmboot is swarmboot's Terraform provider:
// the data source swarmboot_cluster gives every node's user-data from a
// cluster description (docs/data-sources/cluster.md). Terraform starts it;
// -debug runs it for a debugger (TF_REATTACH_PROVIDERS).
package main

import (
	"context"
	"flag"
	"log"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"

	"github.com/swarmboot/swarmboot/internal/tfprovider"
)

// version is set at build time (make terraform-provider).
var version = "devel"

func main() {
	debug := flag.Bool("debug", false, "serve for a debugger: Terraform attaches through TF_REATTACH_PROVIDERS")
	flag.Parse()
	err := providerserver.Serve(context.Background(), tfprovider.New(version), providerserver.ServeOpts{
		Address: tfprovider.Address,
		Debug:   *debug,
	})
	if err != nil {
		log.Fatal(err)
	}
}

// Package tfprovider is swarmboot's Terraform provider: one data source,
// swarmboot_cluster, that turns a cluster description into every node's
// user-data inside the plan, as poseidon/terraform-provider-ct's
// ct_config does for one Butane config. It is a thin shell over the
// library entry: schema in, swarmboot.Build (read-only), diagnostics and
// state out. A read never writes a key or a file.
package tfprovider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
)

// Address is where Terraform finds the provider (required_providers'
// source "swarmboot/swarmboot").
const Address = "registry.terraform.io/swarmboot/swarmboot"

// swarmbootProvider has no configuration: everything a read needs is in
// the data source's arguments.
type swarmbootProvider struct{ version string }

// New returns the provider factory that providerserver serves.
func New(version string) func() provider.Provider {
	return func() provider.Provider { return &swarmbootProvider{version: version} }
}

func (p *swarmbootProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "swarmboot"
	resp.Version = p.version
}

func (p *swarmbootProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "Turns a swarmboot cluster description into every node's boot-time user-data, read-only.",
	}
}

func (p *swarmbootProvider) Configure(context.Context, provider.ConfigureRequest, *provider.ConfigureResponse) {
}

func (p *swarmbootProvider) DataSources(context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{newClusterDataSource}
}

func (p *swarmbootProvider) Resources(context.Context) []func() resource.Resource { return nil }

package tfprovider

import (
	"context"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/swarmboot/swarmboot"
)

// clusterDataSource is swarmboot_cluster.
type clusterDataSource struct{}

func newClusterDataSource() datasource.DataSource { return clusterDataSource{} }

// clusterModel is the data source's arguments and attributes.
type clusterModel struct {
	Content   types.String `tfsdk:"content"`
	Path      types.String `tfsdk:"path"`
	PKIDir    types.String `tfsdk:"pki_dir"`
	Formats   types.Map    `tfsdk:"formats"`
	Strict    types.Bool   `tfsdk:"strict"`
	Target    types.String `tfsdk:"target"`
	Nodes     types.Map    `tfsdk:"nodes"`
	CACertPEM types.String `tfsdk:"ca_cert_pem"`
	NotAfter  types.String `tfsdk:"not_after"`
}

// nodeModel is one element of nodes.
type nodeModel struct {
	UserData, UserDataBase64, Format, IP, Profile string
	Roles                                         []string
}

// value is the node as Terraform holds it. It is built by hand, not by
// the framework's reflection, which took a third of a 1,000-node read.
func (n nodeModel) value() attr.Value {
	roles := make([]attr.Value, len(n.Roles))
	for i, r := range n.Roles {
		roles[i] = types.StringValue(r)
	}
	return types.ObjectValueMust(nodeAttrTypes, map[string]attr.Value{
		"user_data":        types.StringValue(n.UserData),
		"user_data_base64": types.StringValue(n.UserDataBase64),
		"format":           types.StringValue(n.Format),
		"ip":               types.StringValue(n.IP),
		"roles":            types.ListValueMust(types.StringType, roles),
		"profile":          types.StringValue(n.Profile),
	})
}

// node is the schema of one element of nodes. Only the user-data is
// sensitive (it can hold the node's private key), never the map: Terraform
// refuses a sensitive value as for_each, and nodes is made for for_each.
var node = schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
	"user_data": schema.StringAttribute{
		Computed: true, Sensitive: true,
		Description: "The node's config as its agent reads it (cloud-config, Ignition JSON, coreos-cloudconfig): " +
			"what `swarmboot render` writes for it. Sensitive: with TLS it holds the node's private key.",
	},
	"user_data_base64": schema.StringAttribute{
		Computed: true, Sensitive: true,
		Description: "The same config, base64 for an API: gzip-compressed where the target carries gzip and the node's agent inflates it " +
			"(cloud-init, coreos-cloudinit), Ignition's gzip wrapper config where the target carries gzip, else as it is. " +
			"The target's size limit is checked on this form. For aws_instance.user_data_base64.",
	},
	"format":  schema.StringAttribute{Computed: true, Description: "The config's format: cloud-config, ignition or coreos-cloudconfig."},
	"ip":      schema.StringAttribute{Computed: true, Description: "The node's address from the description."},
	"roles":   schema.ListAttribute{Computed: true, ElementType: types.StringType, Description: "The node's roles (etcd, docker, manager), as described."},
	"profile": schema.StringAttribute{Computed: true, Description: "The node's target system (ubuntu, flatcar, ...)."},
}}

// nodeAttrTypes are node's attribute types, from its schema.
var nodeAttrTypes = node.Type().(types.ObjectType).AttrTypes

func (clusterDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_cluster"
}

func (clusterDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "Every node's user-data from a swarmboot cluster description, built in memory with the cluster's PKI as it is: " +
			"a read never creates or changes a key or a file.",
		Attributes: map[string]schema.Attribute{
			"content": schema.StringAttribute{
				Optional:    true,
				Description: "The cluster description (YAML). Exactly one of content and path. Its relative paths (snippets, tls.dir) are read from Terraform's working directory.",
			},
			"path": schema.StringAttribute{
				Optional:    true,
				Description: "The cluster description's file. Exactly one of content and path. Its relative paths (snippets, tls.dir) are read from its folder.",
			},
			"pki_dir": schema.StringAttribute{
				Optional:    true,
				Description: "The cluster's PKI folder, as `swarmboot render --pki`. Default: the description's tls.dir beside path (beside the working directory for content).",
			},
			"formats": schema.MapAttribute{
				Optional: true, ElementType: types.StringType,
				Description: "A config format per profile or family, e.g. { flatcar = \"ignition\", ubuntu = \"cloud-config\" }. Default: each profile's own.",
			},
			"strict": schema.BoolAttribute{
				Optional:    true,
				Description: "Fail on warnings too, as `swarmboot render --strict`.",
			},
			"target": schema.StringAttribute{
				Optional: true,
				Description: "Where the user-data goes: aws, openstack, azure, gce, digitalocean, vagrant or nocloud. " +
					"It decides whether user_data_base64 is gzip, and the read fails when a node's user_data_base64 exceeds the provider's limit.",
			},
			"nodes": schema.MapNestedAttribute{
				Computed: true, NestedObject: node,
				Description: "Every node by name. Not sensitive itself, so it works as for_each; its user-data attributes are.",
			},
			"ca_cert_pem": schema.StringAttribute{
				Computed:    true,
				Description: "The cluster CA's certificate (PEM) every node trusts; empty without TLS.",
			},
			"not_after": schema.StringAttribute{
				Computed:    true,
				Description: "The earliest expiry of the nodes' certificates (RFC 3339, UTC); empty without TLS. Renew before it: `swarmboot pki renew`.",
			},
		},
	}
}

func (clusterDataSource) ValidateConfig(ctx context.Context, req datasource.ValidateConfigRequest, resp *datasource.ValidateConfigResponse) {
	var m clusterModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	_, diags := m.inputs(ctx)
	resp.Diagnostics.Append(diags...)
}

func (clusterDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m clusterModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	in, diags := m.inputs(ctx)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	description, diags := in.description()
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	res, err := swarmboot.Build(ctx, description, in.options)
	if res != nil {
		defer res.Close() // a read-only build holds nothing; Close is for form
		resp.Diagnostics.Append(in.findings(res.Findings)...)
	}
	if err != nil {
		resp.Diagnostics.Append(in.failure(err, resp.Diagnostics.HasError())...)
	}
	if resp.Diagnostics.HasError() {
		return
	}
	nodes, diags := in.nodes(res)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	elems := make(map[string]attr.Value, len(nodes))
	for name, n := range nodes {
		elems[name] = n.value()
	}
	m.Nodes, diags = types.MapValue(node.Type(), elems)
	resp.Diagnostics.Append(diags...)
	first, err := res.NotAfter()
	if err != nil {
		resp.Diagnostics.AddError("Cannot read a node certificate", err.Error())
		return
	}
	m.CACertPEM = types.StringValue(string(res.PKI.CA))
	m.NotAfter = types.StringValue("")
	if !first.IsZero() {
		m.NotAfter = types.StringValue(first.UTC().Format(time.RFC3339))
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

// Package target knows where user-data goes: each provider's size limit,
// how that limit is counted, whether gzip survives the trip, and what its
// CLI does to the bytes it is given. The figures and their sources are in
// delivery/README.md; the source URL of each is also in the table below.
package target

import (
	"encoding/base64"
	"fmt"
	"sort"
	"strings"

	"github.com/swarmboot/swarmboot/delivery/encode"
)

// Counting says which bytes a provider compares with its limit.
type Counting int

const (
	// Payload: the user-data bytes the node receives (before any base64
	// the API transport adds).
	Payload Counting = iota
	// Base64Text: the base64 text of the payload, as posted to the API.
	Base64Text
)

// Target is one provider or local delivery path.
type Target struct {
	Name string
	// Limit in bytes, counted as Counts says; 0 means no documented limit.
	Limit  int
	Counts Counting
	// Source is the documentation page that states the limit.
	Source string
	// Gzip tells whether gzip-compressed user-data reaches the node intact
	// through this provider (so cloud-init or coreos-cloudinit can inflate
	// it); GzipHow says how to send it.
	Gzip    bool
	GzipHow string
	// GzipEncoding is the --encode value that carries gzip here.
	GzipEncoding encode.Encoding
	// StoresText is true when the provider stores a text value, so binary
	// user-data must travel as base64 text that the reader decodes (GCE's
	// user-data-encoding=base64) and the limit counts that text.
	StoresText bool
	// GzipCloudInitOnly: only cloud-init, not coreos-cloudinit, decodes the
	// base64 wrapper this provider needs for gzip.
	GzipCloudInitOnly bool
	// CLIEncodes is true when the provider's CLI base64-encodes the file
	// itself: give it the payload (none or gzip), never base64 text, or the
	// node receives base64 text it won't decode.
	CLIEncodes bool
	// SecretsAdvice is what to do on this provider when user-data holds
	// private keys: any process on the instance can read user-data from
	// the metadata service.
	SecretsAdvice string
}

var table = []Target{
	{
		Name: "aws", Limit: 16384, Counts: Payload,
		Source:       "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instancedata-add-user-data.html",
		Gzip:         true,
		GzipHow:      "--encode gzip, passed as fileb://FILE so the CLI reads it as binary",
		GzipEncoding: encode.Gzip,
		CLIEncodes:   true,
		// IMDSv2 with one hop keeps the metadata service, and so the
		// node's key, out of reach of containers (their packets cross a
		// second hop) and of unauthenticated requests (SSRF).
		SecretsAdvice: "require IMDSv2 with hop limit 1 so containers cannot fetch the node's key from the metadata service: " +
			"aws ec2 run-instances ... --metadata-options HttpTokens=required,HttpPutResponseHopLimit=1",
	},
	{
		// Nova's API schema caps the base64 text at 65535 characters,
		// which leaves 49149 payload bytes.
		Name: "openstack", Limit: 65535, Counts: Base64Text,
		Source:       "https://docs.openstack.org/nova/stein/user/user-data.html",
		Gzip:         true,
		GzipHow:      "--encode gzip; Nova stores bytes and serves them unchanged through the metadata service and config drive",
		GzipEncoding: encode.Gzip,
		CLIEncodes:   true,
	},
	{
		Name: "azure", Limit: 65535, Counts: Payload,
		Source:       "https://learn.microsoft.com/en-us/azure/virtual-machines/custom-data",
		Gzip:         true,
		GzipHow:      "--encode gzip+base64 as the ARM/Terraform customData value (cloud-init inflates it; the Linux agent waagent does not)",
		GzipEncoding: encode.GzipBase64,
		CLIEncodes:   true,
	},
	{
		// Metadata values are strings of at most 256 KiB.
		Name: "gce", Limit: 262144, Counts: Payload,
		Source:       "https://cloud.google.com/compute/docs/reference/rest/v1/instances#Metadata",
		Gzip:         true,
		GzipHow:      "--encode gzip+base64 with the metadata key user-data-encoding=base64, which cloud-init's GCE datasource decodes (cloud-init only)",
		GzipEncoding: encode.GzipBase64, StoresText: true, GzipCloudInitOnly: true,
	},
	{
		// The API takes user_data as plain text in JSON: no gzip.
		Name: "digitalocean", Limit: 65536, Counts: Payload,
		Source: "https://docs.digitalocean.com/reference/api/api-reference/#operation/droplets_create",
	},
	{
		// A local file read by Vagrant: no limit; cloud_init wraps it in a
		// MIME text part, so it must stay text.
		Name:   "vagrant",
		Source: "https://developer.hashicorp.com/vagrant/docs/cloud-init/configuration",
	},
	{
		// A file on a seed ISO: no limit, and cloud-init inflates gzip.
		Name:         "nocloud",
		Source:       "https://cloudinit.readthedocs.io/en/latest/reference/datasources/nocloud.html",
		Gzip:         true,
		GzipHow:      "--encode gzip; the seed's user-data file may be gzip",
		GzipEncoding: encode.Gzip,
	},
}

// Names lists the targets, sorted.
func Names() []string {
	out := make([]string, 0, len(table))
	for _, t := range table {
		out = append(out, t.Name)
	}
	sort.Strings(out)
	return out
}

// Lookup finds a target by name.
func Lookup(name string) (Target, error) {
	for _, t := range table {
		if t.Name == name {
			return t, nil
		}
	}
	return Target{}, fmt.Errorf("unknown target %q (want one of %s)", name, strings.Join(Names(), ", "))
}

// Counted is the size the provider compares with Limit for a payload of n
// bytes.
func (t Target) Counted(n int) int {
	if t.Counts == Base64Text {
		return base64.StdEncoding.EncodedLen(n)
	}
	return n
}

// MaxPayload is the largest payload, in bytes the node receives, that fits;
// 0 when there is no limit.
func (t Target) MaxPayload() int {
	if t.Limit == 0 {
		return 0
	}
	if t.Counts == Base64Text {
		return t.Limit / 4 * 3
	}
	return t.Limit
}

// Package render turns a validated cluster into one format-neutral Plan per
// node (files, units, drop-ins, packages, hostname, network, keys) and
// emits each plan in the formats its profile's boot agent reads.
package render

import (
	"net/netip"

	"github.com/swarmboot/swarmboot/cluster"
	"github.com/swarmboot/swarmboot/profiles"
)

// Plan is everything one node needs at boot, independent of format.
type Plan struct {
	Cluster  string
	Node     string
	Hostname string
	Profile  *profiles.Profile
	SSHKeys  []string
	Packages []string // installed by cloud-config at boot
	Files    []File
	Units    []Unit
	// Etcd2 holds etcd settings for coreos-cloudinit's coreos.etcd2
	// section (profiles whose etcd is configured that way), as flag
	// name / value pairs.
	Etcd2 []KV
	// Snippets are the operator's fragments for this node: the cluster's,
	// then the node's own. Each emitter merges the ones of its format.
	Snippets cluster.Snippets
	// Secret: the plan holds a private key (the node's TLS key), so its
	// configs are secrets too.
	Secret bool
	// Network is the node's static address (nil: DHCP). Formats that
	// carry network config beside user-data (NoCloud network-config) read
	// it; for the others the plan already holds a file or unit.
	Network *Network
}

// File is a regular file written on the node.
type File struct {
	Path     string
	Mode     int // permission bits, e.g. 0o644
	Contents string
	// Owner is the user and group, by name, that own the file; "" is
	// root. The user must exist when the agent writes the file.
	Owner string
}

// StartAction says what the boot agent must do to a unit once the config
// is in place. Ignition writes config before systemd starts units, so only
// agents that run late (cloud-init, coreos-cloudinit) act on it.
type StartAction string

const (
	NoAction StartAction = ""
	Start    StartAction = "start"
	Restart  StartAction = "restart" // the unit may already run with old settings
)

// Unit is a systemd unit: a new one (Contents set) or one the system
// ships (Contents empty) that gets drop-ins or is enabled.
type Unit struct {
	Name     string
	Contents string
	Enable   bool
	Action   StartAction
	Dropins  []Dropin
}

// Dropin is a systemd drop-in file for a unit.
type Dropin struct {
	Name     string
	Contents string
}

// KV is one ordered key/value setting.
type KV struct{ Key, Value string }

// Network is a node's static addressing. One of Interface (the NIC's exact
// name), MAC and Names selects the NIC.
type Network struct {
	Interface string
	MAC       string // match the NIC by MAC (and name it Interface, if set)
	// Names are globs of the names the system gives a NIC (the profile's
	// NICNames), set when neither Interface nor MAC is.
	Names   []string
	Address netip.Prefix // node IP with the prefix length
	Gateway netip.Addr   // invalid when none
	DNS     []netip.Addr
}

// Plans makes the plan of every node, in description order, with the
// nodes' TLS files from o.
func Plans(c *cluster.Cluster, o Options) ([]*Plan, error) {
	ctx := newClusterContext(c, o.TLS)
	plans := make([]*Plan, 0, len(c.Nodes))
	for i := range c.Nodes {
		p, err := ctx.plan(&c.Nodes[i])
		if err != nil {
			return nil, err
		}
		plans = append(plans, p)
	}
	return plans, nil
}

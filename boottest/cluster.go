package boottest

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/swarmboot/swarmboot/cluster"
)

// Description is the part of a cluster description the checks need, taken
// from swarmboot's own loader so defaults and validation are the product's.
type Description struct {
	Network struct{ Prefix int }
	Etcd    struct{ ClientPort int }
	Docker  struct{ Port int }
	Swarm   struct {
		Path    string
		TTL     time.Duration // a registration's lifetime (swarm's default 180s when not set)
		Manager struct{ Port int }
	}
	Nodes []Node
}

// Node is one machine of the description.
type Node struct {
	Name  string
	IP    netip.Addr
	Roles []string
}

// Has reports whether the node carries the role.
func (n Node) Has(role string) bool { return slices.Contains(n.Roles, role) }

// LoadDescription loads and validates the description with package cluster.
func LoadDescription(path string) (*Description, error) {
	c, rep, err := cluster.LoadFile(path)
	if err != nil {
		return nil, err
	}
	if err := rep.Err(false); err != nil {
		return nil, err
	}
	if c.Network == nil || c.Manager() == nil {
		return nil, fmt.Errorf("%s: the boot test needs static addresses (network:) and a manager", path)
	}
	var d Description
	d.Network.Prefix = c.Network.Prefix
	d.Etcd.ClientPort = c.Etcd.ClientPort
	d.Docker.Port = c.Docker.Port
	d.Swarm.Path = c.Swarm.Path
	d.Swarm.TTL = c.Swarm.TTL
	if d.Swarm.TTL == 0 {
		d.Swarm.TTL = 180 * time.Second // swarm join's default --ttl
	}
	d.Swarm.Manager.Port = c.Swarm.Manager.Port
	for _, n := range c.Nodes {
		d.Nodes = append(d.Nodes, Node{Name: n.Name, IP: n.IP, Roles: n.Roles})
	}
	return &d, nil
}

// WithRole returns the nodes carrying role, in description order.
func (d *Description) WithRole(role string) []Node {
	var out []Node
	for _, n := range d.Nodes {
		if n.Has(role) {
			out = append(out, n)
		}
	}
	return out
}

// Manager returns the swarm manager's node.
func (d *Description) Manager() *Node {
	for i := range d.Nodes {
		if d.Nodes[i].Has("manager") {
			return &d.Nodes[i]
		}
	}
	return nil
}

// HostAddr picks the test's own address on the segment: the first one of
// the nodes' subnet that no node uses.
func (d *Description) HostAddr() (netip.Prefix, error) {
	subnet, err := d.Nodes[0].IP.Prefix(d.Network.Prefix)
	if err != nil {
		return netip.Prefix{}, err
	}
	used := map[netip.Addr]bool{}
	for _, n := range d.Nodes {
		used[n.IP] = true
	}
	for a := subnet.Addr().Next(); subnet.Contains(a); a = a.Next() {
		if !used[a] {
			return netip.PrefixFrom(a, d.Network.Prefix), nil
		}
	}
	return netip.Prefix{}, fmt.Errorf("no free address in %s", subnet)
}

// EtcdEndpoints lists every member's client URL, comma-separated.
func (d *Description) EtcdEndpoints(nodes []Node) string {
	var eps []string
	for _, n := range nodes {
		eps = append(eps, fmt.Sprintf("http://%s:%d", n.IP, d.Etcd.ClientPort))
	}
	return strings.Join(eps, ",")
}

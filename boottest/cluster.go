package boottest

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/swarmboot/swarmboot/cluster"
)

// Description is the loaded description itself (swarmboot's own loader,
// so defaults and validation are the product's) with the checks' helpers.
type Description struct {
	*cluster.Cluster
	// TTL is a registration's lifetime: swarm.ttl, or swarm join's
	// default of 180 s when the description leaves it out.
	TTL time.Duration
}

// Node is one machine of the description.
type Node = cluster.Node

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
	d := &Description{Cluster: c, TTL: c.Swarm.TTL}
	if d.TTL == 0 {
		d.TTL = 180 * time.Second // swarm join's default --ttl
	}
	return d, nil
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

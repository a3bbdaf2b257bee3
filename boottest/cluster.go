package boottest

import (
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Description is the part of a cluster description the checks need. It is
// read here rather than through package cluster so the boot test depends
// only on the CLI's contract (render's output), not on internal types.
type Description struct {
	Name    string `yaml:"cluster"`
	Network struct {
		Prefix int `yaml:"prefix"`
	} `yaml:"network"`
	Etcd struct {
		ClientPort int `yaml:"client_port"`
	} `yaml:"etcd"`
	Docker struct {
		Port int `yaml:"port"`
	} `yaml:"docker"`
	Swarm struct {
		Path    string `yaml:"path"`
		TTL     string `yaml:"ttl"`
		Manager struct {
			Port int `yaml:"port"`
		} `yaml:"manager"`
	} `yaml:"swarm"`
	Nodes []Node `yaml:"nodes"`
}

// Node is one machine of the description.
type Node struct {
	Name  string     `yaml:"name"`
	IP    netip.Addr `yaml:"ip"`
	Roles []string   `yaml:"roles"`
}

// Has reports whether the node carries the role.
func (n Node) Has(role string) bool { return slices.Contains(n.Roles, role) }

// LoadDescription reads the description and fills swarmboot's defaults.
func LoadDescription(path string) (*Description, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var d Description
	if err := yaml.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	setDefault(&d.Network.Prefix, 24)
	setDefault(&d.Etcd.ClientPort, 2379)
	setDefault(&d.Docker.Port, 2375)
	setDefault(&d.Swarm.Manager.Port, 8333)
	if d.Swarm.Path == "" {
		d.Swarm.Path = "/swarm"
	}
	if len(d.Nodes) == 0 || d.Manager() == nil {
		return nil, fmt.Errorf("%s: the boot test needs nodes and a manager", path)
	}
	return &d, nil
}

func setDefault(p *int, v int) {
	if *p == 0 {
		*p = v
	}
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

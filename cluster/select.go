package cluster

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/swarmboot/swarmboot/internal/english"
	"github.com/swarmboot/swarmboot/profiles"
)

// Select reads a node selector: names (comma-separated), role=ROLE or
// profile=PROFILE (a family takes its releases: profile=debian selects
// debian-13). "" keeps every node (nil). A selector that names an unknown
// node, role or profile, or selects nothing, is an error.
func (c *Cluster) Select(selector string) (func(*Node) bool, error) {
	if selector == "" {
		return nil, nil
	}
	var keep func(*Node) bool
	switch key, value, _ := strings.Cut(selector, "="); key {
	case "role":
		if !slices.Contains(Roles, value) {
			return nil, fmt.Errorf("--nodes role=%s: roles are %s", value, strings.Join(Roles, ", "))
		}
		keep = func(n *Node) bool { return n.Has(value) }
	case "profile":
		if _, ok := profiles.Lookup(value); !ok {
			return nil, fmt.Errorf("--nodes profile=%s: profiles are %s", value, strings.Join(profiles.Names(), ", "))
		}
		keep = func(n *Node) bool { return n.Profile == value || strings.HasPrefix(n.Profile, value+"-") }
	default:
		set := map[string]bool{}
		for _, name := range strings.Split(selector, ",") {
			name = strings.TrimSpace(name)
			if name == "" {
				return nil, fmt.Errorf("--nodes %s: an empty name (a stray comma?); give names separated by commas", selector)
			}
			set[name] = true
		}
		for _, name := range slices.Sorted(maps.Keys(set)) {
			if err := c.HasNode(name); err != nil {
				return nil, fmt.Errorf("--nodes: %w", err)
			}
		}
		keep = func(n *Node) bool { return set[n.Name] }
	}
	for i := range c.Nodes {
		if keep(&c.Nodes[i]) {
			return keep, nil
		}
	}
	return nil, fmt.Errorf("--nodes %s selects no node of %s", selector, c.File)
}

// maxListed bounds the node names a message lists: a 20,000-node cluster
// must not print all of them.
const maxListed = 10

// HasNode says, when no node is called name, which one was likely meant,
// or which there are (the first few).
func (c *Cluster) HasNode(name string) error {
	names := make([]string, len(c.Nodes))
	for i := range c.Nodes {
		if c.Nodes[i].Name == name {
			return nil
		}
		names[i] = c.Nodes[i].Name
	}
	if best, ok := closest(name, names); ok {
		return fmt.Errorf("no node %q in %s; did you mean %q?", name, c.File, best)
	}
	return fmt.Errorf("no node %q in %s; nodes are %s", name, c.File, english.List(names, maxListed))
}

package cluster

import (
	"fmt"
	"maps"
	"slices"
	"strings"

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
			set[strings.TrimSpace(name)] = true
		}
		missing := maps.Clone(set)
		var known []string
		for i := range c.Nodes {
			known = append(known, c.Nodes[i].Name)
			delete(missing, c.Nodes[i].Name)
		}
		if len(missing) > 0 {
			return nil, fmt.Errorf("--nodes: no node %s in %s; nodes are %s",
				strings.Join(slices.Sorted(maps.Keys(missing)), ", "), c.File, strings.Join(known, ", "))
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

package plan

import (
	"fmt"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// keyChange is one key of the description whose value differs between
// the description the output was rendered from and the new one. Nodes
// are keyed by name ($.nodes[etcd-02].ip), so inserting one does not
// shift the others.
type keyChange struct {
	path     string
	old, new string // "" when absent
}

func (k keyChange) String() string {
	switch {
	case k.old == "" && strings.HasPrefix(k.new, "node "):
		return k.path + ": added"
	case k.new == "" && strings.HasPrefix(k.old, "node "):
		return k.path + ": removed"
	case k.old == "":
		return k.path + ": added " + k.new
	case k.new == "":
		return k.path + ": removed (was " + k.old + ")"
	}
	return k.path + ": " + k.old + " -> " + k.new
}

// node is the node the key belongs to, if any.
func (k keyChange) node() (string, bool) {
	rest, ok := strings.CutPrefix(k.path, "$.nodes[")
	if !ok {
		return "", false
	}
	name, _, _ := strings.Cut(rest, "]")
	return name, true
}

// changedKeys compares two descriptions key by key. Without the old one
// (an output rendered before outputs kept it) nothing can be said.
func changedKeys(oldDesc, newDesc []byte) ([]keyChange, error) {
	if oldDesc == nil {
		return nil, nil
	}
	old, err := flatten(oldDesc)
	if err != nil {
		return nil, fmt.Errorf("the output's copy of its description: %w", err)
	}
	cur, err := flatten(newDesc)
	if err != nil {
		return nil, err
	}
	var out []keyChange
	for p, v := range cur {
		if old[p] != v {
			out = append(out, keyChange{p, old[p], v})
		}
	}
	for p, v := range old {
		if _, ok := cur[p]; !ok {
			out = append(out, keyChange{p, v, ""})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].path < out[j].path })
	// A node added or removed is one change, not one per key.
	kept := out[:0]
	whole := map[string]bool{}
	for _, k := range out {
		if node, ok := k.node(); ok && whole[node] {
			continue
		}
		if node, ok := k.node(); ok && k.path == "$.nodes["+node+"]" && (k.old == "" || k.new == "") {
			whole[node] = true
		}
		kept = append(kept, k)
	}
	return kept, nil
}

// flatten maps every leaf of a description to its value, as YAML.
func flatten(desc []byte) (map[string]string, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(desc, &doc); err != nil {
		return nil, err
	}
	out := map[string]string{}
	if len(doc.Content) > 0 {
		walk(doc.Content[0], "$", out)
	}
	return out, nil
}

func walk(n *yaml.Node, path string, out map[string]string) {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	switch {
	case n.Kind == yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			walk(n.Content[i+1], path+"."+n.Content[i].Value, out)
		}
	case n.Kind == yaml.SequenceNode && path == "$.nodes":
		for _, item := range n.Content {
			name := field(item, "name")
			out["$.nodes["+name+"]"] = "node " + name
			walk(item, "$.nodes["+name+"]", out)
		}
	default:
		out[path] = inline(n)
	}
}

// inline is a value on one line: a scalar as is, a list in flow style.
func inline(n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode {
		return n.Value
	}
	c := *n
	c.Style = yaml.FlowStyle
	b, err := yaml.Marshal(&c)
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(b))
}

// field is a mapping's scalar value at key, "" if none.
func field(n *yaml.Node, key string) string {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key && n.Content[i+1].Kind == yaml.ScalarNode {
			return n.Content[i+1].Value
		}
	}
	return ""
}

// oldNodes are the node names of a description, in order.
func oldNodes(desc []byte) []string {
	var doc struct {
		Nodes []struct {
			Name string `yaml:"name"`
		} `yaml:"nodes"`
	}
	if yaml.Unmarshal(desc, &doc) != nil {
		return nil
	}
	out := make([]string, len(doc.Nodes))
	for i, n := range doc.Nodes {
		out[i] = n.Name
	}
	return out
}

// oldRoles are a node's roles in a description.
func oldRoles(desc []byte, name string) []string {
	var doc struct {
		Nodes []struct {
			Name  string   `yaml:"name"`
			Roles []string `yaml:"roles"`
		} `yaml:"nodes"`
	}
	if yaml.Unmarshal(desc, &doc) != nil {
		return nil
	}
	for _, n := range doc.Nodes {
		if n.Name == name {
			return n.Roles
		}
	}
	return nil
}

// members are a description's etcd members.
func members(desc []byte) []string {
	var out []string
	for _, n := range oldNodes(desc) {
		for _, r := range oldRoles(desc, n) {
			if r == "etcd" {
				out = append(out, n)
			}
		}
	}
	return out
}

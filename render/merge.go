package render

import (
	"fmt"
	"path"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/swarmboot/swarmboot/cluster"
)

// Snippet merge rules, the same for cloud-config, coreos-cloudconfig and
// Butane fragments (documented in the README):
//   - a key the generated config lacks is added, value and all;
//   - mappings merge key by key with these same rules;
//   - lists are appended to, after the generated items; in the lists below
//     an item is identified by a key (a file by its path, a unit or user by
//     its name), and an item whose key the generated config already has is
//     a conflict: swarmboot owns that file or unit;
//   - a scalar may only repeat the generated value; a different one, or a
//     value of another kind, is a conflict.
//
// Conflicts are reported at the snippet's file, line and column.
var keyedLists = map[string]string{
	"$.write_files":             "path",
	"$.users":                   "name",
	"$.coreos.units":            "name",
	"$.coreos.units[].drop-ins": "name",
	"$.storage.files":           "path",
	"$.storage.directories":     "path",
	"$.storage.links":           "path",
	"$.systemd.units":           "name",
	"$.systemd.units[].dropins": "name",
	"$.passwd.users":            "name",
	"$.passwd.groups":           "name",
}

// unitLists are the keyed lists of units: a snippet item naming a
// generated unit is merged into it (its drop-ins added, anything else
// under the same rules), since a drop-in is how one changes a unit.
var unitLists = map[string]bool{"$.coreos.units": true, "$.systemd.units": true}

// listIndex matches the [N] of a path, so nested lists find their rule.
var listIndex = regexp.MustCompile(`\[\d+\]`)

// mergeSnippets encodes the generated config v as a YAML tree, merges the
// snippets into it in order and returns the tree.
func mergeSnippets(node string, v any, snippets []*cluster.Snippet) (any, error) {
	if len(snippets) == 0 {
		return v, nil
	}
	var root yaml.Node
	if err := root.Encode(v); err != nil {
		return nil, err
	}
	yamlBlocks.restore(&root) // snippets are compared with the strings
	rep := &cluster.Report{}
	units := unitFiles(&root)
	for _, s := range snippets {
		m := merger{file: s.File, rep: rep, units: units}
		// The merge moves the snippet's nodes into root; a snippet is
		// shared by every node (and emitter) that uses it, so each merge
		// takes its own copy and the parsed snippet stays as it was.
		m.mapping(&root, cloneNode(s.Root), "$")
	}
	if len(rep.Entries) > 0 {
		return nil, fmt.Errorf("%w for node %s:\n%s", ErrSnippetConflict, node, strings.TrimRight(rep.String(), "\n"))
	}
	return &root, nil
}

type merger struct {
	file  string
	rep   *cluster.Report
	units map[string]string // file path -> the generated unit written there
}

// unitFiles maps where the agents write the generated units and drop-ins
// (/etc/systemd/system/NAME, NAME.d/DROPIN) to their names: a snippet's
// file at such a path would replace a unit behind swarmboot's back.
func unitFiles(root *yaml.Node) map[string]string {
	out := map[string]string{}
	for _, list := range []struct{ units, dropins string }{{"systemd", "dropins"}, {"coreos", "drop-ins"}} {
		section := lookup(root, list.units)
		if section == nil {
			continue
		}
		units := lookup(section, "units")
		if units == nil {
			continue
		}
		for _, u := range units.Content {
			name := lookup(u, "name")
			if name == nil {
				continue
			}
			if lookup(u, "contents") != nil || lookup(u, "content") != nil {
				out[unitPath(name.Value)] = name.Value
			}
			if ds := lookup(u, list.dropins); ds != nil {
				for _, d := range ds.Content {
					if dn := lookup(d, "name"); dn != nil {
						out[dropinPath(name.Value, dn.Value)] = name.Value + " (drop-in " + dn.Value + ")"
					}
				}
			}
		}
	}
	return out
}

func (m merger) conflict(n *yaml.Node, path, format string, args ...any) {
	m.rep.Entries = append(m.rep.Entries, cluster.Entry{
		Severity: cluster.Error, Path: path, Pos: cluster.Pos{Line: n.Line, Col: n.Column},
		Kind: cluster.ErrConflict, Message: fmt.Sprintf(format, args...), File: m.file,
	})
}

func (m merger) mapping(dst, src *yaml.Node, path string) {
	for i := 0; i+1 < len(src.Content); i += 2 {
		key, val := src.Content[i], src.Content[i+1]
		sub := path + "." + key.Value
		if existing := lookup(dst, key.Value); existing != nil {
			m.value(existing, val, sub)
			continue
		}
		if _, keyed := keyedLists[listIndex.ReplaceAllString(sub, "[]")]; keyed && val.Kind == yaml.SequenceNode {
			// A keyed list the generated config lacks: its items are still
			// checked (a file may land where a unit is written).
			list := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
			dst.Content = append(dst.Content, key, list)
			m.sequence(list, val, sub)
			continue
		}
		dst.Content = append(dst.Content, key, val)
	}
}

func (m merger) value(dst, src *yaml.Node, path string) {
	switch {
	case dst.Kind == yaml.MappingNode && src.Kind == yaml.MappingNode:
		m.mapping(dst, src, path)
	case dst.Kind == yaml.SequenceNode && src.Kind == yaml.SequenceNode:
		m.sequence(dst, src, path)
	case dst.Kind == yaml.ScalarNode && src.Kind == yaml.ScalarNode:
		if dst.Value != src.Value {
			m.conflict(src, path, "swarmboot sets this to %q; a snippet may not change it (change the description instead)", dst.Value)
		}
	default:
		m.conflict(src, path, "swarmboot writes %s here; the snippet has %s", cluster.DescribeValue(dst), cluster.DescribeValue(src))
	}
}

func (m merger) sequence(dst, src *yaml.Node, path string) {
	rule := listIndex.ReplaceAllString(path, "[]")
	keyField, keyed := keyedLists[rule]
	for i, item := range src.Content {
		itemPath := fmt.Sprintf("%s[%d]", path, i)
		if keyed {
			k := lookup(item, keyField)
			if k == nil && item.Kind == yaml.ScalarNode && keyField == "name" {
				k = item // a bare name, as cloud-init's `users: [default]`
			}
			if k == nil {
				m.conflict(item, itemPath, "each item here needs a %q", keyField)
				continue
			}
			owner := findKeyed(dst, keyField, k.Value)
			if unit, ok := m.units[cleanPath(k.Value)]; ok && keyField == "path" {
				m.conflict(k, itemPath+"."+keyField,
					"%s is where swarmboot writes %s; a snippet may not replace it (add a drop-in with another name instead)", k.Value, unit)
				continue
			}
			switch {
			case owner != nil && unitLists[rule]:
				m.mapping(owner, item, itemPath)
				continue
			case owner != nil:
				m.conflict(k, itemPath+"."+keyField,
					"%s is generated by swarmboot; a snippet may not replace it (%s)", k.Value, instead(rule))
				continue
			}
		}
		dst.Content = append(dst.Content, item)
	}
}

// instead says what to do rather than replacing a generated item.
func instead(rule string) string {
	if strings.HasSuffix(rule, "ropins") || strings.HasSuffix(rule, "drop-ins") {
		return "give your drop-in another name"
	}
	if keyedLists[rule] == "path" {
		return "write another file, or change the description"
	}
	return "add a drop-in to it instead: a units item with its name and only dropins"
}

func lookup(mapping *yaml.Node, key string) *yaml.Node {
	if mapping.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(mapping.Content); i += 2 {
		if mapping.Content[i].Value == key {
			return mapping.Content[i+1]
		}
	}
	return nil
}

// findKeyed finds the item whose key field equals value; paths compare
// cleaned, so /etc/default/./etcd or //etc/default/etcd is the same file.
func findKeyed(seq *yaml.Node, field, value string) *yaml.Node {
	if field == "path" {
		value = cleanPath(value)
	}
	for _, item := range seq.Content {
		k := lookup(item, field)
		if k == nil {
			continue
		}
		if v := k.Value; v == value || field == "path" && cleanPath(v) == value {
			return item
		}
	}
	return nil
}

// cleanPath is the file a path names on the node: path.Clean, relative
// paths taken from / (as the agents write them).
func cleanPath(p string) string {
	return path.Clean("/" + p)
}

// cloneNode deep-copies a YAML tree (snippets have no aliases).
func cloneNode(n *yaml.Node) *yaml.Node {
	c := *n
	if n.Content != nil {
		c.Content = make([]*yaml.Node, len(n.Content))
		for i, child := range n.Content {
			c.Content[i] = cloneNode(child)
		}
	}
	return &c
}

package cluster

import (
	"fmt"
	"reflect"
)

// keyPaths finds a key's path from the Go field it decodes into, so rules
// spanning several keys name each key by the field they read
// (v.errorf(&c.Swarm.TTL, ...)) and never spell a path: only the tables
// know where a field stands in the description.
type keyPaths struct {
	fields map[any]string // a pointer to a field outside the nodes -> its path
	nodes  []Node
	listAt string // the nodes' path
	// inNode places a field inside one Node by its offset and type (a
	// Node and its first field share an offset), as the node table,
	// built once over one Node variable, has it.
	inNode map[nodeField]string
}

type nodeField struct {
	offset uintptr
	typ    reflect.Type
}

// indexPaths indexes the table Load decoded c with.
func indexPaths(c *Cluster, table []setting) keyPaths {
	k := keyPaths{fields: map[any]string{c: "$"}, nodes: c.Nodes, inNode: map[nodeField]string{}}
	var walk func(fields []setting, path string)
	walk = func(fields []setting, path string) {
		for _, s := range fields {
			p := path + "." + s.name
			k.fields[s.v.dst] = p
			switch {
			case s.v.fields != nil:
				walk(s.v.fields, p)
			case s.v.each != nil:
				k.listAt = p
				k.indexNode(s.v.items, "")
			}
		}
	}
	walk(table, "$")
	return k
}

// indexNode records where each field of the node table's variable lies
// inside it, below path ("" for the node itself).
func (k *keyPaths) indexNode(node *value, path string) {
	base := reflect.ValueOf(node.dst).Pointer()
	var walk func(v *value, path string)
	walk = func(v *value, path string) {
		k.inNode[nodeField{reflect.ValueOf(v.dst).Pointer() - base, reflect.TypeOf(v.dst)}] = path
		for i := range v.fields {
			walk(&v.fields[i].v, path+"."+v.fields[i].name)
		}
	}
	walk(node, path)
}

// of returns the path of the key that decodes into field, a pointer into
// the cluster (c itself is "$"). A field no key decodes into is a bug in
// the rule that asks.
func (k keyPaths) of(field any) string {
	if p, ok := k.fields[field]; ok {
		return p
	}
	if len(k.nodes) > 0 {
		at := reflect.ValueOf(field).Pointer()
		first := reflect.ValueOf(&k.nodes[0]).Pointer()
		size := reflect.TypeFor[Node]().Size()
		if at >= first && at < first+size*uintptr(len(k.nodes)) {
			i, offset := (at-first)/size, (at-first)%size
			if p, ok := k.inNode[nodeField{offset, reflect.TypeOf(field)}]; ok {
				return fmt.Sprintf("%s[%d]%s", k.listAt, i, p)
			}
		}
	}
	panic(fmt.Sprintf("cluster: no setting decodes into %T", field))
}

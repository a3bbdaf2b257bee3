package cluster

import (
	"fmt"
	"reflect"
	"sync"
)

// Rules spanning several keys name each key by the Go field they read
// (v.errorf(&c.Swarm.TTL, ...)), never by a typed path: only the tables
// know where a field stands in the description. A field is known by its
// place in the struct that holds it (a Cluster, its Network, or a Node),
// which is the same in every description, so the places are read off the
// tables once, bound to one of each.

// place is a field's offset in its struct and its type (a struct and its
// first field share an offset).
type place struct {
	offset uintptr
	typ    reflect.Type
}

// keyPaths maps the places of a Cluster's, a Network's and a Node's
// fields to their paths; a node's paths are below the node ("" for the
// node itself, ".ip", ".snippets.butane").
type keyPaths struct {
	cluster, network, node map[place]string
	nodes                  string // the path of the list of nodes
}

var tablePaths = sync.OnceValue(func() *keyPaths {
	c := &Cluster{Network: new(Network)} // so the network row binds it
	k := &keyPaths{cluster: map[place]string{}, network: map[place]string{}, node: map[place]string{}}
	in := func(s any) map[place]string {
		switch s {
		case c:
			return k.cluster
		case c.Network:
			return k.network
		}
		return k.node
	}
	var walk func(owner any, fields []setting, path string)
	walk = func(owner any, fields []setting, path string) {
		for _, s := range fields {
			p := path + "." + s.name
			o := owner
			if s.v.dst == c.Network {
				o = c.Network
			}
			in(o)[placeIn(o, s.v.dst)] = p
			switch {
			case s.v.fields != nil:
				walk(o, s.v.fields, p)
			case s.v.each != nil:
				k.nodes = p
				node := s.v.items.dst
				k.node[placeIn(node, node)] = ""
				walk(node, s.v.items.fields, "")
			}
		}
	}
	k.cluster[placeIn(c, c)] = "$"
	walk(c, (&decoder{}).clusterSettings(c), "$")
	return k
})

// placeIn is where field lies in the struct owner points to.
func placeIn(owner, field any) place {
	return place{reflect.ValueOf(field).Pointer() - reflect.ValueOf(owner).Pointer(), reflect.TypeOf(field)}
}

// pathOf returns the path of the key that decodes into field, a pointer
// into c. A field no key decodes into is a bug in the rule that asks.
func (c *Cluster) pathOf(field any) string {
	k := tablePaths()
	switch {
	case within(field, c):
		if p, ok := k.cluster[placeIn(c, field)]; ok {
			return p
		}
	case c.Network != nil && within(field, c.Network):
		if p, ok := k.network[placeIn(c.Network, field)]; ok {
			return p
		}
	case len(c.Nodes) > 0 && within(field, c.Nodes):
		first := reflect.ValueOf(&c.Nodes[0]).Pointer()
		i := (reflect.ValueOf(field).Pointer() - first) / reflect.TypeFor[Node]().Size()
		if p, ok := k.node[placeIn(&c.Nodes[i], field)]; ok {
			return fmt.Sprintf("%s[%d]%s", k.nodes, i, p)
		}
	}
	panic(fmt.Sprintf("cluster: no setting decodes into this %T", field))
}

// within reports whether the pointer field points into the struct s
// points to, or into the elements of the slice s.
func within(field, s any) bool {
	v := reflect.ValueOf(s)
	start, size := v.Pointer(), v.Type().Elem().Size()
	if v.Kind() == reflect.Slice {
		size *= uintptr(v.Len())
	}
	at := reflect.ValueOf(field).Pointer()
	return at >= start && at < start+size
}

package cluster

import (
	"strconv"

	"github.com/swarmboot/swarmboot/profiles"
)

// given reports whether the description wrote a value at path.
func (c *Cluster) given(path string) bool {
	_, ok := c.pos[path]
	return ok
}

// applyDefaults fills in every key the description left unset from its
// row (the table Load decoded with), so the renderer never needs to know a
// default; then it resolves the profile each node names.
func (c *Cluster) applyDefaults(table []setting) {
	c.fillDefaults(table, "$")
	for i := range c.Nodes {
		// nil for an unknown name, which Load has reported.
		c.Nodes[i].System, _ = profiles.Lookup(c.Nodes[i].Profile)
	}
}

// fillDefaults walks the rows in table order, the order computed defaults
// rely on: a row's derive reads only keys above it, defaulted by then.
func (c *Cluster) fillDefaults(fields []setting, path string) {
	for i := range fields {
		s := &fields[i]
		if s.hasDefault() {
			// Only a key whose zero is a value (0, false) asks whether
			// it was written, so only it spells its path.
			if written := s.v.zeroIsValue && c.given(path+"."+s.name); s.unset(written) {
				s.applyDefault()
			}
		}
		switch {
		case s.v.fields != nil:
			c.fillDefaults(s.v.fields, path+"."+s.name)
		case s.v.each != nil:
			items := path + "." + s.name
			s.v.each(func(i int) { c.fillDefaults(s.v.items.fields, items+"["+strconv.Itoa(i)+"]") })
		}
	}
}

// defaultToken: etcd reads the token with static and SRV discovery
// (SRVGetCluster takes it as the cluster's token); a discovery service
// names its own.
func defaultToken(c *Cluster) any {
	if c.Etcd.Discovery == DiscoveryURL {
		return ""
	}
	return c.Name + "-etcd"
}

// defaultDockerPort is the seed's: "2376 if using TLS", else 2375.
func defaultDockerPort(tls bool) any {
	if tls {
		return DefaultDockerTLSPort
	}
	return DefaultDockerPort
}

package cluster

import (
	"fmt"

	"github.com/swarmboot/swarmboot/profiles"
)

// given reports whether the description wrote a value at path.
func (c *Cluster) given(path string) bool {
	_, ok := c.pos[path]
	return ok
}

// applyDefaults fills in what the description left out, so the renderer
// never needs to know a default.
func (c *Cluster) applyDefaults() {
	if c.Profile == "" {
		c.Profile = DefaultProfile
	}
	if !c.given("$.install_packages") {
		c.InstallPackages = true
	}
	e := &c.Etcd
	if e.Discovery == "" {
		e.Discovery = DiscoveryStatic
	}
	// etcd reads the token with static and SRV discovery (SRVGetCluster
	// takes it as the cluster's token); a discovery service names its own.
	if e.Token == "" && e.Discovery != DiscoveryURL {
		e.Token = fmt.Sprintf("%s-etcd", c.Name)
	}
	if e.Image == "" {
		e.Image = DefaultEtcdImage
	}
	e.ClientPort = orDefault(e.ClientPort, "$.etcd.client_port", c, DefaultClientPort)
	e.PeerPort = orDefault(e.PeerPort, "$.etcd.peer_port", c, DefaultPeerPort)
	// TLS unless the description turns it off, as the seed's plain form does.
	e.TLS = e.TLS || !c.given("$.etcd.tls")
	k := &c.Docker
	k.TLS = k.TLS || !c.given("$.docker.tls")
	port := DefaultDockerPort
	if k.TLS {
		port = DefaultDockerTLSPort
	}
	k.Port = orDefault(k.Port, "$.docker.port", c, port)
	if k.Bind == "" {
		k.Bind = BindNode
	}
	if k.Activation == "" {
		k.Activation = ActivationDropin
	}
	s := &c.Swarm
	if s.Image == "" {
		s.Image = DefaultSwarmImage
	}
	if s.Path == "" {
		s.Path = DefaultSwarmPath
	}
	s.Manager.Port = orDefault(s.Manager.Port, "$.swarm.manager.port", c, DefaultManagerPort)
	t := &c.TLS
	if t.Dir == "" {
		t.Dir = DefaultPKIDir
	}
	if t.Validity == 0 {
		t.Validity = DefaultCertValidity
	}
	if t.RenewBefore == 0 {
		t.RenewBefore = DefaultRenewBefore
	}
	for i := range c.Nodes {
		if c.Nodes[i].Profile == "" {
			c.Nodes[i].Profile = c.Profile
		}
		// nil for an unknown name, which validation reports.
		c.Nodes[i].System, _ = profiles.Lookup(c.Nodes[i].Profile)
	}
}

// orDefault keeps a written value (even 0, which validation then rejects)
// and defaults an absent one.
func orDefault(v int, path string, c *Cluster, def int) int {
	if c.given(path) {
		return v
	}
	return def
}

package cluster

import (
	"net/netip"
	"net/url"
	"strings"

	"github.com/swarmboot/swarmboot/profiles"
)

// The rules that span several keys, run on the whole, defaulted
// description. A key's own rules ran as it was decoded (check.go); these
// name the keys they speak of by their fields (validator.go).

// validate checks every rule that needs several keys of the defaulted
// description.
func (c *Cluster) validate(rep *Report) {
	v := validator{c, rep}
	c.Etcd.validate(v)
	c.validateImage(v)
	c.Docker.validate(v)
	c.Swarm.validate(v)
	c.validateTLS(v)
	c.validateLogin(v)
	c.validateNodes(v)
	c.validateTopology(v)
}

// validate: the discovery mode decides which of url and srv etcd reads,
// so only that one must be given and well formed.
func (e *Etcd) validate(v validator) {
	switch e.Discovery {
	case DiscoveryStatic:
		for _, k := range []struct {
			field *string
			mode  string
		}{{&e.URL, DiscoveryURL}, {&e.SRV, DiscoverySRV}} {
			if v.written(k.field) {
				v.errorf(k.field, ErrNotApplicable, "%s is only read with `discovery: %s`; remove it or change discovery", v.name(k.field), k.mode)
			}
		}
	case DiscoveryURL:
		u, err := url.Parse(e.URL)
		switch {
		case e.URL == "":
			v.errorf(e, ErrRequired, "`discovery: url` needs `url:`, the discovery service URL (e.g. https://discovery.etcd.io/TOKEN)")
		case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
			v.errorf(&e.URL, ErrInvalidValue, "%q is not an http(s) URL", e.URL)
		case !envSafe(e.URL):
			v.errorf(&e.URL, ErrInvalidValue, "the URL has characters an environment file cannot carry as they are (white space, quotes, '\\', '$' or control characters); percent-encode them (a space is %%20)")
		}
		if v.written(&e.Token) {
			v.errorf(&e.Token, ErrNotApplicable, "token is not read with `discovery: url`: the discovery service names the cluster; remove it")
		}
	case DiscoverySRV:
		if e.SRV == "" {
			v.errorf(e, ErrRequired, "`discovery: srv` needs `srv:`, the domain holding the _etcd-server._tcp SRV records")
		} else if !validDomain(e.SRV) {
			v.errorf(&e.SRV, ErrInvalidValue, "%q is not a DNS domain name", e.SRV)
		}
	}
}

// validateImage: etcd.image is read only where a member runs etcd from
// an image; distribution packages bring their own etcd.
func (c *Cluster) validateImage(v validator) {
	if !v.written(&c.Etcd.Image) || !v.valid(&c.Etcd.Image) {
		return
	}
	for _, n := range c.Members() {
		if n.System != nil && n.System.Etcd.FromImage {
			return
		}
	}
	v.errorf(&c.Etcd.Image, ErrNotApplicable, "no etcd member runs etcd from an image (only flatcar and fcos do); distribution packages bring their own etcd: remove `image:`")
}

func (k *Docker) validate(v validator) {
	if addr, err := netip.ParseAddr(k.Bind); err == nil && !k.TLS && v.valid(&k.Bind) {
		v.warnf(&k.Bind, WarnInsecureBind,
			"the engine listens on %s without TLS: anyone who reaches any address of the host controls it; prefer `bind: node` and a firewall",
			netip.AddrPortFrom(addr, uint16(k.Port)))
	}
}

func (s *Swarm) validate(v validator) {
	if s.Heartbeat > 0 && s.TTL > 0 && s.TTL <= s.Heartbeat {
		v.errorf(&s.TTL, ErrInvalidValue, "ttl (%s) must be longer than heartbeat (%s), or nodes drop out between heartbeats", s.TTL, s.Heartbeat)
	}
}

// validateLogin: the images swarmboot targets have no password login, so
// without a key only what a cloud injects itself (an AWS key pair, an
// OpenStack keypair) logs in; on NoCloud, PXE and Vagrant nobody can. An
// empty list written out says that is meant.
func (c *Cluster) validateLogin(v validator) {
	if len(c.SSHAuthorizedKeys) == 0 && !v.written(&c.SSHAuthorizedKeys) {
		v.warnf(&c.SSHAuthorizedKeys, WarnNoLogin,
			"no ssh_authorized_keys: nobody can log in to the nodes over SSH unless the cloud injects a key itself (an AWS key pair, an OpenStack keypair); add your public key (e.g. the line of ~/.ssh/id_ed25519.pub), or write `ssh_authorized_keys: []` if that is meant")
	}
}

// validateTLS warns about every plain part (the seed's form is allowed,
// but never silently) and checks the PKI settings against each other.
func (c *Cluster) validateTLS(v validator) {
	if !c.Docker.TLS {
		v.warnf(&c.Docker.TLS, WarnPlain,
			"the Docker API on port %d and the swarm manager on %d take any client, without TLS: whoever reaches them has root on every node; remove `tls: false` for mutual TLS",
			c.Docker.Port, c.Swarm.Manager.Port)
	}
	if !c.Etcd.TLS {
		v.warnf(&c.Etcd.TLS, WarnPlain,
			"etcd takes any client and peer over plain HTTP: whoever reaches port %d can rewrite the swarm's discovery; remove `tls: false` for TLS with client certificates",
			c.Etcd.ClientPort)
	}
	t := &c.TLS
	if t.RenewBefore >= t.Validity {
		v.errorf(&t.RenewBefore, ErrInvalidValue, "renew_before (%s) must be shorter than validity (%s), or every certificate is due for renewal when it is issued", t.RenewBefore, t.Validity)
	}
	if !v.valid(&t.SANs) {
		return
	}
	for i := range c.Nodes {
		n := &c.Nodes[i]
		if total := len(t.SANs) + len(n.SANs); total > MaxSANs {
			v.errorf(&n.SANs, ErrOutOfRange, "%s's certificate would hold %d extra names (%d from tls.sans); at most %d, which keeps it far under what TLS peers accept", n.Name, total, len(t.SANs), MaxSANs)
		}
	}
}

// validateNodes: what one node's keys say together, what they say with
// the cluster's, and names, addresses and MACs that must differ between
// nodes.
func (c *Cluster) validateNodes(v validator) {
	macs := make(map[string]int, len(c.Nodes))
	names := make(map[string]int, len(c.Nodes))
	ips := make(map[netip.Addr]int, len(c.Nodes))
	for i := range c.Nodes {
		n := &c.Nodes[i]
		if n.Name != "" && v.valid(&n.Name) {
			if j, dup := names[n.Name]; dup {
				v.errorf(&n.Name, ErrDuplicate, "node name %q is already used by %s; names must be unique", n.Name, v.path(&c.Nodes[j]))
			} else {
				names[n.Name] = i
			}
		}
		if n.IP.IsValid() && v.valid(&n.IP) {
			if j, dup := ips[n.IP]; dup {
				v.errorf(&n.IP, ErrDuplicate, "address %s is already used by %s; every node needs its own", n.IP, v.path(&c.Nodes[j]))
			} else {
				ips[n.IP] = i
			}
		}
		if n.MAC != "" && v.valid(&n.MAC) {
			if j, dup := macs[n.MAC]; dup {
				v.errorf(&n.MAC, ErrDuplicate, "MAC %s is already used by %s", n.MAC, v.path(&c.Nodes[j]))
			} else {
				macs[n.MAC] = i
			}
		}
		if n.Gateway.IsValid() && c.Network == nil {
			v.errorf(&n.Gateway, ErrNotApplicable, "a node's gateway belongs to static addressing; add `network:` with the prefix, or remove it to leave routes to DHCP")
		}
		c.validateNodeNetwork(v, n)
		if len(n.SANs) > 0 && !c.UsesTLS() {
			v.errorf(&n.SANs, ErrNotApplicable, "certificate names apply with TLS, which this cluster turns off; remove `sans:`")
		}
		c.validateNodeProfile(v, n)
	}
	c.validateReleases(v)
}

// validateReleases: installing packages on a profile whose releases need
// different ones (debian: docker-cli from 13 on) needs the release named.
// Reported once per place the profile is written.
func (c *Cluster) validateReleases(v validator) {
	if !c.InstallPackages {
		return
	}
	reported := map[string]bool{}
	for i := range c.Nodes {
		n := &c.Nodes[i]
		prof := n.System
		if prof == nil || !prof.NeedsRelease() {
			continue
		}
		var at any = &n.Profile
		if !v.written(at) {
			at = &c.Profile
		}
		if reported[v.path(at)] {
			continue
		}
		reported[v.path(at)] = true
		v.errorf(at, ErrNotApplicable,
			"profile %s covers releases whose packages differ (%s); name the release: %s, or set `install_packages: false` for images that have the packages",
			prof.Name, prof.WhyReleases, strings.Join(prof.ReleaseNames(), ", "))
	}
}

// validateNodeNetwork: the node's address within the static network, and
// the gateway it routes through.
func (c *Cluster) validateNodeNetwork(v validator, n *Node) {
	nw := c.Network
	if nw == nil || !n.IP.IsValid() || !v.valid(&n.IP) || nw.Prefix < 1 {
		return
	}
	if n.IP.Is4() && nw.Prefix > 32 {
		v.errorf(&nw.Prefix, ErrOutOfRange, "prefix %d is too long for the IPv4 address of %s; use 1-32", nw.Prefix, n.Name)
		return
	}
	if pfx, err := n.IP.Prefix(nw.Prefix); err == nil && n.IP.Is4() && nw.Prefix <= 30 {
		if n.IP == pfx.Addr() || n.IP == lastAddr(pfx) {
			v.errorf(&n.IP, ErrInvalidValue, "%s is the network or broadcast address of %s, not a host's; pick an address inside it", n.IP, pfx)
		}
	}
	gw, gwField := nw.Gateway, &nw.Gateway
	if n.Gateway.IsValid() {
		gw, gwField = n.Gateway, &n.Gateway
	}
	if !gw.IsValid() {
		return
	}
	if gw == n.IP {
		v.errorf(&n.IP, ErrInvalidValue, "%s is the gateway's address (%s); a node cannot route through itself", n.IP, v.path(gwField))
	}
	if gw.Is4() != n.IP.Is4() {
		v.errorf(gwField, ErrInvalidValue, "gateway %s and %s's address %s are of different IP families", gw, n.Name, n.IP)
	} else if pfx, err := n.IP.Prefix(nw.Prefix); err == nil && !pfx.Contains(gw) {
		v.warnf(gwField, WarnGateway, "gateway %s is outside %s's subnet %s; it will not be reachable as a next hop (a node in another subnet can have its own `gateway:`)", gw, n.Name, pfx)
	}
}

// lastAddr is the highest address of an IPv4 prefix (its broadcast).
func lastAddr(p netip.Prefix) netip.Addr {
	a := p.Addr().As4()
	host := uint32(1)<<(32-p.Bits()) - 1
	v := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3]) | host
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// validateNodeProfile checks the settings a node's target system cannot
// honour.
func (c *Cluster) validateNodeProfile(v validator, n *Node) {
	prof := n.System
	if prof == nil {
		return
	}
	for _, kind := range profiles.AllFormats() {
		if len(n.Snippets.Of(kind)) > 0 && !prof.Supports(kind) {
			v.errorf(n.Snippets.list(kind), ErrNotApplicable, "node %s (profile %s) reads %s, so a %s snippet would never be used",
				n.Name, prof.Name, profiles.JoinFormats(prof.Formats), kind)
		}
	}
	if c.Docker.Activation == ActivationSocket && !prof.Docker.SocketActivation && (n.Has(RoleDocker)) {
		v.errorf(&c.Docker.Activation, ErrNotApplicable,
			"`activation: socket` needs a socket-activated docker.service, which profile %s (node %s) does not have; use `activation: drop-in`", prof.Name, n.Name)
	}
}

func (c *Cluster) validateTopology(v validator) {
	if len(c.Nodes) == 0 {
		return
	}
	members := c.Members()
	switch {
	case len(members) == 0:
		v.errorf(&c.Nodes, ErrTopology, "no node has the etcd role; swarm discovery needs an etcd cluster: give `etcd` to 1, 3 or 5 nodes")
	case len(members)%2 == 0:
		v.warnf(&c.Nodes, WarnEvenEtcd, "%d etcd members tolerate no more failures than %d; use an odd number", len(members), len(members)-1)
	}
	if len(members) > 7 {
		v.warnf(&c.Nodes, WarnManyEtcd, "%d etcd members: every write waits for a majority of them; etcd advises 3, 5 or 7 (give the other nodes only docker)", len(members))
	}
	if len(c.DockerHosts()) == 0 {
		v.errorf(&c.Nodes, ErrTopology, "no node has the docker role; the swarm needs at least one Docker host")
	}
	// Several managers elect a primary through etcd; any number works.
	if len(c.Managers()) == 0 {
		v.warnf(&c.Nodes, WarnNoManager, "no node has the manager role; engines will register in etcd but nothing serves the swarm API (add `manager` to one node, or to several for replicas that survive a lost node)")
	}
	for i := range c.Nodes {
		c.validatePorts(v, &c.Nodes[i])
	}
}

// validatePorts finds two services of one node on one port. The manager
// case is the seed's port conflict: its container publishes the port on
// every address of the host, so it clashes whatever the engine's bind.
func (c *Cluster) validatePorts(v validator, n *Node) {
	type service struct {
		name string
		port *int
	}
	var used = map[int]string{}
	claim := func(s service) {
		prev, taken := used[*s.port]
		if !taken {
			used[*s.port] = s.name
			return
		}
		if s.port == &c.Swarm.Manager.Port {
			v.errorf(s.port, ErrPortConflict,
				"the manager on %s would publish port %d, which %s already uses on that host. Ways out (as in the seed): "+
					"(1) give the manager another port, e.g. `swarm: {manager: {port: 8333}}`; "+
					"(2) run the engine and the manager on different addresses; "+
					"(3) put the manager role on a node without the docker role, whose engine stays local-only",
				n.Name, *s.port, prev)
			return
		}
		v.errorf(s.port, ErrPortConflict, "on %s, %s and %s would both use port %d; give one of them another port", n.Name, prev, s.name, *s.port)
	}
	if n.Has(RoleEtcd) {
		claim(service{"etcd's client API", &c.Etcd.ClientPort})
		claim(service{"etcd's peer API", &c.Etcd.PeerPort})
	}
	if n.Has(RoleDocker) {
		claim(service{"the Docker engine", &c.Docker.Port})
	}
	if n.Has(RoleManager) {
		claim(service{"the swarm manager", &c.Swarm.Manager.Port})
	}
}

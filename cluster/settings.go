package cluster

import (
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/swarmboot/swarmboot/profiles"
)

// The description's keys, one row each (table.go says what a row holds).
// Adding a key means adding its row here, its field in types.go, and its
// own rule in keyrules.go when the row's declarations cannot say it; a
// rule comparing it with other keys goes to validate.go.

// profileNames, once: every node's table names them.
var profileNames = profiles.Names()

// One method a mapping, so the keys of each level read as a table.

func (d *decoder) clusterSettings(c *Cluster) []setting {
	nw := c.Network // decoded into a fresh Network, kept only when written
	if nw == nil {
		nw = new(Network)
	}
	return []setting{
		{name: "version", v: d.integer(&c.Version, supportedVersion), enum: []int{1},
			required: true, missing: "the description has no version; add `version: 1` at the top",
			doc: "Description format version."},
		{name: "cluster", v: d.text(&c.Name), syntax: clusterName,
			required: true, missing: "the cluster has no name; add e.g. `cluster: demo` (it prefixes tokens and instance IDs)",
			doc: "Cluster name; prefixes the etcd token and instance IDs."},
		{name: "profile", v: d.text(&c.Profile), def: DefaultProfile, enum: profileNames,
			doc: "Target system of nodes that name none (`swarmboot profiles`)."},
		{name: "install_packages", v: d.boolean(&c.InstallPackages), def: true,
			doc: "cloud-config: install etcd and Docker packages at boot; false for images that have them."},
		{name: "ssh_authorized_keys", v: d.strList(&c.SSHAuthorizedKeys), syntax: sshKey,
			doc: "Public keys for the default user (core on Flatcar and Fedora CoreOS)."},
		{name: "network", v: d.object(nw, d.networkSettings(nw), func() { c.Network = nw }),
			doc: "Static addressing of every node; leave out for DHCP."},
		{name: "etcd", v: d.object(&c.Etcd, d.etcdSettings(&c.Etcd, c), nil),
			doc: "The etcd cluster that swarm's discovery uses."},
		{name: "docker", v: d.object(&c.Docker, d.dockerSettings(&c.Docker), nil),
			doc: "How every Docker host exposes its engine."},
		{name: "swarm", v: d.object(&c.Swarm, d.swarmSettings(&c.Swarm), nil),
			doc: "The classic Swarm join agents and manager."},
		{name: "tls", v: d.object(&c.TLS, d.tlsSettings(&c.TLS), nil),
			doc: "The cluster's PKI, used where docker.tls or etcd.tls is on."},
		{name: "snippets", v: d.snippetSettings(&c.Snippets),
			doc: "Fragment files in a node's native format, merged into every node of that format."},
		{name: "nodes", v: d.nodes(&c.Nodes, c),
			required: true, missing: "the cluster has no nodes; add a `nodes:` list",
			doc: "The machines of the cluster."},
	}
}

func (d *decoder) networkSettings(nw *Network) []setting {
	return []setting{
		{name: "prefix", v: d.integer(&nw.Prefix), rng: &prefixRange,
			required: true, missing: "static network needs a prefix length, e.g. `prefix: 24`; or remove `network:` to leave addressing to DHCP",
			doc: "Prefix length of the nodes' network (1-32 for IPv4)."},
		{name: "gateway", v: d.addr(&nw.Gateway),
			doc: "Default gateway of every node that names none."},
		{name: "dns", v: d.addrList(&nw.DNS),
			doc: "DNS servers."},
		// nonEmpty: `interface: ""` names no NIC, and silently addressing
		// every en*/eth* one instead would surprise whoever wrote it.
		{name: "interface", v: d.text(&nw.Interface), syntax: interfaceName, nonEmpty: true,
			doc: "The NIC to address, by its exact name. Without it a node's mac selects its NIC, else its profile's NIC names do (en* and eth*: every NIC so named, so give mac or interface on machines with several)."},
	}
}

func (d *decoder) etcdSettings(e *Etcd, c *Cluster) []setting {
	return []setting{
		{name: "discovery", v: d.text(&e.Discovery), def: DiscoveryStatic, enum: discoveryModes,
			doc: "How members find each other: every member listed, a discovery URL, or DNS SRV records."},
		{name: "token", v: d.text(&e.Token), syntax: etcdToken, derive: func() any { return defaultToken(c) },
			doc: "Initial cluster token (static, srv); default <cluster>-etcd."},
		{name: "url", v: d.text(&e.URL),
			doc: "Discovery service URL (discovery: url)."},
		{name: "srv", v: d.text(&e.SRV),
			doc: "Domain with _etcd-server._tcp SRV records (discovery: srv)."},
		{name: "client_port", v: d.integer(&e.ClientPort), def: DefaultClientPort, rng: &portRange,
			doc: "etcd's client API port."},
		{name: "peer_port", v: d.integer(&e.PeerPort), def: DefaultPeerPort, rng: &portRange,
			doc: "etcd's peer API port."},
		{name: "data_dir", v: d.text(&e.DataDir, notSystemDir), syntax: absPath,
			doc: "etcd's data directory; default per profile, one per member."},
		{name: "image", v: d.text(&e.Image), def: DefaultEtcdImage, syntax: etcdImage,
			doc: "etcd image where the system runs etcd from one (flatcar, fcos); v3.5 at most: 3.6 removed the v2 API classic swarm needs."},
		{name: "tls", v: d.boolean(&e.TLS), def: true,
			doc: "Client and peer TLS with client certificates (https everywhere); false is the seed's plain form, a warning."},
	}
}

func (d *decoder) dockerSettings(k *Docker) []setting {
	return []setting{
		{name: "tls", v: d.boolean(&k.TLS), def: true,
			doc: "Mutual TLS on the engine API and the swarm manager's; false is the seed's plain form, a warning."},
		{name: "port", v: d.integer(&k.Port), def: DefaultDockerTLSPort, derive: func() any { return defaultDockerPort(k.TLS) }, rng: &portRange,
			doc: "The engine's TCP API port: 2376 with TLS, 2375 without."},
		{name: "bind", v: d.text(&k.Bind), def: BindNode, enum: bindModes,
			doc: "Where the engine listens: the node's IP, or every address (a warning without TLS)."},
		{name: "activation", v: d.text(&k.Activation), def: ActivationDropin, enum: activations,
			doc: "A docker.service drop-in, or a docker-tcp.socket unit (flatcar, coreos)."},
	}
}

func (d *decoder) swarmSettings(s *Swarm) []setting {
	return []setting{
		{name: "image", v: d.text(&s.Image), def: DefaultSwarmImage, syntax: swarmImage,
			doc: "The classic Swarm image."},
		{name: "image_archive", v: d.text(&s.ImageArchive), syntax: absPath,
			doc: "Path on the node of an image archive, `docker load`ed when the image is missing."},
		{name: "path", v: d.text(&s.Path), def: DefaultSwarmPath, syntax: etcdKeyPath,
			doc: "Key prefix in etcd."},
		{name: "heartbeat", v: d.duration(&s.Heartbeat),
			doc: "swarm join --heartbeat; default swarm's own (60s)."},
		{name: "ttl", v: d.duration(&s.TTL),
			doc: "swarm join --ttl, longer than heartbeat; default swarm's own (180s)."},
		{name: "manager", v: d.object(&s.Manager, d.managerSettings(&s.Manager), nil),
			doc: "The swarm manager."},
	}
}

func (d *decoder) tlsSettings(t *TLS) []setting {
	return []setting{
		{name: "dir", v: d.text(&t.Dir), def: DefaultPKIDir, syntax: besideDescription,
			doc: "The PKI directory (CA, issued certificates), a folder beside the description; `swarmboot pki init` makes it."},
		{name: "validity", v: d.duration(&t.Validity, certValidity), def: DefaultCertValidity,
			doc: "Lifetime of node and client certificates."},
		{name: "renew_before", v: d.duration(&t.RenewBefore), def: DefaultRenewBefore,
			doc: "Renders warn, and `swarmboot pki renew` re-issues, this long before a certificate expires."},
		{name: "sans", v: d.strList(&t.SANs, atMostSANs), syntax: certName, unique: true, noun: "name",
			doc: "Extra DNS names or IP addresses on every node certificate (a load balancer's name)."},
	}
}

func (d *decoder) managerSettings(m *Manager) []setting {
	return []setting{
		{name: "port", v: d.integer(&m.Port), def: DefaultManagerPort, rng: &portRange,
			doc: "Published as <port>:2375 on the manager's host; must differ from docker.port there."},
	}
}

func (d *decoder) nodeSettings(nd *Node, c *Cluster) []setting {
	return []setting{
		{name: "name", v: d.text(&nd.Name), syntax: hostName,
			required: true, missing: "node has no name; add `name:` (a hostname such as docker-01)",
			doc: "Host name (a lower-case RFC 1123 label)."},
		{name: "ip", v: d.addr(&nd.IP, nodeAddress),
			required: true, missing: "node has no ip; add `ip:` (its address on the cluster network)",
			doc: "IPv4 or IPv6 address on the cluster network."},
		{name: "roles", v: d.strList(&nd.Roles), enum: Roles, unique: true, noun: "role",
			required: true, missing: "node has no roles; add `roles:` with any of " + strings.Join(Roles, ", "),
			doc: "etcd, docker and manager, in any mix."},
		{name: "profile", v: d.text(&nd.Profile), enum: profileNames, derive: func() any { return c.Profile },
			doc: "Target system; default the cluster's profile."},
		{name: "mac", v: d.mac(&nd.MAC, unicastMAC),
			doc: "Selects the machine (matchbox) and its NIC (static network)."},
		{name: "gateway", v: d.addr(&nd.Gateway),
			doc: "This node's gateway, in place of network.gateway (a cluster over several subnets)."},
		{name: "snippets", v: d.snippetSettings(&nd.Snippets),
			doc: "Fragment files merged into this node only, after the cluster's."},
		{name: "sans", v: d.strList(&nd.SANs), syntax: certName, unique: true, noun: "name",
			doc: "Extra DNS names or IP addresses on this node's certificate."},
	}
}

// snippetSettings describes the snippet lists of snippets.go, whose keys
// are the formats a fragment is written in and all read a list of files.
func (d *decoder) snippetSettings(s *Snippets) value {
	var keys []setting
	for _, f := range snippetKeys(s) {
		keys = append(keys, setting{name: f.key,
			v:   value{decode: d.snippetList(f.dst), dst: f.dst, json: "array", items: &value{json: "string"}},
			doc: f.key + " fragment files, relative to the description, merged in order."})
	}
	v := d.object(s, keys, nil)
	v.ref = "snippets"
	return v
}

// nodes decodes each item into one Node variable, appended and reset
// after each, so a 10,000-node description builds the item table once;
// later walks (defaults) bind that variable to each node in turn.
func (d *decoder) nodes(dst *[]Node, c *Cluster) value {
	var node Node
	item := d.object(&node, d.nodeSettings(&node, c), nil)
	return value{json: "array", items: &item, dst: dst,
		decode: func(n *yaml.Node, path string) {
			d.list(n, path, func(e *yaml.Node, sub string) {
				node = Node{}
				if d.mapping(e, sub, item.fields) {
					*dst = append(*dst, node)
				} else if !d.abort && isNull(e) {
					d.errorf(e, sub, ErrRequired, "empty node; give at least name, ip and roles")
				}
			})
		},
		each: func(visit func(i int)) {
			for i := range *dst {
				node = (*dst)[i]
				visit(i)
				(*dst)[i] = node
			}
		},
	}
}

package cluster

import (
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/swarmboot/swarmboot/profiles"
)

// The settings tables below are the one list of the description's keys.
// The decoder walks them (decode.go), GenerateSchema writes the JSON Schema
// from them, and tests hold the starter (examples/starter.yaml) and the
// README's key table to them. Adding a key means adding a row here, its
// default (defaults.go) and its rules (validate.go).

// setting is one key of a mapping: how its value is decoded and what the
// schema says of it. enum and pattern restrict a list's items.
type setting struct {
	name     string
	v        value
	doc      string // one line, the schema's description
	required bool   // Load reports its absence
	def      any    // the default Load applies, when it is a constant
	enum     any    // a slice of the values validation accepts
	pattern  *regexp.Regexp
	rng      *bounds // an integer's range
	minItems int
	unique   bool // a list's items may not repeat
}

// value is how the decoder reads one value, and its JSON shape.
type value struct {
	decode  func(n *yaml.Node, path string)
	dst     any    // where decode stores it (tests read defaults there)
	json    string // string, integer, boolean, array or object
	pattern string // what the decoder itself insists on (MAC, duration)
	items   *value
	fields  []setting // an object's keys
	ref     string    // an object table shared by several keys: a $defs entry
}

// bounds is an inclusive range of whole numbers.
type bounds struct{ min, max int }

var (
	portRange   = bounds{1, 65535}
	prefixRange = bounds{1, 128} // IPv6; IPv4 addresses need 1-32, which validation checks per node
)

// profileNames, once: every node's table names them.
var profileNames = profiles.Names()

// sshKeyLine is the shape of an authorized key line; validation goes on
// to decode the key (checkSSHKey).
var sshKeyLine = regexp.MustCompile(`^(ssh-|ecdsa-sha2-|sk-ssh-|sk-ecdsa-)\S+ \S+`)

// One method a mapping, so the keys of each level read as a table.

func (d *decoder) clusterSettings(c *Cluster) []setting {
	nw := c.Network // decoded into a fresh Network, kept only when written
	if nw == nil {
		nw = new(Network)
	}
	return []setting{
		{name: "version", v: d.integer(&c.Version), required: true, enum: []int{1},
			doc: "Description format version."},
		{name: "cluster", v: d.text(&c.Name), required: true, pattern: hostnameLabel,
			doc: "Cluster name; prefixes the etcd token and instance IDs."},
		{name: "profile", v: d.text(&c.Profile), def: DefaultProfile, enum: profileNames,
			doc: "Target system of nodes that name none (`swarmboot profiles`)."},
		{name: "install_packages", v: d.boolean(&c.InstallPackages), def: true,
			doc: "cloud-config: install etcd and Docker packages at boot; false for images that have them."},
		{name: "ssh_authorized_keys", v: d.strList(&c.SSHAuthorizedKeys), pattern: sshKeyLine,
			doc: "Public keys for the default user (core on Flatcar and Fedora CoreOS)."},
		{name: "network", v: d.object(d.networkSettings(nw), func() { c.Network = nw }),
			doc: "Static addressing of every node; leave out for DHCP."},
		{name: "etcd", v: d.object(d.etcdSettings(&c.Etcd), nil),
			doc: "The etcd cluster that swarm's discovery uses."},
		{name: "docker", v: d.object(d.dockerSettings(&c.Docker), nil),
			doc: "How every Docker host exposes its engine."},
		{name: "swarm", v: d.object(d.swarmSettings(&c.Swarm), nil),
			doc: "The classic Swarm join agents and manager."},
		{name: "tls", v: d.object(d.tlsSettings(&c.TLS), nil),
			doc: "The cluster's PKI, used where docker.tls or etcd.tls is on."},
		{name: "snippets", v: d.snippetSettings(&c.Snippets),
			doc: "Fragment files in a node's native format, merged into every node of that format."},
		{name: "nodes", v: d.nodes(&c.Nodes), required: true, minItems: 1,
			doc: "The machines of the cluster."},
	}
}

func (d *decoder) networkSettings(nw *Network) []setting {
	return []setting{
		{name: "prefix", v: d.integer(&nw.Prefix), required: true, rng: &prefixRange,
			doc: "Prefix length of the nodes' network (1-32 for IPv4)."},
		{name: "gateway", v: d.addr(&nw.Gateway),
			doc: "Default gateway of every node that names none."},
		{name: "dns", v: d.addrList(&nw.DNS),
			doc: "DNS servers."},
		{name: "interface", v: d.text(&nw.Interface), pattern: ifaceName,
			doc: "The NIC to address, by its exact name. Without it a node's mac selects its NIC, else its profile's NIC names do (en* and eth*: every NIC so named, so give mac or interface on machines with several)."},
	}
}

func (d *decoder) etcdSettings(e *Etcd) []setting {
	return []setting{
		{name: "discovery", v: d.text(&e.Discovery), def: DiscoveryStatic, enum: discoveryModes,
			doc: "How members find each other: every member listed, a discovery URL, or DNS SRV records."},
		{name: "token", v: d.text(&e.Token),
			doc: "Initial cluster token (static, srv); default <cluster>-etcd."},
		{name: "url", v: d.text(&e.URL),
			doc: "Discovery service URL (discovery: url)."},
		{name: "srv", v: d.text(&e.SRV),
			doc: "Domain with _etcd-server._tcp SRV records (discovery: srv)."},
		{name: "client_port", v: d.integer(&e.ClientPort), def: DefaultClientPort, rng: &portRange,
			doc: "etcd's client API port."},
		{name: "peer_port", v: d.integer(&e.PeerPort), def: DefaultPeerPort, rng: &portRange,
			doc: "etcd's peer API port."},
		{name: "data_dir", v: d.text(&e.DataDir), pattern: safePath,
			doc: "etcd's data directory; default per profile, one per member."},
		{name: "image", v: d.text(&e.Image), def: DefaultEtcdImage, pattern: imageRef,
			doc: "etcd image where the system runs etcd from one (flatcar, fcos); v3.5 at most: 3.6 removed the v2 API classic swarm needs."},
		{name: "tls", v: d.boolean(&e.TLS), def: true,
			doc: "Client and peer TLS with client certificates (https everywhere); false is the seed's plain form, a warning."},
	}
}

func (d *decoder) dockerSettings(k *Docker) []setting {
	return []setting{
		{name: "tls", v: d.boolean(&k.TLS), def: true,
			doc: "Mutual TLS on the engine API and the swarm manager's; false is the seed's plain form, a warning."},
		{name: "port", v: d.integer(&k.Port), def: DefaultDockerTLSPort, rng: &portRange,
			doc: "The engine's TCP API port: 2376 with TLS, 2375 without."},
		{name: "bind", v: d.text(&k.Bind), def: BindNode, enum: bindModes,
			doc: "Where the engine listens: the node's IP, or every address (a warning without TLS)."},
		{name: "activation", v: d.text(&k.Activation), def: ActivationDropin, enum: activations,
			doc: "A docker.service drop-in, or a docker-tcp.socket unit (flatcar, coreos)."},
	}
}

func (d *decoder) swarmSettings(s *Swarm) []setting {
	return []setting{
		{name: "image", v: d.text(&s.Image), def: DefaultSwarmImage, pattern: imageRef,
			doc: "The classic Swarm image."},
		{name: "image_archive", v: d.text(&s.ImageArchive), pattern: safePath,
			doc: "Path on the node of an image archive, `docker load`ed when the image is missing."},
		{name: "path", v: d.text(&s.Path), def: DefaultSwarmPath, pattern: etcdPath,
			doc: "Key prefix in etcd."},
		{name: "heartbeat", v: d.duration(&s.Heartbeat),
			doc: "swarm join --heartbeat; default swarm's own (60s)."},
		{name: "ttl", v: d.duration(&s.TTL),
			doc: "swarm join --ttl, longer than heartbeat; default swarm's own (180s)."},
		{name: "manager", v: d.object(d.managerSettings(&s.Manager), nil),
			doc: "The swarm manager."},
	}
}

func (d *decoder) tlsSettings(t *TLS) []setting {
	return []setting{
		{name: "dir", v: d.text(&t.Dir), def: DefaultPKIDir, pattern: pkiDir,
			doc: "The PKI directory (CA, issued certificates), a folder beside the description; `swarmboot pki init` makes it."},
		{name: "validity", v: d.duration(&t.Validity), def: DefaultCertValidity,
			doc: "Lifetime of node and client certificates."},
		{name: "renew_before", v: d.duration(&t.RenewBefore), def: DefaultRenewBefore,
			doc: "Renders warn, and `swarmboot pki renew` re-issues, this long before a certificate expires."},
		{name: "sans", v: d.strList(&t.SANs), unique: true,
			doc: "Extra DNS names or IP addresses on every node certificate (a load balancer's name)."},
	}
}

func (d *decoder) managerSettings(m *Manager) []setting {
	return []setting{
		{name: "port", v: d.integer(&m.Port), def: DefaultManagerPort, rng: &portRange,
			doc: "Published as <port>:2375 on the manager's host; must differ from docker.port there."},
	}
}

func (d *decoder) nodeSettings(nd *Node) []setting {
	return []setting{
		{name: "name", v: d.text(&nd.Name), required: true, pattern: hostnameLabel,
			doc: "Host name (a lower-case RFC 1123 label)."},
		{name: "ip", v: d.addr(&nd.IP), required: true,
			doc: "IPv4 or IPv6 address on the cluster network."},
		{name: "roles", v: d.strList(&nd.Roles), required: true, enum: Roles, minItems: 1, unique: true,
			doc: "etcd, docker and manager, in any mix."},
		{name: "profile", v: d.text(&nd.Profile), enum: profileNames,
			doc: "Target system; default the cluster's profile."},
		{name: "mac", v: d.mac(&nd.MAC),
			doc: "Selects the machine (matchbox) and its NIC (static network)."},
		{name: "gateway", v: d.addr(&nd.Gateway),
			doc: "This node's gateway, in place of network.gateway (a cluster over several subnets)."},
		{name: "snippets", v: d.snippetSettings(&nd.Snippets),
			doc: "Fragment files merged into this node only, after the cluster's."},
		{name: "sans", v: d.strList(&nd.SANs), unique: true,
			doc: "Extra DNS names or IP addresses on this node's certificate."},
	}
}

// snippetSettings describes the snippet lists of snippets.go, whose keys
// are the formats a fragment is written in and all read a list of files.
func (d *decoder) snippetSettings(s *Snippets) value {
	var keys []setting
	for _, f := range d.snippets(s) {
		keys = append(keys, setting{name: f.key,
			v:   value{decode: f.decode, json: "array", items: &value{json: "string"}},
			doc: f.key + " fragment files, relative to the description, merged in order."})
	}
	v := d.object(keys, nil)
	v.ref = "snippets"
	return v
}

// nodes decodes each item into one Node variable, appended and reset
// after each, so a 10,000-node description builds the item table once.
func (d *decoder) nodes(dst *[]Node) value {
	var node Node
	item := d.object(d.nodeSettings(&node), nil)
	return value{json: "array", items: &item, dst: dst, decode: func(n *yaml.Node, path string) {
		d.list(n, path, func(e *yaml.Node, sub string) {
			node = Node{}
			if d.mapping(e, sub, item.fields) {
				*dst = append(*dst, node)
			} else if !d.abort && isNull(e) {
				d.errorf(e, sub, ErrRequired, "empty node; give at least name, ip and roles")
			}
		})
	}}
}

// settingPaths lists every key path of the tables in table order, as the
// starter and the README name them: "etcd.client_port", "nodes[].name".
// A shared table (snippets) is spelled out where it first appears; later
// keys that use it are listed as themselves ("nodes[].snippets").
func settingPaths() []pathSetting {
	var out []pathSetting
	seen := map[string]bool{}
	var walk func(prefix string, settings []setting)
	walk = func(prefix string, settings []setting) {
		for _, s := range settings {
			p := prefix + s.name
			out = append(out, pathSetting{p, s})
			v := s.v
			if v.json == "array" && v.items != nil && v.items.json == "object" {
				p += "[]"
				v = *v.items
			}
			if v.json != "object" || (v.ref != "" && seen[v.ref]) {
				continue
			}
			seen[v.ref] = v.ref != ""
			walk(p+".", v.fields)
		}
	}
	walk("", (&decoder{}).clusterSettings(new(Cluster)))
	return out
}

type pathSetting struct {
	path string
	setting
}

// leaf reports whether the setting holds no table the paths spell out.
func (p pathSetting) leaf(paths []pathSetting) bool {
	for _, q := range paths {
		if strings.HasPrefix(q.path, p.path+".") || strings.HasPrefix(q.path, p.path+"[].") {
			return false
		}
	}
	return true
}

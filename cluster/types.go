// Package cluster is the cluster description: its types, YAML decoding
// (every value keeps its line and column), defaults and validation.
package cluster

import (
	"net/netip"
	"time"

	"github.com/swarmboot/swarmboot/profiles"
)

// The roles a node can carry.
const (
	RoleEtcd    = "etcd"    // an etcd member
	RoleDocker  = "docker"  // a Docker engine on TCP, joined to the swarm
	RoleManager = "manager" // runs the classic Swarm manager
)

// Roles lists the known roles.
var Roles = []string{RoleEtcd, RoleDocker, RoleManager}

// Discovery modes of the etcd cluster.
const (
	DiscoveryStatic = "static" // ETCD_INITIAL_CLUSTER lists every member
	DiscoveryURL    = "url"    // a discovery service URL (ETCD_DISCOVERY)
	DiscoverySRV    = "srv"    // DNS SRV records (ETCD_DISCOVERY_SRV)
)

// Engine bind modes.
const (
	BindNode = "node"    // the node's own IP
	BindAll  = "0.0.0.0" // every IPv4 address
	BindAll6 = "::"      // every address
)

// Ways to open the engine's TCP port.
const (
	ActivationDropin = "drop-in" // a docker.service drop-in adds -H tcp://
	ActivationSocket = "socket"  // a docker-tcp.socket unit (socket-activated docker)
)

// Defaults for what a description may leave out.
const (
	DefaultProfile    = "ubuntu"
	DefaultClientPort = 2379
	DefaultPeerPort   = 2380
	DefaultDockerPort = 2375 // plain TCP, the seed's form (docker.tls: false)
	// DefaultDockerTLSPort is the engine's port with TLS, as the seed says:
	// "2376 if using TLS".
	DefaultDockerTLSPort = 2376
	DefaultPKIDir        = "pki"
	DefaultCertValidity  = 365 * 24 * time.Hour
	DefaultRenewBefore   = 30 * 24 * time.Hour
	DefaultSwarmImage    = "swarm:1.2.9"
	// DefaultEtcdImage runs etcd where the system runs it from an image
	// (Flatcar, Fedora CoreOS): a v3.5 release, the last with the v2 API
	// that classic swarm's discovery speaks.
	DefaultEtcdImage   = "quay.io/coreos/etcd:v3.5.17"
	DefaultSwarmPath   = "/swarm"
	DefaultManagerPort = 8333
)

// Cluster is one validated description. Load fills in defaults, so every
// field below holds the value to render.
type Cluster struct {
	File    string // the file it came from, for messages
	Version int
	Name    string
	Profile string
	// InstallPackages: cloud-config installs etcd and Docker packages at boot.
	InstallPackages   bool
	SSHAuthorizedKeys []string
	Network           *Network // nil: addressing is left to DHCP / the cloud
	Etcd              Etcd
	Docker            Docker
	Swarm             Swarm
	TLS               TLS
	Nodes             []Node
	Snippets          Snippets // merged into every node of their format

	pos      map[string]Pos  // where each value stood, by path
	failed   map[string]bool // paths whose value did not decode
	rejected map[string]bool // paths whose value broke its key's own rules
}

// Network is static addressing shared by every node.
type Network struct {
	Prefix  int
	Gateway netip.Addr // invalid when not given
	DNS     []netip.Addr
	// Interface names the NIC to address, exactly. Empty: a node's mac
	// selects its NIC, else the NIC names of its profile do (en*, eth*).
	Interface string
}

// Etcd is the etcd cluster's bootstrap.
type Etcd struct {
	Discovery  string
	Token      string // initial cluster token (static, srv)
	URL        string // discovery URL (url)
	SRV        string // discovery domain (srv)
	ClientPort int
	PeerPort   int
	DataDir    string // empty: the profile's per-member default
	Image      string // etcd's image where a profile runs etcd from one
	// TLS: client and peer TLS with client certificates; every etcd URL,
	// and swarm's discovery, speaks https.
	TLS bool
}

// ImageRepoTag splits Image into repository and tag ("" when none).
func (e *Etcd) ImageRepoTag() (repo, tag string) { return splitImage(e.Image) }

// Docker is how every Docker host exposes its engine.
type Docker struct {
	Port       int
	Bind       string
	Activation string
	// TLS: the engine API and the swarm manager's API take only clients
	// with a certificate from the cluster CA (--tlsverify).
	TLS bool
}

// TLS is the cluster's PKI: where swarmboot keeps it and how it issues.
type TLS struct {
	Dir         string // the PKI directory, relative to the description
	Validity    time.Duration
	RenewBefore time.Duration
	SANs        []string // extra names or addresses on every node certificate
}

// Swarm is the classic Swarm join agents and manager.
type Swarm struct {
	Image        string
	ImageArchive string        // on the node; loaded when the image is missing
	Path         string        // key prefix in etcd
	Heartbeat    time.Duration // 0: swarm's own default
	TTL          time.Duration // 0: swarm's own default
	Manager      Manager
}

// Manager is the swarm manager's endpoint.
type Manager struct {
	Port int
}

// Node is one machine.
type Node struct {
	Name    string
	IP      netip.Addr
	Roles   []string
	Profile string // resolved: the node's own or the cluster's
	// System is the profile Profile names, set by Load (nil when the name
	// is unknown, which Load reports as an error).
	System *profiles.Profile
	// MAC, optional, identifies the machine: PXE (matchbox) selects it by
	// MAC, and static network config matches the NIC by it, not by name.
	MAC string // canonical lower-case aa:bb:cc:dd:ee:ff
	// Gateway, when set, replaces network.gateway for this node: a
	// cluster spread over subnets has a gateway in each.
	Gateway netip.Addr
	// Snippets are merged after the cluster's, into this node only.
	Snippets Snippets
	// SANs are extra names or addresses on this node's certificate.
	SANs []string
}

// GatewayIn returns the node's gateway under static addressing nw (its
// own, else the cluster's; invalid when none).
func (n *Node) GatewayIn(nw *Network) netip.Addr {
	if n.Gateway.IsValid() || nw == nil {
		return n.Gateway
	}
	return nw.Gateway
}

// Has reports whether the node carries the role.
func (n *Node) Has(role string) bool {
	for _, r := range n.Roles {
		if r == role {
			return true
		}
	}
	return false
}

// UsesTLS reports whether any part of the cluster uses TLS, so nodes
// need certificates.
func (c *Cluster) UsesTLS() bool { return c.Docker.TLS || c.Etcd.TLS }

// Members returns the etcd members, in description order.
func (c *Cluster) Members() []*Node { return c.withRole(RoleEtcd) }

// DockerHosts returns the nodes whose engine joins the swarm.
func (c *Cluster) DockerHosts() []*Node { return c.withRole(RoleDocker) }

// Managers returns the nodes that run a swarm manager: one, or several
// that elect a primary through etcd (swarm manage --replication).
func (c *Cluster) Managers() []*Node { return c.withRole(RoleManager) }

// Manager returns the first manager node, or nil.
func (c *Cluster) Manager() *Node {
	if m := c.withRole(RoleManager); len(m) > 0 {
		return m[0]
	}
	return nil
}

func (c *Cluster) withRole(role string) []*Node {
	var out []*Node
	for i := range c.Nodes {
		if c.Nodes[i].Has(role) {
			out = append(out, &c.Nodes[i])
		}
	}
	return out
}

// Pos returns where the value at path stood in the description (the
// nearest enclosing value that was written, if that one was defaulted).
func (c *Cluster) Pos(path string) Pos {
	for {
		if p, ok := c.pos[path]; ok {
			return p
		}
		i := lastSep(path)
		if i <= 0 {
			return c.pos["$"]
		}
		path = path[:i]
	}
}

func lastSep(path string) int {
	for i := len(path) - 1; i > 0; i-- {
		if path[i] == '.' || path[i] == '[' {
			return i
		}
	}
	return -1
}

package cluster

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/swarmboot/swarmboot/profiles"
)

// validator reports findings at the position of the value they concern.
type validator struct {
	c   *Cluster
	rep *Report
}

func (v validator) errorf(path string, kind error, format string, args ...any) {
	if !v.c.decodeFailed(path) {
		v.rep.add(Error, path, v.c.Pos(path), kind, format, args...)
	}
}

func (v validator) warnf(path string, kind error, format string, args ...any) {
	if !v.c.decodeFailed(path) {
		v.rep.add(Warning, path, v.c.Pos(path), kind, format, args...)
	}
}

// decodeFailed reports whether path or a value inside it failed to decode
// (already reported, so rules about it would only repeat the problem).
func (c *Cluster) decodeFailed(path string) bool {
	if path == "$" {
		return c.failed[path] // whole-file rules still speak
	}
	for p := range c.failed {
		if p == path || strings.HasPrefix(p, path+".") || strings.HasPrefix(p, path+"[") {
			return true
		}
	}
	return false
}

// validate checks every rule that needs the whole, defaulted description.
func (c *Cluster) validate(rep *Report) {
	v := validator{c, rep}
	c.validateHeader(v)
	if c.Network != nil {
		c.Network.validate(v)
	}
	c.Etcd.validate(v)
	c.Docker.validate(v)
	c.Swarm.validate(v)
	c.validateTLS(v)
	c.validateNodes(v)
	c.validateTopology(v)
}

// hostnameLabel is an RFC 1123 label in lower case: it names files,
// directories, etcd members and hosts, so it has to be all of those.
var hostnameLabel = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

func (c *Cluster) validateHeader(v validator) {
	switch {
	case !c.given("$.version"):
		v.errorf("$", ErrRequired, "the description has no version; add `version: 1` at the top")
	case c.Version != 1:
		v.errorf("$.version", ErrVersion, "version %d is not supported; this swarmboot reads version 1", c.Version)
	}
	switch {
	case c.Name == "":
		v.errorf("$", ErrRequired, "the cluster has no name; add e.g. `cluster: demo` (it prefixes tokens and instance IDs)")
	case !hostnameLabel.MatchString(c.Name):
		v.errorf("$.cluster", ErrInvalidValue, "cluster name %q must be lower-case letters, digits and '-', at most 63, not starting or ending with '-'", c.Name)
	}
	if _, ok := profiles.Lookup(c.Profile); !ok {
		v.errorf("$.profile", ErrUnknownValue, "unknown profile %q%s", c.Profile, suggest(c.Profile, profiles.Names()))
	}
	for i, k := range c.SSHAuthorizedKeys {
		p := fmt.Sprintf("$.ssh_authorized_keys[%d]", i)
		if err := checkSSHKey(k); err != nil {
			v.errorf(p, ErrInvalidValue, "not an SSH public key (%v); paste one line of ~/.ssh/id_*.pub whole, e.g. \"ssh-ed25519 AAAA... you@host\"", err)
		}
	}
}

func validKeyType(t string) bool {
	for _, prefix := range []string{"ssh-", "ecdsa-sha2-", "sk-ssh-", "sk-ecdsa-"} {
		if strings.HasPrefix(t, prefix) {
			return true
		}
	}
	return false
}

// checkSSHKey checks a public key line as sshd would read it: a key type,
// base64 of the key in SSH's wire format whose first string repeats the
// type, and for ed25519 exactly a 32-byte key. A truncated paste or a
// placeholder fails here rather than locking the operator out.
func checkSSHKey(line string) error {
	f := strings.Fields(line)
	switch {
	case strings.ContainsAny(line, "\n\r"):
		return fmt.Errorf("more than one line")
	case len(f) < 2 || !validKeyType(f[0]):
		return fmt.Errorf("no key type such as ssh-ed25519 first")
	}
	blob, err := base64.StdEncoding.DecodeString(f[1])
	if err != nil {
		return fmt.Errorf("its key is not base64")
	}
	keyType, rest, ok := sshString(blob)
	switch {
	case !ok || string(keyType) != f[0]:
		return fmt.Errorf("its key is not a %s key", f[0])
	case f[0] == "ssh-ed25519":
		if key, rest, ok := sshString(rest); !ok || len(key) != 32 || len(rest) != 0 {
			return fmt.Errorf("its ed25519 key is not 32 bytes")
		}
	case len(rest) == 0:
		return fmt.Errorf("its key has no key material")
	}
	return nil
}

// sshString reads one length-prefixed string of SSH's wire format.
func sshString(b []byte) (s, rest []byte, ok bool) {
	if len(b) < 4 {
		return nil, nil, false
	}
	n := binary.BigEndian.Uint32(b)
	if uint64(n) > uint64(len(b)-4) {
		return nil, nil, false
	}
	return b[4 : 4+n], b[4+n:], true
}

// ifaceName is a Linux interface name as networkd, NetworkManager and
// cloud-init take it: 1-15 characters, no '/', ':' (alias syntax, not a
// device) or white space, and not "." or "..".
var ifaceName = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}$`)

func (n *Network) validate(v validator) {
	if !v.c.given("$.network.prefix") {
		v.errorf("$.network", ErrRequired, "static network needs a prefix length, e.g. `prefix: 24`; or remove `network:` to leave addressing to DHCP")
	} else if n.Prefix < 1 || n.Prefix > 128 {
		v.errorf("$.network.prefix", ErrOutOfRange, "prefix %d is out of range; use 1-32 for IPv4 or 1-128 for IPv6", n.Prefix)
	}
	if v.c.given("$.network.interface") && !ifaceName.MatchString(n.Interface) {
		v.errorf("$.network.interface", ErrInvalidValue, "%q is not an interface name: 1-15 letters, digits, '-', '_' and '.', starting with a letter, digit or '_' (e.g. eth0, ens3, bond0.100)", n.Interface)
	}
}

var discoveryModes = []string{DiscoveryStatic, DiscoveryURL, DiscoverySRV}

func (e *Etcd) validate(v validator) {
	switch e.Discovery {
	case DiscoveryStatic:
		for _, k := range []string{"url", "srv"} {
			if v.c.given("$.etcd." + k) {
				v.errorf("$.etcd."+k, ErrNotApplicable, "%s is only read with `discovery: %s`; remove it or change discovery", k, k)
			}
		}
	case DiscoveryURL:
		u, err := url.Parse(e.URL)
		switch {
		case e.URL == "":
			v.errorf("$.etcd", ErrRequired, "`discovery: url` needs `url:`, the discovery service URL (e.g. https://discovery.etcd.io/TOKEN)")
		case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
			v.errorf("$.etcd.url", ErrInvalidValue, "%q is not an http(s) URL", e.URL)
		case !envSafe(e.URL):
			v.errorf("$.etcd.url", ErrInvalidValue, "the URL has characters an environment file cannot carry as they are (white space, quotes, '\\', '$' or control characters); percent-encode them (a space is %%20)")
		}
	case DiscoverySRV:
		if e.SRV == "" {
			v.errorf("$.etcd", ErrRequired, "`discovery: srv` needs `srv:`, the domain holding the _etcd-server._tcp SRV records")
		} else if !validDomain(e.SRV) {
			v.errorf("$.etcd.srv", ErrInvalidValue, "%q is not a DNS domain name", e.SRV)
		}
	default:
		v.errorf("$.etcd.discovery", ErrUnknownValue, "unknown discovery %q%s", e.Discovery, suggest(e.Discovery, discoveryModes))
	}
	if e.Discovery == DiscoveryURL && v.c.given("$.etcd.token") {
		v.errorf("$.etcd.token", ErrNotApplicable, "token is not read with `discovery: url`: the discovery service names the cluster; remove it")
	}
	if e.Token != "" && (!envSafe(e.Token) || len(e.Token) > 128) {
		v.errorf("$.etcd.token", ErrInvalidValue, "the token must be 1-128 printable ASCII characters without spaces, quotes, '\\' or '$' (it lands in environment files and unit lines as it is)")
	}
	validPort(v, "$.etcd.client_port", e.ClientPort)
	validPort(v, "$.etcd.peer_port", e.PeerPort)
	if e.DataDir != "" {
		validAbsPath(v, "$.etcd.data_dir", e.DataDir)
		if systemDir(e.DataDir) {
			v.errorf("$.etcd.data_dir", ErrInvalidValue, "%q is a directory of the system itself (or a memory file system); etcd needs a directory of its own, e.g. /var/lib/etcd/<cluster>", e.DataDir)
		}
	}
	e.validateImage(v)
}

// etcdTag is the version in an etcd image tag: v3.5.17, 3.5.17, v3.5.17-arm64.
var etcdTag = regexp.MustCompile(`^v?(\d+)\.(\d+)(\.\d+)?([-+._a-zA-Z0-9]*)$`)

// validateImage: the image must say which etcd it runs, and that etcd must
// still serve the v2 API classic swarm's discovery uses.
func (e *Etcd) validateImage(v validator) {
	const p = "$.etcd.image"
	repo, tag := e.ImageRepoTag()
	switch {
	case !imageRef.MatchString(e.Image) || strings.Contains(e.Image, "@"):
		v.errorf(p, ErrInvalidValue, "%q is not an image reference with a tag such as %s", e.Image, DefaultEtcdImage)
		return
	case tag == "" || tag == "latest":
		v.errorf(p, ErrInvalidValue, "%q does not pin a version, and etcd's newest releases (3.6+) have no v2 API, which classic swarm's discovery needs; give a v3.5 tag such as %s:v3.5.17", e.Image, repo)
		return
	}
	m := etcdTag.FindStringSubmatch(tag)
	if m == nil {
		v.errorf(p, ErrInvalidValue, "tag %q of %s is not an etcd version; give a v3.5 tag such as v3.5.17", tag, repo)
		return
	}
	major, _ := strconv.Atoi(m[1])
	minor, _ := strconv.Atoi(m[2])
	if major != 3 || minor > 5 || minor < 3 {
		v.errorf(p, ErrInvalidValue, "etcd %s.%s cannot serve classic swarm: swarm's discovery speaks etcd's v2 API, which etcd 3.6 removed (and releases before 3.3 lack the settings swarmboot writes); use a v3.5 tag such as %s:v3.5.17", m[1], m[2], repo)
	}
	if !v.c.given(p) {
		return
	}
	for _, n := range v.c.Members() {
		if n.System != nil && n.System.Etcd.FromImage {
			return
		}
	}
	v.errorf(p, ErrNotApplicable, "no etcd member runs etcd from an image (only flatcar and fcos do); distribution packages bring their own etcd: remove `image:`")
}

// ImageRepoTag splits Image into repository and tag ("" when none).
func (e *Etcd) ImageRepoTag() (repo, tag string) {
	slash := strings.LastIndex(e.Image, "/")
	if i := strings.LastIndex(e.Image, ":"); i > slash {
		return e.Image[:i], e.Image[i+1:]
	}
	return e.Image, ""
}

// validDomain: dot-separated host name labels whose last one is not all
// digits (so an IP address is not taken for a domain).
// envSafe: printable ASCII without white space, quotes, '\\' or '$', so
// the value reads back unchanged from an environment file (systemd's
// EnvironmentFile= and podman's --env-file alike). Unit lines escape the
// rest ('%%') where the value lands (templates.UnitQuote).
func envSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c > '~' || strings.IndexByte("\"'\\$`", c) >= 0 {
			return false
		}
	}
	return s != ""
}

func validDomain(s string) bool {
	s = strings.TrimSuffix(s, ".")
	if s == "" || len(s) > 253 {
		return false
	}
	labels := strings.Split(s, ".")
	for _, l := range labels {
		if !hostnameLabel.MatchString(strings.ToLower(l)) {
			return false
		}
	}
	return strings.Trim(labels[len(labels)-1], "0123456789") != ""
}

func validPort(v validator, path string, port int) {
	if port < 1 || port > 65535 {
		v.errorf(path, ErrOutOfRange, "port %d is out of range; use 1-65535", port)
	}
}

// safePath: absolute, clean, and free of characters that would need
// quoting in a unit file or shell line.
var safePath = regexp.MustCompile(`^/[A-Za-z0-9._+@/-]*$`)

func validAbsPath(v validator, p, value string) {
	if !safePath.MatchString(value) || path.Clean(value) != value {
		v.errorf(p, ErrInvalidValue, "%q must be a clean absolute path of letters, digits and ._+@/-", value)
	}
}

// systemDir: the root, a top-level system directory, or anything below
// the kernel's and the runtime's own file systems.
func systemDir(p string) bool {
	switch p {
	case "/", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib64", "/media", "/mnt", "/opt",
		"/proc", "/root", "/run", "/sbin", "/srv", "/sys", "/tmp", "/usr", "/var", "/var/lib", "/var/run", "/var/tmp":
		return true
	}
	for _, prefix := range []string{"/proc/", "/sys/", "/dev/", "/run/", "/tmp/", "/usr/", "/boot/", "/etc/"} {
		if strings.HasPrefix(p, prefix) {
			return true
		}
	}
	return false
}

var bindModes = []string{BindNode, BindAll, BindAll6}
var activations = []string{ActivationDropin, ActivationSocket}

func (k *Docker) validate(v validator) {
	validPort(v, "$.docker.port", k.Port)
	if !slices.Contains(bindModes, k.Bind) {
		v.errorf("$.docker.bind", ErrUnknownValue, "unknown bind %q%s", k.Bind, suggest(k.Bind, bindModes))
		return
	}
	if !slices.Contains(activations, k.Activation) {
		v.errorf("$.docker.activation", ErrUnknownValue, "unknown activation %q%s", k.Activation, suggest(k.Activation, activations))
	}
	if addr, err := netip.ParseAddr(k.Bind); err == nil && !k.TLS {
		v.warnf("$.docker.bind", WarnInsecureBind,
			"the engine listens on %s without TLS: anyone who reaches any address of the host controls it; prefer `bind: node` and a firewall",
			netip.AddrPortFrom(addr, uint16(k.Port)))
	}
}

// pkiDir is a PKI directory: relative to the description, or absolute.
var pkiDir = regexp.MustCompile(`^[A-Za-z0-9._+@/-]+$`)

// validateTLS checks the PKI settings and warns about every plain part:
// the seed's form is allowed, but never silently.
func (c *Cluster) validateTLS(v validator) {
	if !c.Docker.TLS {
		v.warnf("$.docker.tls", WarnPlain,
			"the Docker API on port %d and the swarm manager on %d take any client, without TLS: whoever reaches them has root on every node; remove `tls: false` for mutual TLS",
			c.Docker.Port, c.Swarm.Manager.Port)
	}
	if !c.Etcd.TLS {
		v.warnf("$.etcd.tls", WarnPlain,
			"etcd takes any client and peer over plain HTTP: whoever reaches port %d can rewrite the swarm's discovery; remove `tls: false` for TLS with client certificates",
			c.Etcd.ClientPort)
	}
	t := c.TLS
	// A description names a folder beside itself; one from someone else
	// must not make swarmboot write keys anywhere else (--pki can).
	if !pkiDir.MatchString(t.Dir) || strings.HasPrefix(t.Dir, "/") || slices.Contains(strings.Split(t.Dir, "/"), "..") {
		v.errorf("$.tls.dir", ErrInvalidValue, "%q: give a folder beside the description (letters, digits and ._+@/-, no leading / and no ..); put the PKI elsewhere with --pki DIR", t.Dir)
	}
	if t.RenewBefore >= t.Validity {
		v.errorf("$.tls.renew_before", ErrInvalidValue, "renew_before (%s) must be shorter than validity (%s), or every certificate is due for renewal when it is issued", t.RenewBefore, t.Validity)
	}
	if t.Validity > MaxCertValidity {
		v.errorf("$.tls.validity", ErrOutOfRange, "%s is longer than the CA's 10 years; give at most 87600h", t.Validity)
	}
	validSANs(v, "$.tls.sans", t.SANs)
	c.validateCertBounds(v)
}

// validSANs checks extra certificate names: IP addresses or DNS names
// (a leading "*." allowed), which is all an X.509 SAN of ours holds.
func validSANs(v validator, path string, sans []string) {
	for i, s := range sans {
		p := fmt.Sprintf("%s[%d]", path, i)
		if ip, err := netip.ParseAddr(s); err == nil {
			if ip.Zone() != "" || ip.Is4In6() {
				v.errorf(p, ErrInvalidValue, "%q: a certificate names plain addresses; write it without the zone or the ::ffff: prefix", s)
			}
			continue
		}
		if !dnsName.MatchString(strings.TrimPrefix(s, "*.")) || len(s) > 253 {
			v.errorf(p, ErrInvalidValue, "%q is neither an IP address nor a DNS name (letters, digits, '-' and dots, e.g. swarm.example.com)", s)
		}
	}
}

// dnsName is a host name of RFC 1123 labels, any case.
var dnsName = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$`)

// imageRef is a loose Docker image reference: [registry/]name[:tag][@digest].
var imageRef = regexp.MustCompile(`^[a-z0-9]+([._/:-][a-zA-Z0-9]+)*(@sha256:[a-f0-9]{64})?$`)
var etcdPath = regexp.MustCompile(`^(/[A-Za-z0-9._-]+)+$`)

func (s *Swarm) validate(v validator) {
	if !imageRef.MatchString(s.Image) {
		v.errorf("$.swarm.image", ErrInvalidValue, "%q is not a Docker image reference such as swarm:1.2.9", s.Image)
	}
	if s.ImageArchive != "" {
		validAbsPath(v, "$.swarm.image_archive", s.ImageArchive)
	}
	if !etcdPath.MatchString(s.Path) {
		v.errorf("$.swarm.path", ErrInvalidValue, "%q is not an etcd key path such as /swarm (start with '/', no trailing '/')", s.Path)
	}
	if s.Heartbeat > 0 && s.TTL > 0 && s.TTL <= s.Heartbeat {
		v.errorf("$.swarm.ttl", ErrInvalidValue, "ttl (%s) must be longer than heartbeat (%s), or nodes drop out between heartbeats", s.TTL, s.Heartbeat)
	}
	validPort(v, "$.swarm.manager.port", s.Manager.Port)
}

func (c *Cluster) validateNodes(v validator) {
	if len(c.Nodes) == 0 {
		v.errorf("$", ErrRequired, "the cluster has no nodes; add a `nodes:` list")
		return
	}
	macs := make(map[string]int, len(c.Nodes))
	names := make(map[string]int, len(c.Nodes))
	ips := make(map[netip.Addr]int, len(c.Nodes))
	for i := range c.Nodes {
		n := &c.Nodes[i]
		p := fmt.Sprintf("$.nodes[%d]", i)
		switch {
		case n.Name == "":
			v.errorf(p, ErrRequired, "node has no name; add `name:` (a hostname such as docker-01)")
		case !hostnameLabel.MatchString(n.Name):
			v.errorf(p+".name", ErrInvalidValue, "%q is not a valid host name: use lower-case letters, digits and '-' (at most 63, not starting or ending with '-')", n.Name)
		default:
			if j, dup := names[n.Name]; dup {
				v.errorf(p+".name", ErrDuplicate, "node name %q is already used by $.nodes[%d]; names must be unique", n.Name, j)
			} else {
				names[n.Name] = i
			}
		}
		switch {
		case !n.IP.IsValid():
			if !c.given(p + ".ip") {
				v.errorf(p, ErrRequired, "node has no ip; add `ip:` (its address on the cluster network)")
			}
		case !hostAddr(n.IP) && !n.IP.IsLinkLocalUnicast():
			v.errorf(p+".ip", ErrInvalidValue, "%s cannot be a node address (unspecified, loopback, multicast or broadcast); use the address other nodes reach it on", n.IP)
		case n.IP.IsLinkLocalUnicast():
			v.errorf(p+".ip", ErrInvalidValue, "%s is link-local: it needs a zone (an interface) on every peer and cannot be routed; use a global or private (fd00::/8, 10/8, ...) address", n.IP)
		default:
			if j, dup := ips[n.IP]; dup {
				v.errorf(p+".ip", ErrDuplicate, "address %s is already used by $.nodes[%d]; every node needs its own", n.IP, j)
			} else {
				ips[n.IP] = i
			}
		}
		if n.MAC != "" {
			if hw, err := net.ParseMAC(n.MAC); err == nil && hw[0]&1 == 1 {
				v.errorf(p+".mac", ErrInvalidValue, "%s is a multicast or broadcast MAC (the first octet is odd); a NIC has a unicast MAC such as 52:54:00:12:34:56", n.MAC)
			} else if j, dup := macs[n.MAC]; dup {
				v.errorf(p+".mac", ErrDuplicate, "MAC %s is already used by $.nodes[%d]", n.MAC, j)
			} else {
				macs[n.MAC] = i
			}
		}
		c.validateRoles(v, p, n)
		if n.Profile != c.Profile {
			if n.System == nil {
				v.errorf(p+".profile", ErrUnknownValue, "unknown profile %q%s", n.Profile, suggest(n.Profile, profiles.Names()))
			}
		}
		if n.Gateway.IsValid() && c.Network == nil {
			v.errorf(p+".gateway", ErrNotApplicable, "a node's gateway belongs to static addressing; add `network:` with the prefix, or remove it to leave routes to DHCP")
		}
		c.validateNodeNetwork(v, p, n)
		validSANs(v, p+".sans", n.SANs)
		if len(n.SANs) > 0 && !c.UsesTLS() {
			v.errorf(p+".sans", ErrNotApplicable, "certificate names apply with TLS, which this cluster turns off; remove `sans:`")
		}
		c.validateNodeProfile(v, p, n)
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
		path := fmt.Sprintf("$.nodes[%d].profile", i)
		if !c.given(path) {
			path = "$.profile"
		}
		if reported[path] {
			continue
		}
		reported[path] = true
		v.errorf(path, ErrNotApplicable,
			"profile %s covers releases whose packages differ (%s); name the release: %s, or set `install_packages: false` for images that have the packages",
			prof.Name, prof.WhyReleases, strings.Join(prof.ReleaseNames(), ", "))
	}
}

func (c *Cluster) validateRoles(v validator, p string, n *Node) {
	if len(n.Roles) == 0 {
		v.errorf(p, ErrRequired, "node has no roles; add `roles:` with any of %s", strings.Join(Roles, ", "))
		return
	}
	seen := map[string]bool{}
	for j, r := range n.Roles {
		rp := fmt.Sprintf("%s.roles[%d]", p, j)
		switch {
		case !slices.Contains(Roles, r):
			v.errorf(rp, ErrUnknownValue, "unknown role %q%s", r, suggest(r, Roles))
		case seen[r]:
			v.errorf(rp, ErrDuplicate, "role %q is listed twice", r)
		}
		seen[r] = true
	}
}

// hostAddr: an address a node can have and others reach.
func hostAddr(ip netip.Addr) bool {
	return !ip.IsUnspecified() && !ip.IsLoopback() && !ip.IsMulticast() && !ip.IsLinkLocalUnicast() &&
		ip != netip.AddrFrom4([4]byte{255, 255, 255, 255})
}

func (c *Cluster) validateNodeNetwork(v validator, p string, n *Node) {
	nw := c.Network
	if nw == nil || !n.IP.IsValid() || !hostAddr(n.IP) || nw.Prefix < 1 {
		return
	}
	if n.IP.Is4() && nw.Prefix > 32 {
		v.errorf("$.network.prefix", ErrOutOfRange, "prefix %d is too long for the IPv4 address of %s; use 1-32", nw.Prefix, n.Name)
		return
	}
	if pfx, err := n.IP.Prefix(nw.Prefix); err == nil && n.IP.Is4() && nw.Prefix <= 30 {
		if n.IP == pfx.Addr() || n.IP == lastAddr(pfx) {
			v.errorf(p+".ip", ErrInvalidValue, "%s is the network or broadcast address of %s, not a host's; pick an address inside it", n.IP, pfx)
		}
	}
	gw, gwPath := nw.Gateway, "$.network.gateway"
	if n.Gateway.IsValid() {
		gw, gwPath = n.Gateway, p+".gateway"
	}
	if !gw.IsValid() {
		return
	}
	if gw == n.IP {
		v.errorf(p+".ip", ErrInvalidValue, "%s is the gateway's address (%s); a node cannot route through itself", n.IP, gwPath)
	}
	if gw.Is4() != n.IP.Is4() {
		v.errorf(gwPath, ErrInvalidValue, "gateway %s and %s's address %s are of different IP families", gw, n.Name, n.IP)
	} else if pfx, err := n.IP.Prefix(nw.Prefix); err == nil && !pfx.Contains(gw) {
		v.warnf(gwPath, WarnGateway, "gateway %s is outside %s's subnet %s; it will not be reachable as a next hop (a node in another subnet can have its own `gateway:`)", gw, n.Name, pfx)
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
func (c *Cluster) validateNodeProfile(v validator, p string, n *Node) {
	prof := n.System
	if prof == nil {
		return
	}
	for _, kind := range profiles.AllFormats() {
		if len(n.Snippets.Of(kind)) > 0 && !prof.Supports(kind) {
			v.errorf(p+".snippets."+string(kind), ErrNotApplicable, "node %s (profile %s) reads %s, so a %s snippet would never be used",
				n.Name, prof.Name, profiles.JoinFormats(prof.Formats), kind)
		}
	}
	if c.Docker.Activation == ActivationSocket && !prof.Docker.SocketActivation && (n.Has(RoleDocker)) {
		v.errorf("$.docker.activation", ErrNotApplicable,
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
		v.errorf("$.nodes", ErrTopology, "no node has the etcd role; swarm discovery needs an etcd cluster: give `etcd` to 1, 3 or 5 nodes")
	case len(members)%2 == 0:
		v.warnf("$.nodes", WarnEvenEtcd, "%d etcd members tolerate no more failures than %d; use an odd number", len(members), len(members)-1)
	}
	if len(members) > 7 {
		v.warnf("$.nodes", WarnManyEtcd, "%d etcd members: every write waits for a majority of them; etcd advises 3, 5 or 7 (give the other nodes only docker)", len(members))
	}
	if len(c.DockerHosts()) == 0 {
		v.errorf("$.nodes", ErrTopology, "no node has the docker role; the swarm needs at least one Docker host")
	}
	// Several managers elect a primary through etcd; any number works.
	if len(c.Managers()) == 0 {
		v.warnf("$.nodes", WarnNoManager, "no node has the manager role; engines will register in etcd but nothing serves the swarm API (add `manager` to one node, or to several for replicas that survive a lost node)")
	}
	for i := range c.Nodes {
		c.validatePorts(v, i)
	}
}

// validatePorts finds two services of one node on one port. The manager
// case is the seed's port conflict: its container publishes the port on
// every address of the host, so it clashes whatever the engine's bind.
func (c *Cluster) validatePorts(v validator, i int) {
	n := &c.Nodes[i]
	type service struct{ name, path string }
	var used = map[int]service{}
	claim := func(port int, s service) {
		prev, taken := used[port]
		if !taken {
			used[port] = s
			return
		}
		if s.name == "the swarm manager" {
			v.errorf(s.path, ErrPortConflict,
				"the manager on %s would publish port %d, which %s already uses on that host. Ways out (as in the seed): "+
					"(1) give the manager another port, e.g. `swarm: {manager: {port: 8333}}`; "+
					"(2) run the engine and the manager on different addresses; "+
					"(3) put the manager role on a node without the docker role, whose engine stays local-only",
				n.Name, port, prev.name)
			return
		}
		v.errorf(s.path, ErrPortConflict, "on %s, %s and %s would both use port %d; give one of them another port", n.Name, prev.name, s.name, port)
	}
	if n.Has(RoleEtcd) {
		claim(c.Etcd.ClientPort, service{"etcd's client API", "$.etcd.client_port"})
		claim(c.Etcd.PeerPort, service{"etcd's peer API", "$.etcd.peer_port"})
	}
	if n.Has(RoleDocker) {
		claim(c.Docker.Port, service{"the Docker engine", "$.docker.port"})
	}
	if n.Has(RoleManager) {
		claim(c.Swarm.Manager.Port, service{"the swarm manager", "$.swarm.manager.port"})
	}
}

// Bounds of the PKI settings, which pki enforces too. A validity of
// minutes serves the renewal boot test; seconds would expire before a node
// boots. MaxSANs keeps every certificate far under what TLS stacks accept
// in one handshake (Go 256 KiB, OpenSSL 100 KiB by default).
const (
	MinCertValidity = 5 * time.Minute
	MaxCertValidity = 87600 * time.Hour // the CA's own 10 years
	MaxSANs         = 100               // tls.sans and a node's sans together
)

// validateCertBounds checks tls.validity and the names on each certificate.
func (c *Cluster) validateCertBounds(v validator) {
	if c.TLS.Validity < MinCertValidity {
		v.errorf("$.tls.validity", ErrOutOfRange, "%s is too short: a certificate would expire before its node has booted; give at least 5m", c.TLS.Validity)
	}
	if n := len(c.TLS.SANs); n > MaxSANs {
		v.errorf("$.tls.sans", ErrOutOfRange, "%d names: a certificate holds at most %d extra names (tls.sans and a node's sans together), which keeps it far under what TLS peers accept", n, MaxSANs)
		return
	}
	for i, n := range c.Nodes {
		if total := len(c.TLS.SANs) + len(n.SANs); total > MaxSANs {
			v.errorf(fmt.Sprintf("$.nodes[%d].sans", i), ErrOutOfRange, "%s's certificate would hold %d extra names (%d from tls.sans); at most %d, which keeps it far under what TLS peers accept", n.Name, total, len(c.TLS.SANs), MaxSANs)
		}
	}
}

package cluster

import (
	"fmt"
	"net"
	"net/netip"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The rules of single keys, which the rows of settings.go name. Each needs
// only its key's value; rules comparing keys are in validate.go.

// Closed sets of values.
var (
	versions       = []int{1} // description formats this swarmboot reads
	discoveryModes = []string{DiscoveryStatic, DiscoveryURL, DiscoverySRV}
	bindModes      = []string{BindNode, BindAll, BindAll6}
	activations    = []string{ActivationDropin, ActivationSocket}
)

func supportedVersion(v int) *problem {
	if slices.Contains(versions, v) {
		return nil
	}
	return &problem{ErrVersion, fmt.Sprintf("version %d is not supported; this swarmboot reads version %d", v, versions[len(versions)-1])}
}

var (
	portRange   = bounds{1, 65535, "port %d is out of range; use 1-65535"}
	prefixRange = bounds{1, 128, "prefix %d is out of range; use 1-32 for IPv4 or 1-128 for IPv6"} // IPv4 addresses need 1-32, which validation checks per node
)

// hostnameLabel is an RFC 1123 label in lower case: it names files,
// directories, etcd members and hosts, so it has to be all of those.
var hostnameLabel = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

var (
	clusterName = matching(hostnameLabel, "cluster name %q must be lower-case letters, digits and '-', at most 63, not starting or ending with '-'")
	hostName    = matching(hostnameLabel, "%q is not a valid host name: use lower-case letters, digits and '-' (at most 63, not starting or ending with '-')")
)

// ifaceName is a Linux interface name as networkd, NetworkManager and
// cloud-init take it: 1-15 characters, no '/', ':' (alias syntax, not a
// device) or white space, and not "." or "..".
var ifaceName = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}$`)

var interfaceName = matching(ifaceName, "%q is not an interface name: 1-15 letters, digits, '-', '_' and '.', starting with a letter, digit or '_' (e.g. eth0, ens3, bond0.100)")

// safePath: absolute, clean, and free of characters that would need
// quoting in a unit file or shell line.
var safePath = regexp.MustCompile(`^/[A-Za-z0-9._+@/-]*$`)

var absPath = &grammar{pattern: safePath, check: func(s string) *problem {
	if !safePath.MatchString(s) || path.Clean(s) != s {
		return invalid("%q must be a clean absolute path of letters, digits and ._+@/-", s)
	}
	return nil
}}

// notSystemDir: etcd's data directory is its own, not the root, a
// top-level system directory, or anything below the kernel's and the
// runtime's own file systems.
func notSystemDir(dir string) *problem {
	system := slices.Contains([]string{"/", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib64", "/media", "/mnt", "/opt",
		"/proc", "/root", "/run", "/sbin", "/srv", "/sys", "/tmp", "/usr", "/var", "/var/lib", "/var/run", "/var/tmp"}, dir)
	for _, prefix := range []string{"/proc/", "/sys/", "/dev/", "/run/", "/tmp/", "/usr/", "/boot/", "/etc/"} {
		system = system || strings.HasPrefix(dir, prefix)
	}
	if system {
		return invalid("%q is a directory of the system itself (or a memory file system); etcd needs a directory of its own, e.g. /var/lib/etcd/<cluster>", dir)
	}
	return nil
}

// pkiDir is a PKI directory: relative to the description, or absolute.
var pkiDir = regexp.MustCompile(`^[A-Za-z0-9._+@/-]+$`)

// besideDescription: a description names a folder beside itself; one
// from someone else must not make swarmboot write keys anywhere else
// (--pki can).
var besideDescription = &grammar{pattern: pkiDir, check: func(dir string) *problem {
	if !pkiDir.MatchString(dir) || strings.HasPrefix(dir, "/") || slices.Contains(strings.Split(dir, "/"), "..") {
		return invalid("%q: give a folder beside the description (letters, digits and ._+@/-, no leading / and no ..); put the PKI elsewhere with --pki DIR", dir)
	}
	return nil
}}

// imageRef is a loose Docker image reference: [registry/]name[:tag][@digest].
var imageRef = regexp.MustCompile(`^[a-z0-9]+([._/:-][a-zA-Z0-9]+)*(@sha256:[a-f0-9]{64})?$`)

var swarmImage = matching(imageRef, "%q is not a Docker image reference such as swarm:1.2.9")

// etcdTag is the version in an etcd image tag: v3.5.17, 3.5.17, v3.5.17-arm64.
var etcdTag = regexp.MustCompile(`^v?(\d+)\.(\d+)(\.\d+)?([-+._a-zA-Z0-9]*)$`)

// etcdImage: the image must say which etcd it runs, and that etcd must
// still serve the v2 API classic swarm's discovery uses.
var etcdImage = &grammar{pattern: imageRef, check: func(image string) *problem {
	repo, tag := splitImage(image)
	switch {
	case !imageRef.MatchString(image) || strings.Contains(image, "@"):
		return invalid("%q is not an image reference with a tag such as %s", image, DefaultEtcdImage)
	case tag == "" || tag == "latest":
		return invalid("%q does not pin a version, and etcd's newest releases (3.6+) have no v2 API, which classic swarm's discovery needs; give a v3.5 tag such as %s:v3.5.17", image, repo)
	}
	m := etcdTag.FindStringSubmatch(tag)
	if m == nil {
		return invalid("tag %q of %s is not an etcd version; give a v3.5 tag such as v3.5.17", tag, repo)
	}
	major, _ := strconv.Atoi(m[1])
	minor, _ := strconv.Atoi(m[2])
	if major != 3 || minor > 5 || minor < 3 {
		return invalid("etcd %s.%s cannot serve classic swarm: swarm's discovery speaks etcd's v2 API, which etcd 3.6 removed (and releases before 3.3 lack the settings swarmboot writes); use a v3.5 tag such as %s:v3.5.17", m[1], m[2], repo)
	}
	return nil
}}

// splitImage splits an image reference into repository and tag ("" when
// none).
func splitImage(image string) (repo, tag string) {
	slash := strings.LastIndex(image, "/")
	if i := strings.LastIndex(image, ":"); i > slash {
		return image[:i], image[i+1:]
	}
	return image, ""
}

var etcdPath = regexp.MustCompile(`^(/[A-Za-z0-9._-]+)+$`)

var etcdKeyPath = matching(etcdPath, "%q is not an etcd key path such as /swarm (start with '/', no trailing '/')")

// etcdToken lands in environment files and unit lines as it is.
var etcdToken = &grammar{check: func(token string) *problem {
	if !envSafe(token) || len(token) > 128 {
		return invalid("the token must be 1-128 printable ASCII characters without spaces, quotes, '\\' or '$' (it lands in environment files and unit lines as it is)")
	}
	return nil
}}

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

// validDomain: dot-separated host name labels whose last one is not all
// digits (so an IP address is not taken for a domain).
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

// sshKeyLine is the shape of an authorized key line, for the schema;
// Load decodes the key (checkSSHKey).
var sshKeyLine = regexp.MustCompile(`^(ssh-|ecdsa-sha2-|sk-ssh-|sk-ecdsa-)\S+ \S+`)

var sshKey = &grammar{pattern: sshKeyLine, check: func(line string) *problem {
	if err := checkSSHKey(line); err != nil {
		return invalid("not an SSH public key (%v); paste one line of ~/.ssh/id_*.pub whole, e.g. \"ssh-ed25519 AAAA... you@host\"", err)
	}
	return nil
}}

// certName is an extra certificate name: an IP address or a DNS name (a
// leading "*." allowed), which is all an X.509 SAN of ours holds.
var certName = &grammar{check: func(s string) *problem {
	if ip, err := netip.ParseAddr(s); err == nil {
		if ip.Zone() != "" || ip.Is4In6() {
			return invalid("%q: a certificate names plain addresses; write it without the zone or the ::ffff: prefix", s)
		}
		return nil
	}
	if !dnsName.MatchString(strings.TrimPrefix(s, "*.")) || len(s) > 253 {
		return invalid("%q is neither an IP address nor a DNS name (letters, digits, '-' and dots, e.g. swarm.example.com)", s)
	}
	return nil
}}

// dnsName is a host name of RFC 1123 labels, any case.
var dnsName = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$`)

// Bounds of the PKI settings, which pki enforces too. A validity of
// minutes serves the renewal boot test; seconds would expire before a node
// boots. MaxSANs keeps every certificate far under what TLS stacks accept
// in one handshake (Go 256 KiB, OpenSSL 100 KiB by default).
const (
	MinCertValidity = 5 * time.Minute
	MaxCertValidity = 87600 * time.Hour // the CA's own 10 years
	MaxSANs         = 100               // tls.sans and a node's sans together
)

func certValidity(v time.Duration) *problem {
	switch {
	case v > MaxCertValidity:
		return &problem{ErrOutOfRange, fmt.Sprintf("%s is longer than the CA's 10 years; give at most 87600h", v)}
	case v < MinCertValidity:
		return &problem{ErrOutOfRange, fmt.Sprintf("%s is too short: a certificate would expire before its node has booted; give at least 5m", v)}
	}
	return nil
}

// atMostSANs bounds tls.sans alone; each node's total is validate.go's.
func atMostSANs(sans []string) *problem {
	if n := len(sans); n > MaxSANs {
		return &problem{ErrOutOfRange, fmt.Sprintf("%d names: a certificate holds at most %d extra names (tls.sans and a node's sans together), which keeps it far under what TLS peers accept", n, MaxSANs)}
	}
	return nil
}

// nodeAddress: an address a node can have and others reach.
func nodeAddress(ip netip.Addr) *problem {
	switch {
	case !hostAddr(ip) && !ip.IsLinkLocalUnicast():
		return invalid("%s cannot be a node address (unspecified, loopback, multicast or broadcast); use the address other nodes reach it on", ip)
	case ip.IsLinkLocalUnicast():
		return invalid("%s is link-local: it needs a zone (an interface) on every peer and cannot be routed; use a global or private (fd00::/8, 10/8, ...) address", ip)
	}
	return nil
}

// hostAddr: not unspecified, loopback, multicast, link-local or the
// limited broadcast.
func hostAddr(ip netip.Addr) bool {
	return !ip.IsUnspecified() && !ip.IsLoopback() && !ip.IsMulticast() && !ip.IsLinkLocalUnicast() &&
		ip != netip.AddrFrom4([4]byte{255, 255, 255, 255})
}

// unicastMAC: a NIC's own MAC, not a group address.
func unicastMAC(mac string) *problem {
	if hw, err := net.ParseMAC(mac); err == nil && hw[0]&1 == 1 {
		return invalid("%s is a multicast or broadcast MAC (the first octet is odd); a NIC has a unicast MAC such as 52:54:00:12:34:56", mac)
	}
	return nil
}

// Package profiles describes the target systems swarmboot renders for, as
// data: package and unit names, paths, how etcd and Docker run there, and
// which output formats the system's boot agent reads. Everything that differs
// between Ubuntu, Debian, Flatcar, Fedora CoreOS and legacy CoreOS lives
// here, so the renderer stays free of per-distribution branches.
package profiles

import (
	"fmt"
	"slices"
	"sort"
)

// EtcdConfig says how a system's etcd takes its settings.
type EtcdConfig string

const (
	// EtcdEnvFile: a distribution package's unit that takes ETCD_*
	// variables from an environment file of swarmboot's own, which a
	// drop-in names (EnvironmentFile=). Not the package's own file
	// (Debian's /etc/default/etcd): an etcd the package starts before the
	// drop-in is loaded then runs the package's defaults instead of
	// settings that point at files it cannot open yet.
	EtcdEnvFile EtcdConfig = "env-file"
	// EtcdDropin: a unit shipped by the OS that takes ETCD_* variables from
	// a systemd drop-in (Flatcar's etcd-member.service).
	EtcdDropin EtcdConfig = "drop-in"
	// EtcdContainerUnit: the OS ships no etcd; swarmboot adds a unit that
	// runs the etcd image with an environment file (Fedora CoreOS).
	EtcdContainerUnit EtcdConfig = "container-unit"
	// EtcdCoreOSEtcd2: legacy coreos-cloudinit's own coreos.etcd2 section.
	EtcdCoreOSEtcd2 EtcdConfig = "coreos-etcd2"
)

// Etcd describes how etcd runs on a system.
type Etcd struct {
	Config  EtcdConfig
	Unit    string // the systemd unit that runs etcd
	EnvFile string // EtcdEnvFile, EtcdContainerUnit: where the ETCD_* file goes
	// DataDir is the default data directory; "%s" is replaced by the member
	// name. A per-member directory keeps a member from reusing a default
	// cluster that the package may have bootstrapped before user-data ran.
	DataDir string
	// EnableV2 sets ETCD_ENABLE_V2=true: etcd 3.4+ turns the v2 API off by
	// default, and classic Swarm's discovery (libkv) speaks only v2.
	EnableV2 bool
	// FromImage: the system runs etcd from a container image, which the
	// description's etcd.image pins (Flatcar's etcd-member through
	// ETCD_IMAGE_URL/ETCD_IMAGE_TAG, Fedora CoreOS's container unit).
	// Distribution packages cannot be pinned; their releases say what
	// they ship.
	FromImage bool
	Runtime   string // EtcdContainerUnit: the container CLI (podman, docker)
	// TLS says how etcd reads the node's certificate and key.
	TLS EtcdTLS
	// ReloadsTLS: etcd reads its certificate again for each new TLS
	// connection (3.2 and later), so a renewed one needs no restart.
	ReloadsTLS bool
}

// EtcdTLSFiles names how etcd gets the node's TLS files.
type EtcdTLSFiles string

const (
	// EtcdTLSCredentials: systemd hands the files to the unit
	// (LoadCredential, systemd 247+), so an etcd that runs as its own user
	// (Debian's etcd.service has User=etcd) reads a key that stays root's
	// and 0600.
	EtcdTLSCredentials EtcdTLSFiles = "credentials"
	// EtcdTLSCopy: a copy owned by EtcdTLS.User goes into EtcdTLS.Dir,
	// which etcd sees as EtcdTLS.SeenAs (Flatcar's etcd-wrapper mounts
	// the directory ETCD_SSL_DIR names at /etc/ssl/certs in its
	// container; its unit sets ETCD_SSL_DIR=/etc/ssl/certs, the host's CA
	// bundle, so the render names EtcdTLS.Dir in EtcdTLS.DirVar).
	EtcdTLSCopy EtcdTLSFiles = "copy"
	// EtcdTLSMount: the container unit mounts the node's TLS directory.
	EtcdTLSMount EtcdTLSFiles = "mount"
)

// EtcdTLS is how etcd reads its TLS files on a system.
type EtcdTLS struct {
	Files EtcdTLSFiles
	Dir   string // EtcdTLSCopy: where the copies go
	// DirVar, when set, is the unit's variable that names the directory
	// its wrapper mounts at SeenAs; the render sets it to Dir.
	DirVar string
	SeenAs string // EtcdTLSCopy: that directory as etcd sees it
	User   string // EtcdTLSCopy: the user etcd runs as
}

// NetworkConfig says how static addressing reaches a system.
type NetworkConfig string

const (
	// NetworkCloudInit: a NoCloud network-config (v2) file beside user-data.
	NetworkCloudInit NetworkConfig = "cloud-init"
	// NetworkNetworkd: a systemd-networkd .network file written by the config.
	NetworkNetworkd NetworkConfig = "networkd"
	// NetworkManager: a NetworkManager keyfile written by the config.
	NetworkManager NetworkConfig = "networkmanager"
	// NetworkCoreOSUnit: a .network unit in coreos.units, which
	// coreos-cloudinit installs into /etc/systemd/network.
	NetworkCoreOSUnit NetworkConfig = "coreos-unit"
)

// SELinux is the SELinux mode a system boots in.
type SELinux string

const (
	SELinuxOff        SELinux = ""           // no SELinux (Debian and Ubuntu use AppArmor)
	SELinuxPermissive SELinux = "permissive" // denials are logged, not enforced
	// SELinuxEnforcing: a container (container_t) reads a host directory
	// only once it is relabelled for containers (a bind mount's z option).
	SELinuxEnforcing SELinux = "enforcing"
)

// Docker describes the Docker engine of a system.
type Docker struct {
	Unit string // docker.service
	// ExecStart is the engine command of the system's docker.service; the
	// TCP drop-in resets ExecStart= and repeats it with the TCP listener
	// added, so nothing else the distribution passes is lost.
	ExecStart string
	CLI       string // the docker client binary the swarm units call
	// SocketActivation: docker.service is socket-activated, so a
	// docker-tcp.socket unit (the seed's Vagrant form) can open the TCP port.
	SocketActivation bool
}

// IgnitionTarget is the Butane variant and the Ignition spec a profile targets.
type IgnitionTarget struct {
	Variant string // butane variant: flatcar, fcos
	Version string // butane config version, e.g. 1.0.0
	Spec    string // the Ignition spec version that Butane version emits
	User    string // the login user that receives the SSH keys
}

// Profile is one target system.
type Profile struct {
	Name string
	// Family is the profile a per-release profile belongs to (debian for
	// debian-13); a profile's own name otherwise.
	Family      string
	Description string
	// Formats lists the formats this system's boot agent reads; the
	// defaults are written when no format is forced.
	Formats  []Format
	Defaults []Format
	// Packages are installed at boot (cloud-config only) when the
	// description asks for it. nil when the releases the profile covers
	// need different packages: the description must then name the
	// release (debian-13).
	Packages *Packages
	// Releases are the releases of the system this profile covers, oldest
	// first; Release is set on a profile for one release (debian-13).
	Releases []Release
	Release  *Release
	// WhyReleases says why one package list cannot serve every release.
	WhyReleases string
	Etcd        Etcd
	Docker      Docker
	Network     NetworkConfig
	// NICNames are the names (globs) the system gives a machine's NIC:
	// static addressing matches them when the description names neither
	// the interface nor the node's MAC. None may match the devices Docker
	// makes (docker0, br-*, veth*).
	NICNames []string
	SELinux  SELinux
	Ignition IgnitionTarget // zero unless the profile supports Butane/Ignition
	// Vagrant is the box `swarmboot vagrant` boots this system from (the
	// description's vagrant box overrides it); nil: no box is known.
	Vagrant *VagrantBox
	// PXE is how matchbox network-boots the system; nil: matchbox cannot.
	PXE   *PXE
	Shell string // a POSIX shell for the units' ExecStartPre
}

// Packages are a system's packages for each kind of node.
type Packages struct {
	Etcd []string // etcd members
	// Docker: the engine and the docker CLI, for Docker hosts and for
	// managers (which run swarm as a container).
	Docker []string
	// Agent: what the certificate agent runs that the system may lack
	// (curl, openssl), for every node with TLS.
	Agent []string
}

// Supports reports whether the profile's boot agent reads format f.
func (p *Profile) Supports(f Format) bool {
	return slices.Contains(p.Formats, f)
}

// Evidence says how a release's support is known.
type Evidence string

const (
	// BootTested: the boot test boots this release's packages here.
	BootTested Evidence = "booted here"
	// FromSources: not booted here; every fact a render relies on was
	// read from the system's sources, on the day its contract says
	// (register writes the day in).
	FromSources Evidence = "checked against its sources"
)

// checked is how a release not booted here is known: checked against its
// sources on the contract's day, "partly" where some sources could not be
// read (the contract says which, and what stands in for them).
func checked(c *Contract) Evidence {
	e := fmt.Sprintf("%s (%s)", FromSources, c.Read)
	if len(c.Unread) > 0 {
		e = "partly " + e
	}
	return Evidence(e)
}

// Release is one release of a target system and what it ships.
// PXE is how matchbox network-boots a system (delivery/matchbox), as
// matchbox's examples/profiles do it: where its kernel and initramfs are,
// and the kernel arguments that point its Ignition at matchbox. In the
// strings, {version} and {channel} are the release, {assets} the folder
// of its files (a path matchbox serves, or the release servers' URL),
// {assets_url} that folder as an absolute URL, and {ignition} the node's
// config URL.
type PXE struct {
	Name     string   // the system's name, for matchbox's profile names
	Channels []string // release channels (streams), the default first
	Channel  string   // what the system calls one: channel, stream
	Example  string   // a release to name in messages
	// LocalAssets is the folder under matchbox's assets, laid out by its
	// get-* script; RemoteAssets the release servers' folder.
	LocalAssets, RemoteAssets string
	Kernel                    string
	Initrd, Args              []string
}

// VagrantBox is the Vagrant box that boots a system: its name and, for a
// box outside Vagrant's catalogue, the URL of its metadata.
type VagrantBox struct{ Name, URL string }

type Release struct {
	Version  string // as named after the profile: debian-13, ubuntu-24.04
	Codename string
	Docker   string // the Docker engine it ships
	Etcd     string // the etcd it ships or runs
	// Packages, when set, replace the profile's for this release.
	Packages *Packages
	// Vagrant, when set, is this release's box, over the profile's.
	Vagrant  *VagrantBox
	Evidence Evidence
	Note     string
}

var registry = map[string]*Profile{}

// register adds a profile. When its releases need different packages,
// it also adds one profile per release (name-version) with that release's
// packages.
func register(p *Profile) {
	p.Family = p.Name
	if c, ok := contracts[p.Name]; ok {
		for i := range p.Releases {
			if p.Releases[i].Evidence == FromSources {
				p.Releases[i].Evidence = checked(c)
			}
		}
	}
	registry[p.Name] = p
	if !p.NeedsRelease() {
		return
	}
	for i := range p.Releases {
		r := &p.Releases[i]
		q := *p
		q.Name = p.Name + "-" + r.Version
		q.Release = r
		q.Releases = nil
		if r.Packages != nil {
			q.Packages = r.Packages
		}
		if r.Vagrant != nil {
			q.Vagrant = r.Vagrant
		}
		registry[q.Name] = &q
	}
}

// ReleaseNames lists the per-release profile names of p (debian-12, ...);
// none when one package list serves every release.
func (p *Profile) ReleaseNames() []string {
	if !p.NeedsRelease() {
		return nil
	}
	names := make([]string, len(p.Releases))
	for i, r := range p.Releases {
		names[i] = p.Name + "-" + r.Version
	}
	return names
}

// NeedsRelease reports whether installing packages needs the release
// named: the profile covers releases with different package lists.
func (p *Profile) NeedsRelease() bool {
	if p.Packages != nil {
		return false
	}
	for _, r := range p.Releases {
		if r.Packages != nil {
			return true
		}
	}
	return false
}

// Families lists the profiles that are not one release of another, sorted.
func Families() []*Profile {
	var out []*Profile
	for _, name := range Names() {
		if p := registry[name]; p.Release == nil {
			out = append(out, p)
		}
	}
	return out
}

// Lookup returns the named profile.
func Lookup(name string) (*Profile, bool) {
	p, ok := registry[name]
	return p, ok
}

// Names lists the profile names, sorted.
func Names() []string {
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

package profiles

import (
	"bytes"
	"embed"
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// A Contract is everything a render relies on about one target system,
// each fact with where it was read: the units the system ships and their
// command lines, what a unit's wrapper mounts and as which user, the
// users, SELinux, the NIC names, the tools the image ships and the Docker
// engines the profile claims. Tests hold every rendered config against
// its profile's contract; contracts/<profile>.yaml holds the data.
type Contract struct {
	Profile string `yaml:"profile"`
	// Read is the day the sources were read (YYYY-MM-DD): "checked
	// against its sources" in the support table means on that day.
	Read string `yaml:"read"`
	// Sources are the repositories and packages read, by a short name
	// the facts' From refer to ("scripts:path/in/repo").
	Sources map[string]Source `yaml:"sources"`
	Units   []ShippedUnit     `yaml:"units"`
	Users   []User            `yaml:"users"`
	// Images are container images the render runs, with whom they run
	// their process as when nothing says otherwise.
	Images  []Image     `yaml:"images"`
	SELinux SELinuxFact `yaml:"selinux"`
	NIC     NICFact     `yaml:"nic"`
	Tools   []Tools     `yaml:"tools"`
	Docker  DockerFact  `yaml:"docker"`
	// Systemd is the systemd each release ships, where the render relies
	// on a feature of a version (LoadCredential=, 247).
	Systemd *SystemdFact `yaml:"systemd"`
	// EtcdTLSReload is whether the system's etcd reads its certificate
	// again for each new TLS connection: then a renewed certificate
	// needs no restart of etcd.
	EtcdTLSReload *ReloadFact `yaml:"etcd_tls_reload"`
	// Unread lists what could not be read here, and why: the facts it
	// concerns stand on the sources named instead.
	Unread []string `yaml:"unread"`
}

// Source is one repository at a commit, or one package file.
type Source struct {
	Repo   string `yaml:"repo"`   // GitHub owner/name
	Commit string `yaml:"commit"` // full hash
	Date   string `yaml:"date"`   // the commit's date
	// A Debian package (.deb from the Debian mirror), or a Go module.
	Package string `yaml:"package"`
	Version string `yaml:"version"`
	Suite   string `yaml:"suite"`
	SHA256  string `yaml:"sha256"`
	Module  string `yaml:"module"`
	// Issue is a public issue thread, for what only an observation shows.
	Issue string `yaml:"issue"`
}

// From names where a fact was read: "source:path", path being inside the
// repository or the package (several when several releases were read).
type From []string

// ShippedUnit is a systemd unit the system ships.
type ShippedUnit struct {
	Name      string `yaml:"name"`
	From      From   `yaml:"from"`
	ExecStart string `yaml:"exec_start"`
	User      string `yaml:"user"` // User=; empty is root
	// Environment is the unit's own Environment= settings.
	Environment map[string]string `yaml:"environment"`
	// EnvironmentFiles are its EnvironmentFile= settings, verbatim
	// ("-" ignores a missing file; %p is the unit's prefix).
	EnvironmentFiles []string `yaml:"environment_files"`
	// Container is what the unit's wrapper runs etcd in, if it does.
	Container *Container `yaml:"container"`
}

// Container is a container a shipped unit's wrapper runs.
type Container struct {
	From From `yaml:"from"`
	// User is whom the process runs as; "$VAR" names a unit variable.
	User string `yaml:"user"`
	// InheritEnv: the unit's whole environment reaches the process.
	InheritEnv bool    `yaml:"inherit_env"`
	Mounts     []Mount `yaml:"mounts"`
}

// Mount shows Host (which may name a unit variable, "$VAR") at Path in a
// container.
type Mount struct {
	Host     string `yaml:"host"`
	Path     string `yaml:"path"`
	ReadOnly bool   `yaml:"ro"`
}

// User is a system user the render names (as a file's owner, say).
type User struct {
	Name string `yaml:"name"`
	UID  int    `yaml:"uid"` // -1: given at installation
	GID  int    `yaml:"gid"`
	From From   `yaml:"from"`
	// How names resolve to it where files are written.
	Note string `yaml:"note"`
}

// Image is a container image and the user its process runs as.
type Image struct {
	Name string `yaml:"name"` // repository, without a tag
	User string `yaml:"user"`
	From From   `yaml:"from"`
}

// SELinuxFact is the mode the system boots in, and whether its container
// engine labels containers (container_t).
type SELinuxFact struct {
	Mode SELinux `yaml:"mode"`
	From From    `yaml:"from"`
	// Labels: the engine confines containers (docker --selinux-enabled,
	// podman by default where SELinux is on).
	Labels bool   `yaml:"labels"`
	Note   string `yaml:"note"`
}

// NICFact is how the system names a machine's NIC.
type NICFact struct {
	Names []string `yaml:"names"` // globs, as the profile's NICNames
	// Examples are names the system gives a NIC; a static network that
	// names no interface must select each.
	Examples []string `yaml:"examples"`
	From     From     `yaml:"from"`
	Note     string   `yaml:"note"`
}

// Tools are commands the image ships, as absolute paths.
type Tools struct {
	Paths []string `yaml:"paths"`
	From  From     `yaml:"from"`
	// Optional: some images of the system lack them; units may not rely
	// on them unless the render installs Packages.
	Optional bool `yaml:"optional"`
	// Packages install them where the system lacks them (a cloud-config
	// render lists them with the node's packages).
	Packages []string `yaml:"packages"`
	Note     string   `yaml:"note"`
}

// DockerFact is the Docker engines the profile claims, by release.
type DockerFact struct {
	Unit     string              `yaml:"unit"` // the engine's unit
	Releases map[string][]string `yaml:"releases"`
	From     From                `yaml:"from"`
	Note     string              `yaml:"note"`
}

// ReloadFact says whether a program reads its TLS certificate again for
// each new connection (true) or only when it starts.
type ReloadFact struct {
	Reloads bool   `yaml:"reloads"`
	From    From   `yaml:"from"`
	Note    string `yaml:"note"`
}

// SystemdFact is the systemd major version of each release.
type SystemdFact struct {
	Releases map[string]int `yaml:"releases"`
	From     From           `yaml:"from"`
}

// Unit returns the shipped unit of that name.
func (c *Contract) Unit(name string) (*ShippedUnit, bool) {
	for i := range c.Units {
		if c.Units[i].Name == name {
			return &c.Units[i], true
		}
	}
	return nil, false
}

// User returns the user of that name.
func (c *Contract) User(name string) (*User, bool) {
	for i := range c.Users {
		if c.Users[i].Name == name {
			return &c.Users[i], true
		}
	}
	return nil, false
}

// HasTool reports whether every image of the system ships the command
// at path (the optional tools too when optional is true).
func (c *Contract) HasTool(p string, optional bool) bool {
	for _, t := range c.Tools {
		if (!t.Optional || optional) && slices.Contains(t.Paths, p) {
			return true
		}
	}
	return false
}

// HasCommand reports whether a command of that name is on the system's
// PATH (/usr/sbin, /usr/bin, /sbin, /bin): shipped by every image, or
// optional and installed by packages the node gets.
func (c *Contract) HasCommand(name string, packages []string) bool {
	for _, t := range c.Tools {
		usable := !t.Optional || len(t.Packages) > 0 && !slices.ContainsFunc(t.Packages, func(p string) bool { return !slices.Contains(packages, p) })
		for _, dir := range []string{"/usr/sbin/", "/usr/bin/", "/sbin/", "/bin/"} {
			if usable && slices.Contains(t.Paths, dir+name) {
				return true
			}
		}
	}
	return false
}

// Engines lists every Docker version the profile claims, sorted.
func (c *Contract) Engines() []string {
	var out []string
	for _, vs := range c.Docker.Releases {
		for _, v := range vs {
			if !slices.Contains(out, v) {
				out = append(out, v)
			}
		}
	}
	sort.Strings(out)
	return out
}

// Dockerd is what swarmboot relies on about dockerd's command line, read
// from moby/moby at each version's tag (contracts/dockerd.yaml).
type Dockerd struct {
	Read       string            `yaml:"read"`
	Repo       string            `yaml:"repo"`
	Shorthands map[string]string `yaml:"shorthands"` // "H": "host"
	Versions   map[string]struct {
		Tag    string            `yaml:"tag"`
		Commit string            `yaml:"commit"`
		Flags  map[string]string `yaml:"flags"` // name -> file:line that defines it
	} `yaml:"versions"`
	// Devices are the link names Docker makes on a host, which no NIC
	// match may select (examples), with where each is read.
	Devices map[string]string `yaml:"devices"`
}

// Accepts reports whether that engine version's dockerd takes the flag
// ("--host", "-H", "--tls=false" all name theirs).
func (d *Dockerd) Accepts(version, flag string) bool {
	v, ok := d.Versions[version]
	if !ok {
		return false
	}
	name := strings.TrimLeft(strings.SplitN(flag, "=", 2)[0], "-")
	if long, ok := d.Shorthands[name]; ok && !strings.HasPrefix(flag, "--") {
		name = long
	}
	_, ok = v.Flags[name]
	return ok
}

//go:embed contracts/*.yaml
var contractFiles embed.FS

var contracts, dockerd = loadContracts()

// ContractOf returns the contract of the profile's system (debian-13's is
// debian's).
func ContractOf(p *Profile) (*Contract, bool) {
	name := p.Name
	if p.Release != nil {
		name = strings.TrimSuffix(name, "-"+p.Release.Version)
	}
	c, ok := contracts[name]
	return c, ok
}

// DockerdFlags returns what dockerd takes, by engine version.
func DockerdFlags() *Dockerd { return dockerd }

// loadContracts decodes the embedded contracts strictly: data the program
// ships, so a malformed file stops it at once (tests load it first).
func loadContracts() (map[string]*Contract, *Dockerd) {
	out := map[string]*Contract{}
	var d Dockerd
	entries, err := contractFiles.ReadDir("contracts")
	if err != nil {
		panic(err)
	}
	for _, e := range entries {
		data, err := contractFiles.ReadFile("contracts/" + e.Name())
		if err != nil {
			panic(err)
		}
		if e.Name() == "dockerd.yaml" {
			mustDecode(e.Name(), data, &d)
			continue
		}
		var c Contract
		mustDecode(e.Name(), data, &c)
		if c.Profile+".yaml" != e.Name() {
			panic(fmt.Sprintf("contracts/%s is the contract of %q", e.Name(), c.Profile))
		}
		if err := c.check(); err != nil {
			panic(fmt.Sprintf("contracts/%s: %v", e.Name(), err))
		}
		out[c.Profile] = &c
	}
	return out, &d
}

func mustDecode(name string, data []byte, v any) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		panic(fmt.Sprintf("contracts/%s: %v", name, err))
	}
}

// check: every fact names a source the contract declares, and a path in it.
func (c *Contract) check() error {
	var froms []From
	for _, u := range c.Units {
		froms = append(froms, u.From)
		if u.Container != nil {
			froms = append(froms, u.Container.From)
		}
	}
	for _, u := range c.Users {
		froms = append(froms, u.From)
	}
	for _, i := range c.Images {
		froms = append(froms, i.From)
	}
	for _, t := range c.Tools {
		froms = append(froms, t.From)
	}
	froms = append(froms, c.SELinux.From, c.NIC.From, c.Docker.From)
	if c.Systemd != nil {
		froms = append(froms, c.Systemd.From)
	}
	if c.EtcdTLSReload != nil {
		froms = append(froms, c.EtcdTLSReload.From)
	}
	for _, f := range froms {
		if len(f) == 0 {
			return fmt.Errorf("a fact without a source")
		}
		for _, ref := range f {
			name, p, ok := strings.Cut(ref, ":")
			if _, known := c.Sources[name]; !ok || !known || path.Clean(p) == "." {
				return fmt.Errorf("%q names no declared source and path in it", ref)
			}
		}
	}
	return nil
}

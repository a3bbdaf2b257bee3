// Package vagrant writes a Vagrantfile that brings up one VM per node on
// a VirtualBox private network and hands each its user-data the way its
// box's boot agent reads it:
//
//   - cloud-config (Ubuntu, Debian boxes with cloud-init): Vagrant's
//     cloud_init support (`node.vm.cloud_init content_type:
//     "text/cloud-config", path: ...`), which puts the file on a NoCloud
//     ISO. Vagrant before 2.4.7 treats cloud_init as experimental and
//     ignores it unless VAGRANT_EXPERIMENTAL=cloud_init is set, so the
//     Vagrantfile stops with that advice instead of booting unconfigured
//     nodes.
//   - coreos-cloudconfig (legacy CoreOS, Flatcar boxes): the file
//     provisioner copies it to /tmp/vagrantfile-user-data and a shell
//     provisioner moves it to /var/lib/coreos-vagrant/, where the box's
//     coreos-cloudinit path unit picks it up, as coreos/coreos-vagrant did.
//
// Ignition has no Vagrant delivery here (VirtualBox's guest-property
// channel that Ignition reads is capped at 1 KB), so it is refused.
package vagrant

import (
	"fmt"
	"net/netip"
	"regexp"
	"strings"

	"github.com/swarmboot/swarmboot/profiles"
)

// Machine is one VM.
type Machine struct {
	Name string // VM and host name
	IP   string // private network address
	// Netmask of the private network: dotted for IPv4 (255.255.252.0),
	// the prefix length for IPv6; "" leaves Vagrant's default (/24), which
	// would split a larger subnet across host-only networks.
	Netmask string
	// Box, e.g. "ubuntu/jammy64"; BoxURL for boxes not in Vagrant's
	// catalogue (Flatcar's). See DefaultBox.
	Box, BoxURL string
	// Format of the user-data file: cloud-config or coreos-cloudconfig.
	Format profiles.Format
	// UserDataPath, relative to the Vagrantfile's directory (or absolute).
	UserDataPath string
	Memory       int // MiB; 1024 if 0
	CPUs         int // 1 if 0
}

// Bounds of what a VirtualBox VM can be given.
const (
	MinMemory, MaxMemory = 256, 1 << 20 // MiB
	MinCPUs, MaxCPUs     = 1, 64
)

// Box is a default box for a target system.
type Box struct{ Name, URL string }

// DefaultBox returns the box swarmboot uses for a profile unless the
// description overrides it.
func DefaultBox(profile string) (Box, bool) {
	b, ok := map[string]Box{
		"ubuntu":    {Name: "ubuntu/jammy64"},
		"debian":    {Name: "debian/bookworm64"},
		"debian-12": {Name: "debian/bookworm64"},
		"debian-13": {Name: "debian/trixie64"},
		"debian-14": {Name: "debian/testing64"},
		"flatcar":   {Name: "flatcar-stable", URL: "https://stable.release.flatcar-linux.net/amd64-usr/current/flatcar_production_vagrant.json"},
		// CoreOS Container Linux reached its end of life in 2020; its box
		// server is gone, so a legacy box must already be added locally.
		"coreos": {Name: "coreos-stable"},
	}[profile]
	return b, ok
}

// FormatFor is the config a profile's Vagrant box reads: cloud-config
// through cloud_init, else coreos-cloudconfig through the CoreOS OEM path.
func FormatFor(p *profiles.Profile) (profiles.Format, error) {
	for _, f := range []profiles.Format{profiles.CloudConfig, profiles.CoreOSCloudConfig} {
		if p.Supports(f) {
			return f, nil
		}
	}
	return "", fmt.Errorf("profile %s reads only %s, which Vagrant's VirtualBox provider cannot deliver; use ubuntu, debian, flatcar or coreos for Vagrant",
		p.Name, profiles.JoinFormats(p.Formats))
}

// CoreOSUserDataDir is where the CoreOS Vagrant OEM looks for user-data.
const CoreOSUserDataDir = "/var/lib/coreos-vagrant/"

// Vagrant accepts any machine name, but it is also the host name.
var nameRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)

// Vagrantfile returns the Vagrantfile for machines, in their order (the
// order `vagrant up` boots them in).
func Vagrantfile(machines []Machine) ([]byte, error) {
	if len(machines) == 0 {
		return nil, fmt.Errorf("vagrant: no machines")
	}
	seen := map[string]bool{}
	seenIP := map[netip.Addr]string{}
	var cloudInit []string
	for _, m := range machines {
		if !nameRE.MatchString(m.Name) {
			return nil, fmt.Errorf("vagrant: machine name %q: use lower-case letters, digits and '-' (it is also the host name)", m.Name)
		}
		if seen[m.Name] {
			return nil, fmt.Errorf("vagrant: machine %q listed twice", m.Name)
		}
		seen[m.Name] = true
		ip, err := netip.ParseAddr(m.IP)
		if err != nil {
			return nil, fmt.Errorf("vagrant: machine %q: IP %q is not an IP address", m.Name, m.IP)
		}
		if other, dup := seenIP[ip]; dup {
			return nil, fmt.Errorf("vagrant: machines %q and %q share IP %s", other, m.Name, ip)
		}
		seenIP[ip] = m.Name
		if m.Box == "" || m.UserDataPath == "" {
			return nil, fmt.Errorf("vagrant: machine %q needs a box and a user-data path", m.Name)
		}
		for _, v := range []string{m.Box, m.BoxURL, m.UserDataPath} {
			if strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
				return nil, fmt.Errorf("vagrant: machine %q: control character in %q", m.Name, v)
			}
		}
		if m.Memory != 0 && (m.Memory < MinMemory || m.Memory > MaxMemory) || m.CPUs != 0 && (m.CPUs < MinCPUs || m.CPUs > MaxCPUs) {
			return nil, fmt.Errorf("vagrant: machine %q: memory %d MiB and %d CPUs; give %d-%d MiB and %d-%d CPUs",
				m.Name, m.Memory, m.CPUs, MinMemory, MaxMemory, MinCPUs, MaxCPUs)
		}
		if strings.ContainsFunc(m.Netmask, func(r rune) bool { return (r < '0' || r > '9') && r != '.' }) {
			return nil, fmt.Errorf("vagrant: machine %q: netmask %q is neither dotted nor a prefix length", m.Name, m.Netmask)
		}
		switch m.Format {
		case profiles.CloudConfig:
			cloudInit = append(cloudInit, m.Name)
		case profiles.CoreOSCloudConfig:
		case profiles.Ignition, profiles.Butane:
			return nil, fmt.Errorf("vagrant: machine %q: %s user-data has no Vagrant delivery (VirtualBox passes Ignition at most 1 KB); use a coreos-cloudconfig profile for Vagrant", m.Name, m.Format)
		default:
			return nil, fmt.Errorf("vagrant: machine %q: unknown format %q (want cloud-config or coreos-cloudconfig)", m.Name, m.Format)
		}
	}
	var b strings.Builder
	b.WriteString("# -*- mode: ruby -*-\n# vi: set ft=ruby :\n#\n# Written by swarmboot: change the cluster description and regenerate\n# rather than editing this file.\n\n")
	if len(cloudInit) > 0 {
		writeGuard(&b, cloudInit)
	}
	b.WriteString("Vagrant.configure(\"2\") do |config|\n")
	for i, m := range machines {
		if i > 0 {
			b.WriteString("\n")
		}
		writeMachine(&b, m)
	}
	b.WriteString("end\n")
	return []byte(b.String()), nil
}

// writeGuard stops vagrant when cloud_init would be silently ignored.
func writeGuard(b *strings.Builder, names []string) {
	fmt.Fprintf(b, `# %s get their user-data through Vagrant's cloud_init, which
# Vagrant before 2.4.7 ignores unless the experimental flag is set.
if Gem::Version.new(Vagrant::VERSION) < Gem::Version.new("2.4.7") &&
   (ENV.fetch("VAGRANT_EXPERIMENTAL", "").split(",").map(&:strip) & ["1", "cloud_init"]).empty?
  abort "swarmboot: Vagrant #{Vagrant::VERSION} ignores cloud_init user-data unless " \
        "VAGRANT_EXPERIMENTAL=cloud_init,disks is set; run: VAGRANT_EXPERIMENTAL=cloud_init,disks vagrant ..."
end

`, strings.Join(names, ", "))
}

func writeMachine(b *strings.Builder, m Machine) {
	mem, cpus := m.Memory, m.CPUs
	if mem == 0 {
		mem = 1024
	}
	if cpus == 0 {
		cpus = 1
	}
	coreos := m.Format == profiles.CoreOSCloudConfig
	p := func(format string, args ...any) { fmt.Fprintf(b, format+"\n", args...) }
	p("  config.vm.define %s do |node|", q(m.Name))
	p("    node.vm.box = %s", q(m.Box))
	if m.BoxURL != "" {
		p("    node.vm.box_url = %s", q(m.BoxURL))
	}
	p("    node.vm.hostname = %s", q(m.Name))
	if m.Netmask != "" {
		p("    node.vm.network \"private_network\", ip: %s, netmask: %s", q(m.IP), q(m.Netmask))
	} else {
		p("    node.vm.network \"private_network\", ip: %s", q(m.IP))
	}
	if coreos {
		// CoreOS-style boxes have no guest additions, so no shared folders,
		// and keep Vagrant's insecure key (coreos-vagrant did the same).
		p("    node.ssh.insert_key = false")
		p("    node.vm.synced_folder \".\", \"/vagrant\", disabled: true")
	}
	p("    node.vm.provider \"virtualbox\" do |vb|")
	p("      vb.memory = %d", mem)
	p("      vb.cpus = %d", cpus)
	if coreos {
		p("      vb.check_guest_additions = false")
		p("      vb.functional_vboxsf = false")
	}
	p("    end")
	if coreos {
		p("    node.vm.provision \"file\", source: %s, destination: \"/tmp/vagrantfile-user-data\"", q(m.UserDataPath))
		p("    node.vm.provision \"shell\", privileged: true,")
		p("      inline: \"mkdir -p %s && mv /tmp/vagrantfile-user-data %s\"", CoreOSUserDataDir, CoreOSUserDataDir)
	} else {
		p("    node.vm.cloud_init content_type: \"text/cloud-config\", path: %s", q(m.UserDataPath))
	}
	p("  end")
}

// q quotes s as a single-quoted Ruby string literal, in which only \ and '
// are special: no interpolation, no escapes that could run code.
func q(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

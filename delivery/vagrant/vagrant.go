// Package vagrant writes a Vagrantfile that brings up one VM per node on
// a private network, with VirtualBox or libvirt (vagrant-libvirt), and
// hands each its user-data the way its box's boot agent reads it:
//
//   - cloud-config (Ubuntu, Debian boxes with cloud-init): under
//     VirtualBox, Vagrant's cloud_init support (`node.vm.cloud_init
//     content_type: "text/cloud-config", path: ...`), which puts the file
//     on a NoCloud ISO; Vagrant before 2.4.7 treats cloud_init as
//     experimental and ignores it unless VAGRANT_EXPERIMENTAL=cloud_init is
//     set, so the Vagrantfile stops with that advice instead of booting
//     unconfigured nodes. cloud_init is implemented by VirtualBox alone:
//     under libvirt the node's own NoCloud seed image (written beside its
//     user-data) is attached as a cdrom (`libvirt.storage :file, device:
//     :cdrom`).
//   - coreos-cloudconfig (legacy CoreOS, Flatcar boxes): the file
//     provisioner copies it to /tmp/vagrantfile-user-data and a shell
//     provisioner moves it to /var/lib/coreos-vagrant/, where the box's
//     coreos-cloudinit path unit picks it up, as coreos/coreos-vagrant did.
//     A Flatcar machine under libvirt gets its Ignition config instead,
//     through QEMU's firmware config (`-fw_cfg
//     name=opt/org.flatcar-linux/config,file=...`), which Flatcar's
//     Ignition reads on a QEMU box; the provisioners then run under
//     VirtualBox only.
//
// Ignition alone (Fedora CoreOS) has no Vagrant delivery here: VirtualBox's
// guest-property channel that Ignition reads is capped at 1 KB, and a node
// only one provider could configure would boot unconfigured under the
// other, so it is refused.
package vagrant

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
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
	// SeedPath, for a cloud-config machine (required), is a NoCloud seed
	// image holding the user-data and its meta-data, attached under
	// libvirt.
	SeedPath string
	// IgnitionPath, optional for a coreos-cloudconfig machine, is an
	// Ignition config handed over under libvirt as the fw_cfg entry
	// FwCfg (see FwCfg).
	IgnitionPath, FwCfg string
	Memory              int // MiB; 1024 if 0
	CPUs                int // 1 if 0
}

// Bounds of what a VirtualBox VM can be given.
const (
	MinMemory, MaxMemory = 256, 1 << 20 // MiB
	MinCPUs, MaxCPUs     = 1, 64
)

// Box is a default box for a target system.
type Box struct{ Name, URL string }

// DefaultBox returns the box swarmboot uses for a profile unless the
// description overrides it: the profile's own (profiles.Profile.Vagrant).
func DefaultBox(profile string) (Box, bool) {
	p, ok := profiles.Lookup(profile)
	if !ok || p.Vagrant == nil {
		return Box{}, false
	}
	return Box{Name: p.Vagrant.Name, URL: p.Vagrant.URL}, true
}

// FormatsFor is what a profile's Vagrant box reads: cloud-config through
// cloud_init or the seed cdrom; else coreos-cloudconfig through the CoreOS
// OEM path, and Ignition as well where the system reads it from QEMU's
// firmware config (Flatcar), for libvirt. The first is the node's primary.
func FormatsFor(p *profiles.Profile) ([]profiles.Format, error) {
	switch {
	case p.Supports(profiles.CloudConfig):
		return []profiles.Format{profiles.CloudConfig}, nil
	case p.Supports(profiles.CoreOSCloudConfig):
		if _, ok := FwCfg(p); ok && p.Supports(profiles.Ignition) {
			return []profiles.Format{profiles.CoreOSCloudConfig, profiles.Ignition}, nil
		}
		return []profiles.Format{profiles.CoreOSCloudConfig}, nil
	}
	return nil, fmt.Errorf("profile %s reads only %s, which Vagrant cannot deliver here (VirtualBox passes Ignition at most 1 KB, and a node only libvirt could configure would boot unconfigured under VirtualBox); use ubuntu, debian, flatcar or coreos for Vagrant",
		p.Name, profiles.JoinFormats(p.Formats))
}

// FwCfg is the QEMU firmware config entry the profile's Ignition reads its
// config from, for the Vagrant systems that take one.
func FwCfg(p *profiles.Profile) (string, bool) {
	// Flatcar's own QEMU script passes opt/org.flatcar-linux/config
	// (flatcar/scripts build_library/qemu_template.sh); its Ignition reads
	// that and upstream's opt/com.coreos/config.
	name, ok := map[string]string{"flatcar": "opt/org.flatcar-linux/config"}[p.Ignition.Variant]
	return name, ok
}

// CoreOSUserDataDir is where the CoreOS Vagrant OEM looks for user-data.
const CoreOSUserDataDir = "/var/lib/coreos-vagrant/"

// Vagrant accepts any machine name, but it is also the host name.
var nameRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)

// fwCfgRE is a QEMU fw_cfg name a user may give (QEMU wants opt/...);
// it lands in a -fw_cfg option, where ',' and '=' are syntax.
var fwCfgRE = regexp.MustCompile(`^(opt/[a-z0-9.-]+(/[a-z0-9.-]+)*)?$`)

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
		for _, v := range []string{m.Box, m.BoxURL, m.UserDataPath, m.SeedPath, m.IgnitionPath, m.FwCfg} {
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
		if (m.IgnitionPath == "") != (m.FwCfg == "") || !fwCfgRE.MatchString(m.FwCfg) {
			return nil, fmt.Errorf("vagrant: machine %q: an Ignition path needs its fw_cfg name (opt/...), and the name a path", m.Name)
		}
		switch m.Format {
		case profiles.CloudConfig:
			if m.SeedPath == "" || m.IgnitionPath != "" {
				return nil, fmt.Errorf("vagrant: machine %q: cloud-config needs a seed image for libvirt, and no Ignition config", m.Name)
			}
			cloudInit = append(cloudInit, m.Name)
		case profiles.CoreOSCloudConfig:
			if m.SeedPath != "" {
				return nil, fmt.Errorf("vagrant: machine %q: coreos-cloudconfig has no NoCloud seed", m.Name)
			}
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
	if slices.ContainsFunc(machines, func(m Machine) bool { return m.SeedPath != "" || m.IgnitionPath != "" }) {
		b.WriteString(libvirtPaths)
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

// writeGuard stops vagrant when cloud_init would be silently ignored. It
// is VirtualBox's: a run that asks for libvirt (--provider or
// VAGRANT_DEFAULT_PROVIDER) attaches the seed images itself.
func writeGuard(b *strings.Builder, names []string) {
	fmt.Fprintf(b, `# %s get their user-data through Vagrant's cloud_init under VirtualBox,
# which Vagrant before 2.4.7 ignores unless the experimental flag is set.
provider = ENV.fetch("VAGRANT_DEFAULT_PROVIDER", "")
ARGV.each_with_index do |arg, i|
  provider = arg.delete_prefix("--provider=") if arg.start_with?("--provider=")
  provider = ARGV[i + 1].to_s if arg == "--provider"
end
if provider != "libvirt" &&
   Gem::Version.new(Vagrant::VERSION) < Gem::Version.new("2.4.7") &&
   (ENV.fetch("VAGRANT_EXPERIMENTAL", "").split(",").map(&:strip) & ["1", "cloud_init"]).empty?
  abort "swarmboot: Vagrant #{Vagrant::VERSION} ignores cloud_init user-data unless " \
        "VAGRANT_EXPERIMENTAL=cloud_init,disks is set; run: VAGRANT_EXPERIMENTAL=cloud_init,disks vagrant ... " \
        "(with libvirt, --provider libvirt needs no flag)"
end

`, strings.Join(names, ", "))
}

// libvirtPaths is the Vagrantfile's helper for files libvirt's QEMU opens.
const libvirtPaths = `# libvirt's QEMU opens the seed images and Ignition configs by absolute
# path; vagrant-libvirt (0.11.2, and its source to 2023-12) writes them into the
# domain XML unescaped, and QEMU's -fw_cfg takes ',' as a separator.
# Under qemu:///system QEMU runs as libvirt's user: it must be able to
# reach this folder, and to read the Ignition configs (libvirt lends it
# the cdrom images itself).
require "cgi"
libvirt_path = lambda do |relative, fw_cfg: false|
  path = File.expand_path(relative, __dir__)
  path = path.gsub(",", ",,") if fw_cfg
  CGI.escapeHTML(path)
end

`

func writeMachine(b *strings.Builder, m Machine) {
	mem, cpus := m.Memory, m.CPUs
	if mem == 0 {
		mem = 1024
	}
	if cpus == 0 {
		cpus = 1
	}
	coreos := m.Format == profiles.CoreOSCloudConfig
	// A Flatcar machine's provisioners are VirtualBox's: libvirt hands
	// it Ignition, and both would configure it twice.
	provision := "node"
	if m.IgnitionPath != "" {
		provision = "override"
	}
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
	if provision == "override" {
		p("    node.vm.provider \"virtualbox\" do |vb, override|")
	} else {
		p("    node.vm.provider \"virtualbox\" do |vb|")
	}
	p("      vb.memory = %d", mem)
	p("      vb.cpus = %d", cpus)
	if coreos {
		p("      vb.check_guest_additions = false")
		p("      vb.functional_vboxsf = false")
		writeProvisioners(p, provision+".vm.provision", m.UserDataPath, "      ")
	}
	p("    end")
	p("    node.vm.provider \"libvirt\" do |lv|")
	p("      lv.memory = %d", mem)
	p("      lv.cpus = %d", cpus)
	switch {
	case m.SeedPath != "":
		p("      lv.storage :file, device: :cdrom, path: libvirt_path.(%s)", q(m.SeedPath))
	case m.IgnitionPath != "":
		p("      lv.qemuargs value: \"-fw_cfg\"")
		p("      lv.qemuargs value: %s + libvirt_path.(%s, fw_cfg: true)", q("name="+m.FwCfg+",file="), q(m.IgnitionPath))
	}
	p("    end")
	if coreos && provision == "node" {
		writeProvisioners(p, "node.vm.provision", m.UserDataPath, "    ")
	}
	if !coreos {
		p("    node.vm.cloud_init content_type: \"text/cloud-config\", path: %s", q(m.UserDataPath))
	}
	p("  end")
}

// writeProvisioners writes the coreos-vagrant delivery of a CoreOS
// cloud-config: the file provisioner, then a shell one that moves it.
func writeProvisioners(p func(string, ...any), provision, userData, indent string) {
	p("%s%s \"file\", source: %s, destination: \"/tmp/vagrantfile-user-data\"", indent, provision, q(userData))
	p("%s%s \"shell\", privileged: true,", indent, provision)
	p("%s  inline: \"mkdir -p %s && mv /tmp/vagrantfile-user-data %s\"", indent, CoreOSUserDataDir, CoreOSUserDataDir)
}

// q quotes s as a single-quoted Ruby string literal, in which only \ and '
// are special: no interpolation, no escapes that could run code.
func q(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

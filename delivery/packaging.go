package delivery

import (
	"fmt"
	"io/fs"
	"maps"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/swarmboot/swarmboot/cluster"
	"github.com/swarmboot/swarmboot/delivery/configdrive"
	"github.com/swarmboot/swarmboot/delivery/encode"
	"github.com/swarmboot/swarmboot/delivery/matchbox"
	"github.com/swarmboot/swarmboot/delivery/seediso"
	"github.com/swarmboot/swarmboot/delivery/vagrant"
	"github.com/swarmboot/swarmboot/profiles"
	"github.com/swarmboot/swarmboot/render"
	"github.com/swarmboot/swarmboot/render/nocloud"
)

// Packaging names one way to ship configs.
type Packaging string

// The packagings. Adding one means one entry in packagings below.
const (
	Folders     Packaging = ""             // DIR/<node>/ with each config and its companions
	NoCloudISO  Packaging = "nocloud-iso"  // cloud-config in a NoCloud seed image per node
	ConfigDrive Packaging = "config-drive" // cloud-config in an OpenStack config drive per node
	Matchbox    Packaging = "matchbox"     // Ignition in a matchbox data directory
	Vagrant     Packaging = "vagrant"      // a Vagrantfile and each node's user-data
)

// packaging is what delivery knows about one packaging.
type packaging struct {
	name Packaging
	// help is the --format help line; "" when --format does not offer it
	// (Vagrant has its own command).
	help string
	// formats are the configs the packaging carries for a profile, its
	// primary first; nil leaves the choice to Options.Format or the
	// profile's defaults.
	formats func(*profiles.Profile) ([]profiles.Format, error)
	// encodings refuses encodings its consumer cannot read.
	encodings func(encode.Encoding) error
	// check refuses, before anything is issued, nodes the packaging
	// cannot deliver (nil: it takes every node), naming them all.
	check func(*cluster.Cluster, []render.Job, Options) error
	// ownsNetwork: the packaging addresses the nodes itself.
	ownsNetwork bool
	// tree: it writes one tree for all its nodes, not a file per node
	// that `render --node` could print.
	tree bool
	// dirs are the folders it writes at the top of the output in place
	// of one per node (nil: DIR/<node>/), which no node of another
	// packaging in the same run may have as its own.
	dirs []string
	mode fs.FileMode // 0: the writer's default (0600)
	pack func(*cluster.Cluster, []node, Options, *Result) error
}

var packagings = []packaging{
	{name: Folders, pack: packFolders, encodings: anyEncoding},
	{
		name:      NoCloudISO,
		help:      "cloud-config packed into DIR/<node>/seed.iso (label cidata)",
		formats:   only(profiles.CloudConfig),
		encodings: fileForCloudInit,
		pack:      packNoCloudISO,
	},
	{
		name: ConfigDrive,
		help: "cloud-config in an OpenStack config drive, DIR/<node>/config-drive.iso\n" +
			"(label config-2); a static address needs each node's mac",
		formats:   only(profiles.CloudConfig),
		encodings: fileForCloudInit,
		check:     needStaticMACs,
		pack:      packConfigDrive,
	},
	{
		name: Matchbox,
		help: "a matchbox data directory: profiles/, groups/ (by each node's mac),\n" +
			"ignition/; needs --matchbox-url and an OS version",
		formats:   only(profiles.Ignition),
		encodings: noEncoding("matchbox serves the Ignition configs as they are"),
		check:     matchboxInputs,
		tree:      true,
		dirs:      matchbox.Dirs(),
		// The matchbox service, not the user who renders, reads the
		// directory, and it serves those configs over plain HTTP to any
		// machine that asks, so file modes protect nothing there.
		mode: 0o644,
		pack: packMatchbox,
	},
	{
		name:        Vagrant,
		formats:     vagrant.FormatsFor,
		encodings:   noEncoding("Vagrant hands user-data to cloud_init as a text part"),
		check:       needBoxes,
		ownsNetwork: true,
		tree:        true,
		pack:        packVagrant,
	},
}

func (p Packaging) info() packaging {
	for _, pk := range packagings {
		if pk.name == p {
			return pk
		}
	}
	return packaging{name: p}
}

// offered: --format offers it, for every node or per profile.
func (pk packaging) offered() bool { return pk.help != "" }

// String is the --format spelling; "folders" for the default.
func (p Packaging) String() string {
	if p == Folders {
		return "folders"
	}
	return string(p)
}

// PackagingNames lists the packagings --format offers.
func PackagingNames() []string {
	var names []string
	for _, pk := range packagings {
		if pk.offered() {
			names = append(names, string(pk.name))
		}
	}
	return names
}

// PackagingsFor lists the packagings --format offers that can carry the
// nodes of profile p.
func PackagingsFor(p *profiles.Profile) []string {
	var names []string
	for _, pk := range packagings {
		if !pk.offered() {
			continue
		}
		if pk.formats != nil {
			if _, err := pk.formats(p); err != nil {
				continue
			}
		}
		names = append(names, string(pk.name))
	}
	return names
}

// ParseFormat reads --format: a config format (packed in folders) or a
// packaging that --format offers.
func ParseFormat(s string) (profiles.Format, Packaging, error) {
	if s == "" {
		return "", Folders, nil
	}
	if f, ok := profiles.ParseFormat(s); ok {
		return f, Folders, nil
	}
	var names []string
	for _, pk := range packagings {
		if !pk.offered() {
			continue
		}
		if string(pk.name) == s {
			return "", pk.name, nil
		}
		names = append(names, string(pk.name))
	}
	return "", "", OptionErrorf("unknown format %q; formats are %s, %s", s, profiles.JoinFormats(profiles.AllFormats()), strings.Join(names, ", "))
}

// FormatHelp describes the packagings --format offers, one per line.
func FormatHelp() string {
	var b strings.Builder
	for _, pk := range packagings {
		if pk.offered() {
			fmt.Fprintf(&b, "  %-13s %s\n", pk.name, strings.ReplaceAll(pk.help, "\n", "\n"+strings.Repeat(" ", 16)))
		}
	}
	return b.String()
}

// Validate checks the options together, before anything is rendered.
func (o Options) Validate() error {
	pk := o.Packaging.info()
	if pk.pack == nil {
		return OptionErrorf("unknown packaging %q", o.Packaging)
	}
	perProfile := len(o.Formats) > 0 || len(o.Packagings) > 0
	if o.Packaging != Folders && (o.Format != "" || perProfile && !pk.offered()) {
		return OptionErrorf("%s chooses the format itself; leave the format out", o.Packaging)
	}
	if err := o.validatePerProfile(); err != nil {
		return err
	}
	if o.Primary && pk.tree {
		return OptionErrorf("%s writes a directory: use -o DIR", o.Packaging)
	}
	if enc := o.Encoding; enc != "" && enc != encode.None {
		if err := o.validateEncoding(enc); err != nil {
			return err
		}
	}
	if o.Packaging == Vagrant {
		return o.Vagrant.validate()
	}
	return nil
}

// validatePerProfile checks Formats and Packagings: known profiles, one
// entry each, what the profile reads.
func (o Options) validatePerProfile() error {
	lookup := func(name string) (*profiles.Profile, error) {
		if p, ok := profiles.Lookup(name); ok {
			return p, nil
		}
		return nil, OptionErrorf("--format %s=...: unknown profile %q; profiles are %s", name, name, strings.Join(profiles.Names(), ", "))
	}
	for _, name := range slices.Sorted(maps.Keys(o.Formats)) {
		p, err := lookup(name)
		if err != nil {
			return err
		}
		if pk, both := o.Packagings[name]; both {
			return OptionErrorf("--format: %s is given a format and a packaging (%s); give it one", name, pk)
		}
		fs := o.Formats[name]
		if len(fs) == 0 {
			return OptionErrorf("--format %s=: give the format for %s's nodes", name, name)
		}
		for _, f := range fs {
			if !p.Supports(f) {
				return OptionErrorf("--format %s=%s: profile %s does not read %s; it reads %s", name, f, name, f, profiles.JoinFormats(p.Formats))
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(o.Packagings)) {
		p, err := lookup(name)
		if err != nil {
			return err
		}
		pk := o.Packagings[name].info()
		if !pk.offered() {
			return OptionErrorf("--format %s=%s: no packaging --format offers; they are %s", name, pk.name, strings.Join(PackagingNames(), ", "))
		}
		if _, err := pk.formats(p); err != nil {
			return OptionErrorf("--format %s=%s: %v; %s's nodes take %s", name, pk.name, err, name, strings.Join(fitting(p), ", "))
		}
	}
	return nil
}

// fitting lists what --format can give a profile's nodes: the formats it
// reads and the packagings that carry one of them.
func fitting(p *profiles.Profile) []string {
	var out []string
	for _, f := range p.Formats {
		out = append(out, string(f))
	}
	for _, pk := range packagings {
		if _, err := (Options{Packaging: pk.name}).formats(p); pk.offered() && err == nil {
			out = append(out, string(pk.name))
		}
	}
	return out
}

// validateEncoding refuses an encoding that some node's config could not
// carry as it is shipped, for every packaging of the run at once.
func (o Options) validateEncoding(enc encode.Encoding) error {
	if o.Format.Source() {
		return OptionErrorf("--encode %s: Butane is source text for people, never shipped as it is; encode the ignition format", enc)
	}
	for _, name := range slices.Sorted(maps.Keys(o.Formats)) {
		if !slices.ContainsFunc(o.Formats[name], func(f profiles.Format) bool { return !f.Source() }) {
			return OptionErrorf("--encode %s: %s's nodes get Butane only, source text for people that is never shipped; encode the ignition format", enc, name)
		}
	}
	var errs []error
	for _, pk := range packagings {
		if !o.Uses(pk.name) {
			continue
		}
		err := pk.encodings(enc)
		if err != nil && !slices.ContainsFunc(errs, func(e error) bool { return e.Error() == err.Error() }) {
			errs = append(errs, err) // nocloud-iso and config-drive refuse alike
		}
	}
	return joined(errs)
}

// Uses reports whether the run ships some nodes by packaging p: p is
// Packaging, or some profile's in Packagings.
func (o Options) Uses(p Packaging) bool {
	return o.Packaging == p || slices.Contains(slices.Collect(maps.Values(o.Packagings)), p)
}

func anyEncoding(encode.Encoding) error { return nil }

// fileForCloudInit: an image holds user-data as a file, which cloud-init
// inflates if gzipped but never base64-decodes.
func fileForCloudInit(e encode.Encoding) error {
	if e.Base64Text() {
		return OptionErrorf("--encode %s: an image holds user-data as a file, which cloud-init does not base64-decode; use --encode gzip or none", e)
	}
	return nil
}

func noEncoding(why string) func(encode.Encoding) error {
	return func(e encode.Encoding) error {
		return OptionErrorf("--encode %s: %s; leave --encode out", e, why)
	}
}

// only is a packaging's format rule: it carries format f alone.
func only(f profiles.Format) func(*profiles.Profile) ([]profiles.Format, error) {
	return func(p *profiles.Profile) ([]profiles.Format, error) {
		if !p.Supports(f) {
			return nil, fmt.Errorf("profile %s does not read %s", p.Name, f)
		}
		return []profiles.Format{f}, nil
	}
}

// packFolders writes DIR/<node>/<file> for every artifact.
func packFolders(_ *cluster.Cluster, nodes []node, _ Options, res *Result) error {
	for _, n := range nodes {
		for i, a := range n.artifacts {
			path := n.Node.Name + "/" + a.Name
			res.addFile(path, a.data, a.Secret)
			if i == 0 {
				res.Primary[n.Node.Name] = path
			}
		}
	}
	return nil
}

// packNoCloudISO replaces each node's user-data, meta-data and
// network-config with one seed image holding them.
func packNoCloudISO(_ *cluster.Cluster, nodes []node, _ Options, res *Result) error {
	return packImages(nodes, res, "seed.iso", func(n node) ([]byte, error) {
		return seediso.Image(seediso.Seed{
			UserData:      n.files[render.Config],
			MetaData:      n.files[render.MetaData],
			NetworkConfig: n.files[render.NetworkConfig],
		})
	})
}

// packConfigDrive replaces each node's user-data and NoCloud documents
// with one config drive holding the user-data, its meta_data.json and,
// when cloud-init addresses the node, network_data.json.
func packConfigDrive(c *cluster.Cluster, nodes []node, _ Options, res *Result) error {
	return packImages(nodes, res, "config-drive.iso", func(n node) ([]byte, error) {
		userData := n.files[render.Config]
		var networkData []byte
		if s, ok := staticNIC(c, n.Node); ok {
			var err error
			if networkData, err = configdrive.NetworkData(s); err != nil {
				return nil, err
			}
		}
		return configdrive.Image(configdrive.Drive{
			UserData: userData,
			// The instance-id changes with the node's config, as NoCloud's.
			MetaData:    configdrive.MetaData(configdrive.Meta{UUID: nocloud.InstanceID(c.Name, n.Node.Name, userData, networkData), Name: n.Node.Name, Hostname: n.Node.Name}),
			NetworkData: networkData,
		})
	})
}

// packImages replaces each node's files with the one image image makes
// of them, DIR/<node>/<file>, the node's primary file.
func packImages(nodes []node, res *Result, file string, image func(node) ([]byte, error)) error {
	for _, n := range nodes {
		img, err := image(n)
		if err != nil {
			return fmt.Errorf("node %s: %w", n.Node.Name, err)
		}
		path := n.Node.Name + "/" + file
		res.addFile(path, img, n.secret)
		res.Primary[n.Node.Name] = path
	}
	return nil
}

// staticNIC is the node's static address when cloud-init applies it (its
// profile leaves the network to cloud-init), and false without one.
func staticNIC(c *cluster.Cluster, n *cluster.Node) (configdrive.Static, bool) {
	nw := c.Network
	if nw == nil || n.System == nil || n.System.Network != profiles.NetworkCloudInit {
		return configdrive.Static{}, false
	}
	return configdrive.Static{
		MAC: n.MAC, Name: nw.Interface, Address: netip.PrefixFrom(n.IP, nw.Prefix),
		Gateway: n.GatewayIn(nw), DNS: nw.DNS,
	}, true
}

// needStaticMACs: network_data.json finds a node's NIC by its MAC.
func needStaticMACs(c *cluster.Cluster, jobs []render.Job, _ Options) error {
	static := func(n *cluster.Node) bool { _, ok := staticNIC(c, n); return ok }
	if noMAC := withoutMAC(jobs, static); len(noMAC) > 0 {
		return fmt.Errorf("a config drive's network_data.json finds the NIC to address by its MAC: add `mac:` to %s in %s, or leave `network` out and the nodes take DHCP",
			strings.Join(noMAC, ", "), c.File)
	}
	return nil
}

// withoutMAC names the nodes that need a MAC (need nil: all) and have none.
func withoutMAC(jobs []render.Job, need func(*cluster.Node) bool) []string {
	var names []string
	for _, j := range jobs {
		if j.Node.MAC == "" && (need == nil || need(j.Node)) {
			names = append(names, j.Node.Name)
		}
	}
	return names
}

// packMatchbox lays the Ignition configs out as a matchbox data directory
// (profiles/, groups/, ignition/); every node must have a MAC to be
// selected by.
func packMatchbox(_ *cluster.Cluster, nodes []node, o Options, res *Result) error {
	machines := make([]matchbox.Machine, 0, len(nodes))
	for _, n := range nodes {
		machines = append(machines, matchbox.Machine{
			Name: n.Node.Name, MAC: n.Node.MAC, OS: n.Profile.Ignition.Variant,
			Ignition: n.files[render.Config],
		})
	}
	files, err := matchbox.Build(machines, o.Matchbox)
	if err != nil {
		return err
	}
	secret := map[string]bool{}
	for _, n := range nodes {
		secret["ignition/"+n.Node.Name+".ign"] = n.secret
	}
	for _, f := range files {
		res.addFile(f.Path, f.Data, secret[f.Path])
	}
	for _, m := range machines {
		res.Primary[m.Name] = "ignition/" + m.Name + ".ign"
	}
	if len(res.Secrets) > 0 {
		res.warn("the Ignition configs hold the nodes' private TLS keys, and matchbox serves them over plain HTTP to any machine that presents a node's MAC: keep matchbox on a network only the nodes reach, or serve it with TLS (its -cert-file/-key-file)")
	}
	return nil
}

// matchboxInputs names, in one error, everything matchbox still needs:
// its flags (a mistake on the command line, so an OptionError) and each
// node's MAC, by which it selects the machine (the description's).
func matchboxInputs(c *cluster.Cluster, jobs []render.Job, o Options) error {
	noMAC, oses := withoutMAC(jobs, nil), make([]string, 0, len(jobs))
	for _, j := range jobs {
		oses = append(oses, j.Node.System.Ignition.Variant)
	}
	missing := o.Matchbox.Missing(oses)
	if len(noMAC) > 0 {
		missing = append(missing, fmt.Sprintf("`mac:` on %s in %s (matchbox selects machines by MAC)", strings.Join(noMAC, ", "), c.File))
	}
	switch {
	case len(missing) == 0:
		return nil
	case len(missing) > 1 || len(noMAC) == 0:
		return OptionErrorf("matchbox needs %s", strings.Join(missing, "; and "))
	}
	return fmt.Errorf("matchbox needs %s", missing[0])
}

// VagrantOptions size the VMs and pick their boxes.
type VagrantOptions struct {
	Boxes  map[string]string // profile name -> box, over vagrant.DefaultBox
	Memory int               // MiB per VM; 0: Vagrant's default in the Vagrantfile (1024)
	CPUs   int               // 0: 1
}

func (v VagrantOptions) validate() error {
	if v.Memory != 0 && (v.Memory < vagrant.MinMemory || v.Memory > vagrant.MaxMemory) {
		return OptionErrorf("--memory %d: give %d-%d MiB", v.Memory, vagrant.MinMemory, vagrant.MaxMemory)
	}
	if v.CPUs != 0 && (v.CPUs < vagrant.MinCPUs || v.CPUs > vagrant.MaxCPUs) {
		return OptionErrorf("--cpus %d: give %d-%d", v.CPUs, vagrant.MinCPUs, vagrant.MaxCPUs)
	}
	for p := range v.Boxes {
		if _, ok := profiles.Lookup(p); !ok {
			return OptionErrorf("--box %s=...: unknown profile %q; profiles are %s", p, p, strings.Join(profiles.Names(), ", "))
		}
	}
	return nil
}

// packVagrant writes DIR/<node>/user-data, what libvirt hands the node
// (a NoCloud seed image beside a cloud-config, Flatcar's config.ign) and
// a Vagrantfile with one VM per node on the description's addresses.
func packVagrant(c *cluster.Cluster, nodes []node, o Options, res *Result) error {
	machines := make([]vagrant.Machine, 0, len(nodes))
	for _, n := range nodes {
		box, _ := o.Vagrant.box(n.Profile.Name)
		config := n.artifacts[0]
		path := n.Node.Name + "/" + config.Name
		res.addFile(path, config.data, config.Secret)
		res.Primary[n.Node.Name] = path
		m := vagrant.Machine{
			Name: n.Node.Name, IP: n.Node.IP.String(), Netmask: netmask(c.Network, n.Node.IP), Box: box.Name, BoxURL: box.URL,
			Format: config.Format, UserDataPath: path, Memory: o.Vagrant.Memory, CPUs: o.Vagrant.CPUs,
		}
		for _, a := range n.artifacts[1:] {
			if a.Kind == render.Config && a.Format == profiles.Ignition {
				m.IgnitionPath, m.FwCfg = n.Node.Name+"/"+a.Name, mustFwCfg(n.Profile)
				res.addFile(m.IgnitionPath, a.data, a.Secret)
			}
		}
		if config.Format == profiles.CloudConfig {
			img, err := seediso.Image(seediso.Seed{UserData: config.data, MetaData: n.files[render.MetaData]})
			if err != nil {
				return fmt.Errorf("node %s: %w", n.Node.Name, err)
			}
			m.SeedPath = n.Node.Name + "/seed.iso"
			res.addFile(m.SeedPath, img, config.Secret)
		}
		machines = append(machines, m)
	}
	vf, err := vagrant.Vagrantfile(machines)
	if err != nil {
		return err
	}
	res.Files["Vagrantfile"] = vf
	if w, ok := hostOnlyRange(c, nodes); ok {
		res.Warnings = append(res.Warnings, w)
	}
	return nil
}

func mustFwCfg(p *profiles.Profile) string {
	name, _ := vagrant.FwCfg(p) // FormatsFor gave Ignition only where there is one
	return name
}

// VirtualBox 6.1.28+ (Linux, macOS, Solaris) gives host-only adapters
// only addresses in 192.168.56.0/21 and IPv6 link-local ones, unless
// /etc/vbox/networks.conf lists other ranges.
var vboxHostOnly = []netip.Prefix{netip.MustParsePrefix("192.168.56.0/21"), netip.MustParsePrefix("fe80::/10")}

// hostOnlyRange warns, once, at the first node whose address VirtualBox
// refuses, with both ways out: the addresses, or networks.conf.
func hostOnlyRange(c *cluster.Cluster, nodes []node) (Warning, bool) {
	var outside []string
	var ranges []string
	first := -1
	for _, n := range nodes {
		ip := n.Node.IP
		if slices.ContainsFunc(vboxHostOnly, func(p netip.Prefix) bool { return p.Contains(ip) }) {
			continue
		}
		if first < 0 {
			first = slices.IndexFunc(c.Nodes, func(cn cluster.Node) bool { return cn.Name == n.Node.Name })
		}
		outside = append(outside, n.Node.Name)
		bits := 24 // Vagrant's netmask when the description gives none
		if ip.Is6() {
			bits = 64
		}
		if c.Network != nil {
			bits = c.Network.Prefix
		}
		if r := netip.PrefixFrom(ip, bits).Masked().String(); !slices.Contains(ranges, r) {
			ranges = append(ranges, r)
		}
	}
	if first < 0 {
		return Warning{}, false
	}
	more := ""
	if len(outside) > 1 {
		more = fmt.Sprintf(" and %d more node(s)", len(outside)-1)
	}
	return Warning{
		Path: fmt.Sprintf("$.nodes[%d].ip", first),
		Message: fmt.Sprintf("VirtualBox 6.1.28 and later (Linux, macOS) give host-only networks only addresses in 192.168.56.0/21 (IPv6: link-local), so `vagrant up` with VirtualBox stops on %s's %s%s: "+
			"\"The IP address configured for the host-only network is not within the allowed ranges\". Either give the nodes addresses in 192.168.56.0/21, "+
			"or allow theirs on the host with a line in /etc/vbox/networks.conf: `* %s` (`* 10.0.0.0/8 192.168.0.0/16` allows every private IPv4 range). libvirt has no such limit",
			c.Nodes[first].Name, c.Nodes[first].IP, more, strings.Join(ranges, " ")),
	}, true
}

// box is the Vagrant box for a profile's nodes: --box, else the default.
func (v VagrantOptions) box(profile string) (vagrant.Box, bool) {
	if b, ok := v.Boxes[profile]; ok {
		return vagrant.Box{Name: b}, true
	}
	b, _ := vagrant.DefaultBox(profile)
	return b, b.Name != ""
}

// needBoxes: every node's profile needs a box, given or by default. A
// node with a config per provider (Flatcar: coreos-cloudconfig under
// VirtualBox, Ignition under libvirt) needs its snippets in each.
func needBoxes(c *cluster.Cluster, jobs []render.Job, o Options) error {
	for _, j := range jobs {
		name := j.Node.System.Name
		if _, ok := o.Vagrant.box(name); !ok {
			return fmt.Errorf("node %s: no default Vagrant box for profile %s; pass --box %s=BOX", j.Node.Name, name, name)
		}
		for _, f := range j.Formats {
			if err := render.CheckJobs(c, []render.Job{{Node: j.Node, Formats: []profiles.Format{f}}}); len(j.Formats) > 1 && err != nil {
				return err
			}
		}
	}
	return nil
}

// netmask is the private network's mask in Vagrant's terms: dotted for
// IPv4, the prefix length for IPv6; "" without a static network.
func netmask(nw *cluster.Network, ip netip.Addr) string {
	if nw == nil {
		return ""
	}
	if ip.Is6() {
		return strconv.Itoa(nw.Prefix)
	}
	return net.IP(net.CIDRMask(nw.Prefix, 32)).String()
}

package vagrant

import (
	"encoding/json"
	"html"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/swarmboot/swarmboot/internal/testutil"
	"github.com/swarmboot/swarmboot/profiles"
)

func seedMachines() []Machine {
	flatcar, _ := DefaultBox("flatcar")
	return []Machine{
		{Name: "etcd-01", IP: "192.168.101.101", Box: "ubuntu/jammy64", Format: "cloud-config", UserDataPath: "etcd-01/user-data", SeedPath: "etcd-01/seed.iso"},
		{Name: "docker-01", IP: "192.168.101.111", Box: flatcar.Name, BoxURL: flatcar.URL, Format: "coreos-cloudconfig",
			UserDataPath: "docker-01/user-data", IgnitionPath: "docker-01/config.ign", FwCfg: "opt/org.flatcar-linux/config", Memory: 2048, CPUs: 2},
	}
}

const wantSeed = `# -*- mode: ruby -*-
# vi: set ft=ruby :
#
# Written by swarmboot: change the cluster description and regenerate
# rather than editing this file.

# etcd-01 get their user-data through Vagrant's cloud_init under VirtualBox,
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

# libvirt's QEMU opens the seed images and Ignition configs by absolute
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

Vagrant.configure("2") do |config|
  config.vm.define 'etcd-01' do |node|
    node.vm.box = 'ubuntu/jammy64'
    node.vm.hostname = 'etcd-01'
    node.vm.network "private_network", ip: '192.168.101.101'
    node.vm.provider "virtualbox" do |vb|
      vb.memory = 1024
      vb.cpus = 1
    end
    node.vm.provider "libvirt" do |lv|
      lv.memory = 1024
      lv.cpus = 1
      lv.storage :file, device: :cdrom, path: libvirt_path.('etcd-01/seed.iso')
    end
    node.vm.cloud_init content_type: "text/cloud-config", path: 'etcd-01/user-data'
  end

  config.vm.define 'docker-01' do |node|
    node.vm.box = 'flatcar-stable'
    node.vm.box_url = 'https://stable.release.flatcar-linux.net/amd64-usr/current/flatcar_production_vagrant.json'
    node.vm.hostname = 'docker-01'
    node.vm.network "private_network", ip: '192.168.101.111'
    node.ssh.insert_key = false
    node.vm.synced_folder ".", "/vagrant", disabled: true
    node.vm.provider "virtualbox" do |vb, override|
      vb.memory = 2048
      vb.cpus = 2
      vb.check_guest_additions = false
      vb.functional_vboxsf = false
      override.vm.provision "file", source: 'docker-01/user-data', destination: "/tmp/vagrantfile-user-data"
      override.vm.provision "shell", privileged: true,
        inline: "mkdir -p /var/lib/coreos-vagrant/ && mv /tmp/vagrantfile-user-data /var/lib/coreos-vagrant/"
    end
    node.vm.provider "libvirt" do |lv|
      lv.memory = 2048
      lv.cpus = 2
      lv.qemuargs value: "-fw_cfg"
      lv.qemuargs value: 'name=opt/org.flatcar-linux/config,file=' + libvirt_path.('docker-01/config.ign', fw_cfg: true)
    end
  end
end
`

func TestVagrantfileGolden(t *testing.T) {
	got, err := Vagrantfile(seedMachines())
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != wantSeed {
		t.Errorf("Vagrantfile:\n%s\nwant:\n%s", got, wantSeed)
	}
	// Without cloud-config machines there is nothing to guard.
	only, err := Vagrantfile(seedMachines()[1:])
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(only), "VAGRANT_EXPERIMENTAL") {
		t.Error("guard written for a Vagrantfile without cloud_init")
	}
}

func TestDefaultBox(t *testing.T) {
	for profile, want := range map[string]string{"ubuntu": "ubuntu/jammy64", "debian": "debian/bookworm64", "debian-13": "debian/trixie64", "debian-14": "debian/testing64", "flatcar": "flatcar-stable", "coreos": "coreos-stable"} {
		if b, ok := DefaultBox(profile); !ok || b.Name != want {
			t.Errorf("DefaultBox(%s) = %v, %v; want %s", profile, b, ok, want)
		}
	}
	if _, ok := DefaultBox("fcos"); ok {
		t.Error("DefaultBox(fcos) found a box; FCOS has no Vagrant delivery")
	}
}

func TestVagrantfileRejects(t *testing.T) {
	with := func(f func(*Machine)) []Machine {
		ms := seedMachines()
		f(&ms[0])
		return ms
	}
	tests := []struct {
		name string
		ms   []Machine
		want string
	}{
		{"none", nil, "no machines"},
		{"quote in name", with(func(m *Machine) { m.Name = "etcd'01" }), "machine name"},
		{"duplicate name", with(func(m *Machine) { m.Name = "docker-01" }), "listed twice"},
		{"bad IP", with(func(m *Machine) { m.IP = "192.168.101" }), "not an IP address"},
		{"shared IP", with(func(m *Machine) { m.IP = "192.168.101.111" }), "share IP"},
		{"no box", with(func(m *Machine) { m.Box = "" }), "needs a box"},
		{"newline in path", with(func(m *Machine) { m.UserDataPath = "a\nb" }), "control character"},
		{"ignition", with(func(m *Machine) { m.Format = "ignition" }), "no Vagrant delivery"},
		{"unknown format", with(func(m *Machine) { m.Format = "kickstart" }), "unknown format"},
		{"negative memory", with(func(m *Machine) { m.Memory = -1 }), "give 256-1048576 MiB"},
		{"huge memory", with(func(m *Machine) { m.Memory = 99999999999 }), "give 256-1048576 MiB"},
		{"no CPUs", with(func(m *Machine) { m.CPUs = -1 }), "1-64 CPUs"},
		{"bad netmask", with(func(m *Machine) { m.Netmask = "255.255.0.0'" }), "neither dotted nor a prefix length"},
		{"cloud-config without a seed", with(func(m *Machine) { m.SeedPath = "" }), "needs a seed image"},
		{"cloud-config with Ignition", with(func(m *Machine) { m.IgnitionPath, m.FwCfg = "a.ign", "opt/a" }), "no Ignition config"},
		{"Ignition without its fw_cfg name", func() []Machine { ms := seedMachines(); ms[1].FwCfg = ""; return ms }(), "needs its fw_cfg name"},
		{"fw_cfg name QEMU would split", func() []Machine { ms := seedMachines(); ms[1].FwCfg = "opt/a,file=/etc/shadow"; return ms }(), "needs its fw_cfg name"},
		{"coreos-cloudconfig with a seed", func() []Machine { ms := seedMachines(); ms[1].SeedPath = "s.iso"; return ms }(), "has no NoCloud seed"},
	}
	for _, tt := range tests {
		if _, err := Vagrantfile(tt.ms); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error = %v, want %q", tt.name, err, tt.want)
		}
	}
}

// oddFolder is a folder name holding what XML, Ruby and QEMU's option
// syntax read as syntax.
const oddFolder = `o'brien & "co", <env> #{x}`

// writeEnv writes a Vagrantfile and the files it names into a new folder
// named oddFolder.
func writeEnv(t *testing.T, ms []Machine) string {
	t.Helper()
	vf, err := Vagrantfile(ms)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), oddFolder)
	for _, m := range ms {
		for _, rel := range []string{m.UserDataPath, m.SeedPath, m.IgnitionPath} {
			if rel == "" {
				continue
			}
			p := filepath.Join(dir, rel)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte("#cloud-config\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "Vagrantfile"), vf, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestRubySyntax(t *testing.T) {
	ruby := testutil.NeedTool(t, "ruby", "ruby")
	dir := writeEnv(t, seedMachines())
	out, err := exec.Command(ruby, "-c", filepath.Join(dir, "Vagrantfile")).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "Syntax OK" {
		t.Fatalf("ruby -c: %v\n%s", err, out)
	}
}

// stubVagrant runs a Vagrantfile against a stand-in Vagrant that records
// every setting as JSON: what Ruby actually evaluates, not just its syntax.
const stubVagrant = `
require "json"
$calls = []
class Rec
  def initialize(path) = @path = path
  def respond_to_missing?(*) = true
  def method_missing(name, *args, **kw, &blk)
    n = name.to_s
    return $calls << [(@path + [n.chomp("=")]).join("."), args[0]] if n.end_with?("=")
    return Rec.new(@path + [n]) if args.empty? && kw.empty? && !blk
    $calls << [(@path + [n]).join("."), args, kw]
    # A provider block's second argument is its config override.
    blk&.call(Rec.new(@path + [n, args[0].to_s]), Rec.new(@path + [n, args[0].to_s, "override"]))
  end
end
module Vagrant
  VERSION = ENV.fetch("STUB_VAGRANT_VERSION")
  def self.configure(_v) = yield(Rec.new([]))
end
load ARGV[0]
puts JSON.generate($calls)
`

func runStub(t *testing.T, ruby, dir, version string, env []string, args ...string) (calls [][]any, out string, err error) {
	t.Helper()
	stub := filepath.Join(t.TempDir(), "stub.rb")
	if err := os.WriteFile(stub, []byte(stubVagrant), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(ruby, append([]string{stub, filepath.Join(dir, "Vagrantfile")}, args...)...)
	cmd.Env = append(os.Environ(), "VAGRANT_EXPERIMENTAL=", "VAGRANT_DEFAULT_PROVIDER=", "STUB_VAGRANT_VERSION="+version)
	cmd.Env = append(cmd.Env, env...)
	b, err := cmd.CombinedOutput()
	if err == nil {
		if jerr := json.Unmarshal(b, &calls); jerr != nil {
			t.Fatalf("stub output is not JSON: %v\n%s", jerr, b)
		}
	}
	return calls, string(b), err
}

func TestRubyValues(t *testing.T) {
	ruby := testutil.NeedTool(t, "ruby", "ruby")
	ms := seedMachines()
	// Strings that would break or inject into a double-quoted literal.
	ms[0].Box = `evil'box\" #{system("false")}`
	ms[0].UserDataPath = `it's #{here}\user-data`
	calls, out, err := runStub(t, ruby, writeEnv(t, ms), "2.4.7", nil)
	if err != nil {
		t.Fatalf("stub run: %v\n%s", err, out)
	}
	set := map[string]any{}
	for _, c := range calls {
		if len(c) == 2 {
			set[c[0].(string)] = c[1]
		}
		if c[0] == "vm.define.etcd-01.vm.cloud_init" {
			set["cloud_init"] = c[2]
		}
	}
	for k, want := range map[string]any{
		"vm.define.etcd-01.vm.box":                          ms[0].Box,
		"vm.define.etcd-01.vm.hostname":                     "etcd-01",
		"vm.define.docker-01.vm.box_url":                    ms[1].BoxURL,
		"vm.define.docker-01.vm.provider.virtualbox.memory": 2048.0,
	} {
		if set[k] != want {
			t.Errorf("%s = %#v, want %#v", k, set[k], want)
		}
	}
	ci, _ := set["cloud_init"].(map[string]any)
	if ci["path"] != ms[0].UserDataPath || ci["content_type"] != "text/cloud-config" {
		t.Errorf("cloud_init options = %#v", set["cloud_init"])
	}
	// What libvirt gets: absolute paths, escaped for the domain XML
	// (and, in -fw_cfg, commas doubled for QEMU).
	var storage, qemu []any
	for _, c := range calls {
		switch c[0] {
		case "vm.define.etcd-01.vm.provider.libvirt.storage":
			storage = c
		case "vm.define.docker-01.vm.provider.libvirt.qemuargs":
			qemu = append(qemu, c[2].(map[string]any)["value"])
		case "vm.define.docker-01.vm.provision":
			t.Errorf("docker-01's provisioners run under libvirt too: %v", c)
		}
	}
	kw, _ := storage[2].(map[string]any)
	path, _ := kw["path"].(string)
	if kw["device"] != "cdrom" || storage[1].([]any)[0] != "file" || !strings.HasSuffix(html.UnescapeString(path), "/"+oddFolder+"/etcd-01/seed.iso") || strings.ContainsAny(path, `'"<>`) {
		t.Errorf("libvirt.storage %v", storage)
	}
	if len(qemu) != 2 || qemu[0] != "-fw_cfg" {
		t.Fatalf("libvirt.qemuargs %v", qemu)
	}
	arg := html.UnescapeString(qemu[1].(string))
	if want := "/" + strings.ReplaceAll(oddFolder, ",", ",,") + "/docker-01/config.ign"; !strings.HasPrefix(arg, "name=opt/org.flatcar-linux/config,file=/") || !strings.HasSuffix(arg, want) || strings.ContainsAny(qemu[1].(string), `'"<>`) {
		t.Errorf("fw_cfg argument %q (read back %q), want one ending in %q", qemu[1], arg, want)
	}
	var provisioners []string
	for _, c := range calls {
		if c[0] == "vm.define.docker-01.vm.provider.virtualbox.override.vm.provision" {
			provisioners = append(provisioners, c[1].([]any)[0].(string))
		}
	}
	if !slices.Equal(provisioners, []string{"file", "shell"}) {
		t.Errorf("docker-01's VirtualBox provisioners: %v", provisioners)
	}
}

func TestRubyGuard(t *testing.T) {
	ruby := testutil.NeedTool(t, "ruby", "ruby")
	dir := writeEnv(t, seedMachines())
	tests := []struct {
		version string
		env     []string
		args    []string
		stops   bool
	}{
		{"2.3.4", nil, nil, true},
		{"2.3.4", []string{"VAGRANT_EXPERIMENTAL=disks"}, nil, true},
		{"2.3.4", []string{"VAGRANT_EXPERIMENTAL=cloud_init,disks"}, nil, false},
		{"2.3.4", []string{"VAGRANT_EXPERIMENTAL=1"}, nil, false},
		{"2.4.7", nil, nil, false},
		// libvirt attaches the seed images itself: no flag needed.
		{"2.3.4", []string{"VAGRANT_DEFAULT_PROVIDER=libvirt"}, nil, false},
		{"2.3.4", nil, []string{"up", "--provider", "libvirt"}, false},
		{"2.3.4", nil, []string{"up", "--provider=libvirt"}, false},
		{"2.3.4", nil, []string{"up", "--provider", "virtualbox"}, true},
		{"2.3.4", []string{"VAGRANT_DEFAULT_PROVIDER=libvirt"}, []string{"up", "--provider=virtualbox"}, true},
	}
	for _, tt := range tests {
		_, out, err := runStub(t, ruby, dir, tt.version, tt.env, tt.args...)
		if stopped := err != nil; stopped != tt.stops {
			t.Errorf("Vagrant %s, %v %v: stopped=%v, want %v\n%s", tt.version, tt.env, tt.args, stopped, tt.stops, out)
		}
		if tt.stops && !strings.Contains(out, "VAGRANT_EXPERIMENTAL=cloud_init,disks") {
			t.Errorf("guard message lacks the fix:\n%s", out)
		}
	}
}

// vagrant validate checks the cloud_init and file provisioner settings,
// including that each user-data file exists; --ignore-provider lets it run
// without VirtualBox.
func TestVagrantValidate(t *testing.T) {
	vagrant := testutil.NeedTool(t, "vagrant", "vagrant")
	dir := writeEnv(t, seedMachines())
	validate := func(experimental string) (string, error) {
		cmd := exec.Command(vagrant, "validate", "--ignore-provider")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "VAGRANT_EXPERIMENTAL="+experimental, "VAGRANT_HOME="+filepath.Join(dir, ".vagrant.d"))
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := validate("cloud_init,disks"); err != nil || !strings.Contains(out, "Vagrantfile validated successfully") {
		t.Fatalf("vagrant validate: %v\n%s", err, out)
	}
	if err := os.Remove(filepath.Join(dir, "etcd-01/user-data")); err != nil {
		t.Fatal(err)
	}
	if out, err := validate("cloud_init,disks"); err == nil || !strings.Contains(out, "etcd-01/user-data") {
		t.Errorf("vagrant validate accepted a missing user-data file: %v\n%s", err, out)
	}
}

// needLibvirtPlugin: the libvirt provider's checks need Debian's
// vagrant-libvirt plugin (no libvirt daemon).
func needLibvirtPlugin(t *testing.T, vagrant, home string) {
	t.Helper()
	cmd := exec.Command(vagrant, "plugin", "list")
	cmd.Env = append(os.Environ(), "VAGRANT_HOME="+home)
	out, _ := cmd.CombinedOutput()
	if !strings.Contains(string(out), "vagrant-libvirt") {
		if testutil.InCI() {
			t.Fatalf("vagrant-libvirt not installed; CI must install Debian's vagrant-libvirt (scripts/install-deps.sh):\n%s", out)
		}
		t.Skipf("vagrant-libvirt not installed (Debian package vagrant-libvirt; scripts/install-deps.sh)")
	}
}

// vagrant validate with the libvirt provider runs vagrant-libvirt's own
// config checks on the Vagrantfile: no libvirt daemon, no VirtualBox, and
// no VAGRANT_EXPERIMENTAL (cloud_init is VirtualBox's).
func TestVagrantValidateLibvirt(t *testing.T) {
	vagrant := testutil.NeedTool(t, "vagrant", "vagrant")
	dir := writeEnv(t, seedMachines())
	home := filepath.Join(t.TempDir(), "vagrant.d")
	needLibvirtPlugin(t, vagrant, home)
	validate := func() (string, error) {
		cmd := exec.Command(vagrant, "validate")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "VAGRANT_DEFAULT_PROVIDER=libvirt", "VAGRANT_EXPERIMENTAL=", "VAGRANT_HOME="+home)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := validate(); err != nil || !strings.Contains(out, "Vagrantfile validated successfully") {
		t.Fatalf("vagrant validate (libvirt): %v\n%s", err, out)
	}
	// It does read the libvirt block: an option vagrant-libvirt rejects fails.
	vf := filepath.Join(dir, "Vagrantfile")
	data, err := os.ReadFile(vf)
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(data), "      lv.cpus = 1\n", "      lv.cpus = 1\n      lv.qemu_use_agent = 'yes'\n", 1)
	if err := os.WriteFile(vf, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := validate(); err == nil || !strings.Contains(out, "qemu_use_agent must be a boolean") {
		t.Errorf("vagrant validate (libvirt) accepted a bad libvirt option: %v\n%s", err, out)
	}
}

// libvirtDomain has the real Vagrant load the Vagrantfile for the libvirt
// provider (vagrant-libvirt's own config class), fills vagrant-libvirt's
// own domain XML template's cdrom and qemu:commandline parts with what it
// compiled, and reads the XML back as libvirt would: per machine, the
// cdrom files and QEMU arguments.
const libvirtDomain = `
require "vagrant"
require "json"
require "erb"
require "rexml/document"
env = Vagrant::Environment.new(cwd: ARGV[0], home_path: ARGV[1])
dir = Gem::Specification.find_by_name("vagrant-libvirt").gem_dir
tmpl = File.read(File.join(dir, "lib/vagrant-libvirt/templates/domain.xml.erb"))
cdroms = tmpl[/^<%- @cdroms.each do .*?^<%- end -%>\n/m] or abort "no cdrom part in the template"
qemu = tmpl[/^<%- if not @qemu_args.empty\? .*?^<%- end -%>\n/m] or abort "no qemu:commandline part in the template"
part = ERB.new("<domain xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>\n" + cdroms + qemu + "</domain>\n", trim_mode: "-")
out = {}
env.machine_names.each do |name|
  lv = env.vagrantfile.machine_config(name, :libvirt, env.boxes)[:config].vm.get_provider_config(:libvirt)
  @cdroms, @qemu_args, @qemu_env = lv.cdroms, lv.qemu_args, {}
  xml = REXML::Document.new(part.result(binding))
  out[name] = {
    "cdroms" => REXML::XPath.match(xml, "//disk/source").map { |e| e.attributes["file"] },
    "qemu" => REXML::XPath.match(xml, "//qemu:arg").map { |e| e.attributes["value"] },
  }
end
puts JSON.generate(out)
`

func TestLibvirtDomain(t *testing.T) {
	ruby := testutil.NeedTool(t, "ruby", "ruby")
	vagrant := testutil.NeedTool(t, "vagrant", "vagrant")
	dir := writeEnv(t, seedMachines())
	home := filepath.Join(t.TempDir(), "vagrant.d")
	needLibvirtPlugin(t, vagrant, home)
	script := filepath.Join(t.TempDir(), "domain.rb")
	if err := os.WriteFile(script, []byte(libvirtDomain), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(ruby, script, dir, home)
	cmd.Env = append(os.Environ(), "VAGRANT_DEFAULT_PROVIDER=libvirt", "VAGRANT_EXPERIMENTAL=")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var got map[string]struct{ CDROMs, QEMU []string }
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	want := map[string]struct{ CDROMs, QEMU []string }{
		"etcd-01": {CDROMs: []string{filepath.Join(dir, "etcd-01/seed.iso")}, QEMU: []string{}},
		"docker-01": {CDROMs: []string{}, QEMU: []string{"-fw_cfg",
			"name=opt/org.flatcar-linux/config,file=" + strings.ReplaceAll(filepath.Join(dir, "docker-01/config.ign"), ",", ",,")}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("libvirt's domain (-want +got):\n%s", diff)
	}
}

func TestFormatsFor(t *testing.T) {
	for profile, want := range map[string]string{
		"ubuntu": "cloud-config", "debian-12": "cloud-config", "coreos": "coreos-cloudconfig",
		// Flatcar: coreos-cloudconfig under VirtualBox, Ignition under libvirt.
		"flatcar": "coreos-cloudconfig, ignition",
	} {
		p, _ := profiles.Lookup(profile)
		fs, err := FormatsFor(p)
		if err != nil || profiles.JoinFormats(fs) != want {
			t.Errorf("FormatsFor(%s) = %v, %v; want %s", profile, fs, err, want)
		}
	}
	flatcar, _ := profiles.Lookup("flatcar")
	if name, ok := FwCfg(flatcar); !ok || name != "opt/org.flatcar-linux/config" {
		t.Errorf("Flatcar's fw_cfg entry: %q, %v", name, ok)
	}
	fcos, _ := profiles.Lookup("fcos")
	if _, err := FormatsFor(fcos); err == nil || !strings.Contains(err.Error(), "cannot deliver") {
		t.Errorf("FormatsFor(fcos): %v", err)
	}
}

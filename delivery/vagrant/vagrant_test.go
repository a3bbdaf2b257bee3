package vagrant

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/swarmboot/swarmboot/internal/testutil"
)

func seedMachines() []Machine {
	flatcar, _ := DefaultBox("flatcar")
	return []Machine{
		{Name: "etcd-01", IP: "192.168.101.101", Box: "ubuntu/jammy64", Format: "cloud-config", UserDataPath: "etcd-01/user-data"},
		{Name: "docker-01", IP: "192.168.101.111", Box: flatcar.Name, BoxURL: flatcar.URL, Format: "coreos-cloudconfig",
			UserDataPath: "docker-01/user-data", Memory: 2048, CPUs: 2},
	}
}

const wantSeed = `# -*- mode: ruby -*-
# vi: set ft=ruby :
#
# Written by swarmboot: change the cluster description and regenerate
# rather than editing this file.

# etcd-01 get their user-data through Vagrant's cloud_init, which
# Vagrant before 2.4.7 ignores unless the experimental flag is set.
if Gem::Version.new(Vagrant::VERSION) < Gem::Version.new("2.4.7") &&
   (ENV.fetch("VAGRANT_EXPERIMENTAL", "").split(",").map(&:strip) & ["1", "cloud_init"]).empty?
  abort "swarmboot: Vagrant #{Vagrant::VERSION} ignores cloud_init user-data unless " \
        "VAGRANT_EXPERIMENTAL=cloud_init,disks is set; run: VAGRANT_EXPERIMENTAL=cloud_init,disks vagrant ..."
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
    node.vm.cloud_init content_type: "text/cloud-config", path: 'etcd-01/user-data'
  end

  config.vm.define 'docker-01' do |node|
    node.vm.box = 'flatcar-stable'
    node.vm.box_url = 'https://stable.release.flatcar-linux.net/amd64-usr/current/flatcar_production_vagrant.json'
    node.vm.hostname = 'docker-01'
    node.vm.network "private_network", ip: '192.168.101.111'
    node.ssh.insert_key = false
    node.vm.synced_folder ".", "/vagrant", disabled: true
    node.vm.provider "virtualbox" do |vb|
      vb.memory = 2048
      vb.cpus = 2
      vb.check_guest_additions = false
      vb.functional_vboxsf = false
    end
    node.vm.provision "file", source: 'docker-01/user-data', destination: "/tmp/vagrantfile-user-data"
    node.vm.provision "shell", privileged: true,
      inline: "mkdir -p /var/lib/coreos-vagrant/ && mv /tmp/vagrantfile-user-data /var/lib/coreos-vagrant/"
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
	for profile, want := range map[string]string{"ubuntu": "ubuntu/jammy64", "debian": "debian/bookworm64", "flatcar": "flatcar-stable", "coreos": "coreos-stable"} {
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
	}
	for _, tt := range tests {
		if _, err := Vagrantfile(tt.ms); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error = %v, want %q", tt.name, err, tt.want)
		}
	}
}

// writeEnv writes a Vagrantfile and the user-data files it names.
func writeEnv(t *testing.T, ms []Machine) string {
	t.Helper()
	vf, err := Vagrantfile(ms)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, m := range ms {
		p := filepath.Join(dir, m.UserDataPath)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("#cloud-config\n"), 0o644); err != nil {
			t.Fatal(err)
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
    blk&.call(Rec.new(@path + [n, args[0].to_s]))
  end
end
module Vagrant
  VERSION = ENV.fetch("STUB_VAGRANT_VERSION")
  def self.configure(_v) = yield(Rec.new([]))
end
load ARGV[0]
puts JSON.generate($calls)
`

func runStub(t *testing.T, ruby, dir, version, experimental string) (calls [][]any, out string, err error) {
	t.Helper()
	stub := filepath.Join(dir, "stub.rb")
	if err := os.WriteFile(stub, []byte(stubVagrant), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(ruby, stub, filepath.Join(dir, "Vagrantfile"))
	cmd.Env = append(os.Environ(), "STUB_VAGRANT_VERSION="+version, "VAGRANT_EXPERIMENTAL="+experimental)
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
	calls, out, err := runStub(t, ruby, writeEnv(t, ms), "2.4.7", "")
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
}

func TestRubyGuard(t *testing.T) {
	ruby := testutil.NeedTool(t, "ruby", "ruby")
	dir := writeEnv(t, seedMachines())
	tests := []struct {
		version, experimental string
		stops                 bool
	}{
		{"2.3.4", "", true},
		{"2.3.4", "disks", true},
		{"2.3.4", "cloud_init,disks", false},
		{"2.3.4", "1", false},
		{"2.4.7", "", false},
	}
	for _, tt := range tests {
		_, out, err := runStub(t, ruby, dir, tt.version, tt.experimental)
		if stopped := err != nil; stopped != tt.stops {
			t.Errorf("Vagrant %s, VAGRANT_EXPERIMENTAL=%q: stopped=%v, want %v\n%s", tt.version, tt.experimental, stopped, tt.stops, out)
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

package boottest

import (
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/swarmboot/swarmboot/cluster"
	"github.com/swarmboot/swarmboot/profiles"
)

// The testdata answers were captured from a booted boot cluster.

func TestParseSwarmInfo(t *testing.T) {
	b, err := os.ReadFile("testdata/swarm-info.json")
	if err != nil {
		t.Fatal(err)
	}
	nodes, version, err := ParseSwarmInfo(string(b))
	if err != nil {
		t.Fatal(err)
	}
	if version != "swarm/1.2.9" {
		t.Errorf("ServerVersion %q", version)
	}
	want := []SwarmNode{
		{Name: "node-1", Addr: "10.77.0.11:2375", Status: "Healthy"},
		{Name: "node-2", Addr: "10.77.0.12:2375", Status: "Healthy"},
		{Name: "node-3", Addr: "10.77.0.13:2375", Status: "Healthy"},
	}
	if !slices.Equal(nodes, want) {
		t.Errorf("nodes\n got %v\nwant %v", nodes, want)
	}
}

func TestParseRegistrations(t *testing.T) {
	b, err := os.ReadFile("testdata/etcd-v2-nodes.json")
	if err != nil {
		t.Fatal(err)
	}
	regs, err := ParseRegistrations(string(b))
	if err != nil {
		t.Fatal(err)
	}
	if len(regs) != 3 || regs["10.77.0.12:2375"].CreatedIndex != 19 {
		t.Errorf("registrations %v", regs)
	}
	none, err := ParseRegistrations(`{"errorCode":100,"message":"Key not found","cause":"/swarm","index":11}`)
	if err != nil || len(none) != 0 {
		t.Errorf("missing key: %v, %v", none, err)
	}
	if _, err := ParseRegistrations(`{"errorCode":300,"message":"Raft Internal Error"}`); err == nil {
		t.Error("an etcd error passed for an empty listing")
	}
}

func TestFailedUnits(t *testing.T) {
	journal := []string{
		"[  110.06] systemd[1]: cloud-config.service: Failed with result 'exit-code'.",
		"[  110.10] systemd[1]: Failed to start cloud-config.service - Apply the settings specified in cloud-config.",
		"[  120.00] systemd[1]: swarm-join.service: Main process exited, code=exited, status=1/FAILURE",
		"[  121.00] systemd[1]: docker.service: Deactivated successfully.",
	}
	got := FailedUnits(journal)
	if want := []string{"cloud-config.service", "swarm-join.service"}; !slices.Equal(got, want) {
		t.Errorf("FailedUnits = %v, want %v", got, want)
	}
}

func TestDescriptionHostAddr(t *testing.T) {
	d, err := LoadDescription("testdata/cluster.yaml")
	if err != nil {
		t.Fatal(err)
	}
	host, err := d.HostAddr()
	if err != nil {
		t.Fatal(err)
	}
	if host != netip.MustParsePrefix("10.77.0.1/24") {
		t.Errorf("host address %s", host)
	}
	if m := d.Manager(); m == nil || m.Name != "node-1" {
		t.Errorf("manager %v", m)
	}
}

// The plain descriptions keep plain http and no client files; the TLS one
// (docker29.yaml, swarmboot's defaults) gets https, the engine on 2376 and
// the operator's client files for curl and etcdctl.
func TestCheckerSchemes(t *testing.T) {
	for _, tc := range []struct {
		file                   string
		etcd, engine, manager  string
		etcdFlags, engineFlags bool
	}{
		{"testdata/cluster.yaml", "http://10.77.0.12:2379", "http://10.77.0.12:2375", "http://10.77.0.11:8333", false, false},
		{"testdata/docker29.yaml", "https://10.77.0.12:2379", "https://10.77.0.12:2376", "https://10.77.0.11:8333", true, true},
	} {
		d, err := LoadDescription(tc.file)
		if err != nil {
			t.Fatal(err)
		}
		c := &Checker{Desc: d, Client: "/pki/client"}
		n := d.Nodes[1]
		if got := c.etcdURL(n); got != tc.etcd {
			t.Errorf("%s: etcd URL %s, want %s", tc.file, got, tc.etcd)
		}
		if got := c.EngineURL(n); got != tc.engine {
			t.Errorf("%s: engine URL %s, want %s", tc.file, got, tc.engine)
		}
		if got := c.ManagerURL(); got != tc.manager {
			t.Errorf("%s: manager URL %s, want %s", tc.file, got, tc.manager)
		}
		want := []string{"--cacert", "/pki/client/ca.pem", "--cert", "/pki/client/cert.pem", "--key", "/pki/client/key.pem"}
		for _, f := range []struct {
			what string
			on   bool
			got  []string
		}{{"etcd", tc.etcdFlags, c.tlsFlags(d.Etcd.TLS)}, {"engine", tc.engineFlags, c.tlsFlags(d.Docker.TLS)}} {
			if f.on && !slices.Equal(f.got, want) || !f.on && f.got != nil {
				t.Errorf("%s: %s client flags %v", tc.file, f.what, f.got)
			}
		}
	}
}

// The Ignition fixtures: a config swarmboot rendered for Flatcar and the
// agent's "[finished]" lines from the console of the VM that applied it.
func TestIgnitionLog(t *testing.T) {
	ops, err := IgnitionOps("testdata/ignition-config.ign")
	if err != nil {
		t.Fatal(err)
	}
	if len(ops) != 10 { // 2 files, 2 units, 2 drop-ins, 4 enabled
		t.Errorf("%d ops: %v", len(ops), ops)
	}
	lines := readLines("testdata/ignition-console.log")
	if err := CheckIgnitionLog(lines, ops); err != nil {
		t.Fatal(err)
	}
	var without []string
	for _, l := range lines {
		if !strings.Contains(l, "docker.service.d/20-swarmboot-tcp.conf") {
			without = append(without, l)
		}
	}
	err = CheckIgnitionLog(without, ops)
	if err == nil || !strings.Contains(err.Error(), "docker.service.d/20-swarmboot-tcp.conf") {
		t.Errorf("a missing drop-in went unnoticed: %v", err)
	}
	if err := CheckIgnitionLog(lines[:len(lines)-1], ops); err == nil {
		t.Error("a missing success marker went unnoticed")
	}
}

// `docker info` (CLI 28) against the swarm manager prints its SystemStatus
// as "label: value" lines.
func TestParseDockerInfoNodes(t *testing.T) {
	info := `Client:
 Version:    28.2.2
 Context:    default

Server:
 Containers: 4
 Server Version: swarm/1.2.9
 Role: primary
 Strategy: spread
 Nodes: 2
  node-1: 10.77.0.11:2376
   └ ID: 44PO:DM74|10.77.0.11:2376
   └ Status: Healthy
   └ Containers: 2 (2 Running, 0 Paused, 0 Stopped)
  node-2: 10.77.0.12:2376
   └ Status: Pending
   └ Error: client version 1.31 is too old
 Name: 1234abcd
`
	got := ParseDockerInfoNodes(info)
	want := []SwarmNode{
		{Name: "node-1", Addr: "10.77.0.11:2376", Status: "Healthy"},
		{Name: "node-2", Addr: "10.77.0.12:2376", Status: "Pending", Error: "client version 1.31 is too old"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("ParseDockerInfoNodes = %+v, want %+v", got, want)
	}
}

func TestRenamedNICs(t *testing.T) {
	b, err := os.ReadFile("testdata/predictable-names-console.log")
	if err != nil {
		t.Fatal(err)
	}
	if got := RenamedNICs(string(b)); !slices.Equal(got, []string{"ens2"}) {
		t.Errorf("RenamedNICs = %v, want [ens2] (the veth lines are Docker's)", got)
	}
	journal := "Dec 06 03:10:11 node-1 kernel: virtio_net virtio0 ens2: renamed from eth0\n" +
		"Dec 06 03:10:11 node-1 kernel: e1000 0000:00:04.0 enp0s4: renamed from eth1\n"
	if got := RenamedNICs(journal); !slices.Equal(got, []string{"ens2", "enp0s4"}) {
		t.Errorf("RenamedNICs = %v, want [ens2 enp0s4]", got)
	}
	if got := RenamedNICs("[    2.3] virtio_net virtio0 eth0: link up\n"); len(got) != 0 {
		t.Errorf("a NIC that kept its kernel name reads as renamed: %v", got)
	}
}

// WithValidity's copy is the same cluster, its certificates lasting what
// the renewal test asks, and loads on its own (its snippets left out).
func TestWithValidity(t *testing.T) {
	abs, err := filepath.Abs("testdata/docker29.yaml")
	if err != nil {
		t.Fatal(err)
	}
	orig, rep, err := cluster.LoadFile(abs)
	if err != nil || rep.Err(false) != nil {
		t.Fatalf("%v %v", err, rep)
	}
	copied, err := WithValidity(abs, t.TempDir(), 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	c, rep, err := cluster.LoadFile(copied)
	if err != nil || rep.Err(false) != nil {
		t.Fatalf("%v %v", err, rep)
	}
	if c.TLS.Validity != 10*time.Minute || c.TLS.RenewBefore != orig.TLS.RenewBefore || orig.TLS.Validity == c.TLS.Validity {
		t.Errorf("tls %+v, the original's %+v", c.TLS, orig.TLS)
	}
	if len(c.Snippets.Of(profiles.CloudConfig)) != 0 || len(orig.Snippets.Of(profiles.CloudConfig)) == 0 {
		t.Error("the copy keeps the original's snippets, whose paths are relative to it")
	}
	if c.Name != orig.Name || len(c.Nodes) != len(orig.Nodes) || c.Nodes[2].IP != orig.Nodes[2].IP {
		t.Errorf("another cluster: %s %v", c.Name, c.Nodes)
	}
}
